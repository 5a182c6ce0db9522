/* test-agent-wire.c: the agent frame codec round-trips every message and
 * rejects every malformed, truncated or oversized header and payload. */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "agent-wire.h"

static void
header (guint8 *h, guint32 length, guint8 version, guint8 type, guint16 flags, guint32 stream)
{
  h[0] = length & 0xff;
  h[1] = (length >> 8) & 0xff;
  h[2] = (length >> 16) & 0xff;
  h[3] = length >> 24;
  h[4] = version;
  h[5] = type;
  h[6] = flags & 0xff;
  h[7] = flags >> 8;
  h[8] = stream & 0xff;
  h[9] = (stream >> 8) & 0xff;
  h[10] = (stream >> 16) & 0xff;
  h[11] = stream >> 24;
}

/* Decodes exactly one frame that fills @buf. */
static AgentWireFrame
decode_one (const AgentWireBuf *buf)
{
  AgentWireFrame frame;
  size_t used = 0;

  g_assert_cmpint (agent_wire_decode (buf->data, buf->len, &frame, &used, NULL), ==, AGENT_WIRE_FRAME);
  g_assert_cmpuint (used, ==, buf->len);
  /* Every proper prefix is incomplete, never an error. */
  for (size_t n = 0; n < buf->len; n++)
    {
      AgentWireFrame partial;
      g_assert_cmpint (agent_wire_decode (buf->data, n, &partial, &used, NULL), ==, AGENT_WIRE_NEED_MORE);
      g_assert_cmpuint (used, ==, 0);
    }
  return frame;
}

static void
test_hello_round_trip (void)
{
  AgentWireBuf buf = { 0 };
  AgentWireHello in = { 1, (char *) "6.1.0-28-cloud-amd64", (char *) "web", G_GUINT64_CONSTANT (123456789012) };
  AgentWireHello out;
  AgentWireFrame frame;

  g_assert_true (agent_wire_put_hello (&buf, &in));
  frame = decode_one (&buf);
  g_assert_cmpuint (frame.type, ==, AGENT_MSG_HELLO);
  g_assert_cmpuint (frame.stream, ==, 0);
  g_assert_true (agent_wire_parse_hello (&frame, &out));
  g_assert_cmpuint (out.version, ==, 1);
  g_assert_cmpstr (out.kernel_release, ==, in.kernel_release);
  g_assert_cmpstr (out.hostname, ==, "web");
  g_assert_cmpuint (out.uptime_ms, ==, in.uptime_ms);
  agent_wire_hello_clear (&out);
  agent_wire_buf_clear (&buf);
}

static void
test_exec_round_trip (void)
{
  char *argv[] = { (char *) "sh", (char *) "-c", (char *) "", (char *) "echo $X", NULL };
  char *envp[] = { (char *) "X=1", (char *) "PATH=/bin", NULL };
  AgentWireExec in = { AGENT_EXEC_FLAG_STDIN, (char *) "/root", argv, envp }, out;
  AgentWireBuf buf = { 0 };
  AgentWireFrame frame;

  g_assert_true (agent_wire_put_exec (&buf, 42, &in));
  frame = decode_one (&buf);
  g_assert_cmpuint (frame.stream, ==, 42);
  g_assert_true (agent_wire_parse_exec (&frame, &out));
  g_assert_cmpuint (out.flags, ==, AGENT_EXEC_FLAG_STDIN);
  g_assert_cmpstr (out.cwd, ==, "/root");
  g_assert_cmpstrv ((const char * const *) out.argv, (const char * const *) argv);
  g_assert_cmpstrv ((const char * const *) out.envp, (const char * const *) envp);
  agent_wire_exec_clear (&out);

  /* Every truncation of the payload is refused. */
  for (guint32 len = 0; len < frame.length; len++)
    {
      AgentWireFrame cut = frame;

      cut.length = len;
      g_assert_false (agent_wire_parse_exec (&cut, &out));
    }
  agent_wire_buf_clear (&buf);
}

static void
test_small_messages (void)
{
  AgentWireBuf buf = { 0 };
  AgentWireFrame frame;
  AgentWireExit exit_in = { AGENT_EXIT_SIGNAL, 9, 0 }, exit_out;
  AgentWireError err;
  guint32 u32;
  guint64 u64;

  g_assert_true (agent_wire_put_u32 (&buf, AGENT_MSG_WINDOW, 7, 65536));
  frame = decode_one (&buf);
  g_assert_true (agent_wire_parse_u32 (&frame, &u32));
  g_assert_cmpuint (u32, ==, 65536);
  g_assert_false (agent_wire_parse_u64 (&frame, &u64));
  buf.len = 0;

  g_assert_true (agent_wire_put_u64 (&buf, AGENT_MSG_PING, 0, G_MAXUINT64 - 1));
  frame = decode_one (&buf);
  g_assert_true (agent_wire_parse_u64 (&frame, &u64));
  g_assert_cmpuint (u64, ==, G_MAXUINT64 - 1);
  buf.len = 0;

  g_assert_true (agent_wire_put_exit (&buf, 3, &exit_in));
  frame = decode_one (&buf);
  g_assert_true (agent_wire_parse_exit (&frame, &exit_out));
  g_assert_cmpuint (exit_out.kind, ==, AGENT_EXIT_SIGNAL);
  g_assert_cmpuint (exit_out.value, ==, 9);
  buf.len = 0;

  g_assert_true (agent_wire_put_error (&buf, 0, AGENT_ERR_VERSION, "too new"));
  frame = decode_one (&buf);
  g_assert_true (agent_wire_parse_error (&frame, &err));
  g_assert_cmpuint (err.code, ==, AGENT_ERR_VERSION);
  g_assert_cmpstr (err.message, ==, "too new");
  agent_wire_error_clear (&err);
  agent_wire_buf_clear (&buf);
}

static void
test_data_and_back_to_back (void)
{
  g_autofree guint8 *big = g_malloc (AGENT_WIRE_MAX_PAYLOAD + 1);
  AgentWireBuf buf = { 0 };
  AgentWireFrame frame;
  size_t used, offset = 0;

  memset (big, 'x', AGENT_WIRE_MAX_PAYLOAD + 1);
  g_assert_true (agent_wire_put_frame (&buf, AGENT_MSG_STDOUT, 1, big, AGENT_WIRE_MAX_PAYLOAD));
  g_assert_true (agent_wire_put_frame (&buf, AGENT_MSG_STDIN_EOF, 2, NULL, 0));
  /* One byte more than the maximum is refused and leaves @buf as it was. */
  g_assert_false (agent_wire_put_frame (&buf, AGENT_MSG_STDOUT, 1, big, AGENT_WIRE_MAX_PAYLOAD + 1));
  g_assert_cmpuint (buf.len, ==, 2 * AGENT_WIRE_HEADER_SIZE + AGENT_WIRE_MAX_PAYLOAD);

  g_assert_cmpint (agent_wire_decode (buf.data, buf.len, &frame, &used, NULL), ==, AGENT_WIRE_FRAME);
  g_assert_cmpuint (frame.length, ==, AGENT_WIRE_MAX_PAYLOAD);
  g_assert_true (frame.payload[0] == 'x' && frame.payload[frame.length - 1] == 'x');
  offset += used;
  g_assert_cmpint (agent_wire_decode (buf.data + offset, buf.len - offset, &frame, &used, NULL), ==, AGENT_WIRE_FRAME);
  g_assert_cmpuint (frame.type, ==, AGENT_MSG_STDIN_EOF);
  g_assert_cmpuint (frame.stream, ==, 2);
  g_assert_cmpuint (offset + used, ==, buf.len);
  agent_wire_buf_clear (&buf);
}

static void
test_bad_headers (void)
{
  static const struct {
    guint32 length;
    guint8 version, type;
    guint16 flags;
    guint32 stream;
    AgentWireStatus expect;
  } cases[] = {
    { 0, 0, AGENT_MSG_HELLO, 0, 0, AGENT_WIRE_BAD_VERSION },
    { 0, 2, AGENT_MSG_HELLO, 0, 0, AGENT_WIRE_BAD_VERSION },
    { AGENT_WIRE_MAX_PAYLOAD + 1, 1, AGENT_MSG_STDOUT, 0, 1, AGENT_WIRE_BAD },
    { G_MAXUINT32, 1, AGENT_MSG_STDOUT, 0, 1, AGENT_WIRE_BAD },
    { 0, 1, AGENT_MSG_HELLO, 1, 0, AGENT_WIRE_BAD },          /* reserved flags */
    { 0, 1, AGENT_MSG_HELLO, 0x8000, 0, AGENT_WIRE_BAD },
    { 0, 1, 0, 0, 0, AGENT_WIRE_BAD },                        /* unknown types */
    { 0, 1, 7, 0, 0, AGENT_WIRE_BAD },
    { 0, 1, 255, 0, 1, AGENT_WIRE_BAD },
    { 0, 1, AGENT_MSG_HELLO, 0, 5, AGENT_WIRE_BAD },          /* wrong stream */
    { 0, 1, AGENT_MSG_POWEROFF, 0, 1, AGENT_WIRE_BAD },
    { 4, 1, AGENT_MSG_WINDOW, 0, 0, AGENT_WIRE_BAD },
    { 0, 1, AGENT_MSG_EXIT, 0, 0, AGENT_WIRE_BAD },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint8 h[AGENT_WIRE_HEADER_SIZE];
      AgentWireFrame frame;
      const char *why = NULL;
      size_t used = 99;

      header (h, cases[i].length, cases[i].version, cases[i].type, cases[i].flags, cases[i].stream);
      g_assert_cmpint (agent_wire_decode (h, sizeof h, &frame, &used, &why), ==, cases[i].expect);
      g_assert_nonnull (why);
      g_assert_cmpuint (used, ==, 0);
    }
}

static AgentWireFrame
raw_frame (guint8 type, guint32 stream, const guint8 *payload, guint32 len)
{
  AgentWireFrame frame = { AGENT_WIRE_VERSION, type, 0, stream, len, payload };
  return frame;
}

static void
test_bad_payloads (void)
{
  /* HELLO whose kernel string claims more bytes than there are. */
  static const guint8 hello_long[] = { 1, 0, 0, 0, 0xff, 0, 0, 0, 'a', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
  /* HELLO with a NUL inside a string. */
  static const guint8 hello_nul[] = { 1, 0, 0, 0, 2, 0, 0, 0, 'a', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
  /* EXEC whose argc is huge: must fail before allocating for it. */
  static const guint8 exec_argc[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff };
  /* EXEC with no argv, and with an empty argv[0]. */
  static const guint8 exec_noargs[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
  static const guint8 exec_empty0[] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
  /* EXEC with unknown flags, otherwise fine (argv = {"a"}). */
  static const guint8 exec_flags[] = { 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 'a', 0, 0, 0, 0 };
  /* EXIT of an unknown kind; trailing bytes after a u32. */
  static const guint8 exit_kind[] = { 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
  static const guint8 u32_long[] = { 1, 0, 0, 0, 0 };
  AgentWireFrame frame;
  AgentWireHello hello;
  AgentWireExec exec;
  AgentWireExit exit_status;
  guint32 u32;

  frame = raw_frame (AGENT_MSG_HELLO, 0, hello_long, sizeof hello_long);
  g_assert_false (agent_wire_parse_hello (&frame, &hello));
  frame = raw_frame (AGENT_MSG_HELLO, 0, hello_nul, sizeof hello_nul);
  g_assert_false (agent_wire_parse_hello (&frame, &hello));
  frame = raw_frame (AGENT_MSG_EXEC, 1, exec_argc, sizeof exec_argc);
  g_assert_false (agent_wire_parse_exec (&frame, &exec));
  frame = raw_frame (AGENT_MSG_EXEC, 1, exec_noargs, sizeof exec_noargs);
  g_assert_false (agent_wire_parse_exec (&frame, &exec));
  frame = raw_frame (AGENT_MSG_EXEC, 1, exec_empty0, sizeof exec_empty0);
  g_assert_false (agent_wire_parse_exec (&frame, &exec));
  frame = raw_frame (AGENT_MSG_EXEC, 1, exec_flags, sizeof exec_flags);
  g_assert_false (agent_wire_parse_exec (&frame, &exec));
  frame = raw_frame (AGENT_MSG_EXIT, 1, exit_kind, sizeof exit_kind);
  g_assert_false (agent_wire_parse_exit (&frame, &exit_status));
  frame = raw_frame (AGENT_MSG_WINDOW, 1, u32_long, sizeof u32_long);
  g_assert_false (agent_wire_parse_u32 (&frame, &u32));
  frame = raw_frame (AGENT_MSG_WINDOW, 1, u32_long, 3);
  g_assert_false (agent_wire_parse_u32 (&frame, &u32));

  /* The same EXEC with flags 0 is fine: the cases above fail for the
   * reason they name, not by accident. */
  {
    guint8 ok[sizeof exec_flags];

    memcpy (ok, exec_flags, sizeof ok);
    ok[0] = 0;
    frame = raw_frame (AGENT_MSG_EXEC, 1, ok, sizeof ok);
    g_assert_true (agent_wire_parse_exec (&frame, &exec));
    g_assert_cmpstr (exec.argv[0], ==, "a");
    agent_wire_exec_clear (&exec);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/agent-wire/hello/round-trips", test_hello_round_trip);
  g_test_add_func ("/agent-wire/exec/round-trips-and-refuses-truncation", test_exec_round_trip);
  g_test_add_func ("/agent-wire/small-messages/round-trip", test_small_messages);
  g_test_add_func ("/agent-wire/data/max-size-and-back-to-back", test_data_and_back_to_back);
  g_test_add_func ("/agent-wire/header/refuses-malformed", test_bad_headers);
  g_test_add_func ("/agent-wire/payload/refuses-malformed", test_bad_payloads);
  return g_test_run ();
}
