/* agent-wire.c: encodes and decodes agent protocol frames; every length
 * comes from the peer, so each read is checked against what is left. */
#include "agent-wire.h"

#include <stdlib.h>
#include <string.h>

static uint32_t
get_u32 (const uint8_t *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static void
set_u32 (uint8_t *p, uint32_t v)
{
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = (v >> 16) & 0xff;
  p[3] = (v >> 24) & 0xff;
}

static const struct {
  uint8_t type;
  const char *name;
  bool on_stream; /* carries a non-zero stream id */
} types[] = {
  { AGENT_MSG_HELLO, "HELLO", false },
  { AGENT_MSG_PING, "PING", false },
  { AGENT_MSG_PONG, "PONG", false },
  { AGENT_MSG_ERROR, "ERROR", false }, /* either */
  { AGENT_MSG_POWEROFF, "POWEROFF", false },
  { AGENT_MSG_POWEROFF_ACK, "POWEROFF_ACK", false },
  { AGENT_MSG_EXEC, "EXEC", true },
  { AGENT_MSG_STDIN, "STDIN", true },
  { AGENT_MSG_STDIN_EOF, "STDIN_EOF", true },
  { AGENT_MSG_STDOUT, "STDOUT", true },
  { AGENT_MSG_STDERR, "STDERR", true },
  { AGENT_MSG_WINDOW, "WINDOW", true },
  { AGENT_MSG_SIGNAL, "SIGNAL", true },
  { AGENT_MSG_EXIT, "EXIT", true },
};

static int
type_index (uint8_t type)
{
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (types[i].type == type)
      return (int) i;
  return -1;
}

bool
agent_wire_type_known (uint8_t type)
{
  return type_index (type) >= 0;
}

const char *
agent_wire_type_name (uint8_t type)
{
  int i = type_index (type);
  return i >= 0 ? types[i].name : "UNKNOWN";
}

AgentWireStatus
agent_wire_decode (const uint8_t  *buf,
                   size_t          len,
                   AgentWireFrame *frame,
                   size_t         *consumed,
                   const char    **why)
{
  const char *ignored;
  int idx;

  if (why == NULL)
    why = &ignored;
  *consumed = 0;
  if (len < AGENT_WIRE_HEADER_SIZE)
    return AGENT_WIRE_NEED_MORE;

  frame->length = get_u32 (buf);
  frame->version = buf[4];
  frame->type = buf[5];
  frame->flags = (uint16_t) (buf[6] | buf[7] << 8);
  frame->stream = get_u32 (buf + 8);
  frame->payload = NULL;

  /* The version is checked first so a newer peer gets a clear answer. */
  if (frame->version != AGENT_WIRE_VERSION)
    {
      *why = "unsupported protocol version";
      return AGENT_WIRE_BAD_VERSION;
    }
  if (frame->length > AGENT_WIRE_MAX_PAYLOAD)
    {
      *why = "frame larger than the maximum";
      return AGENT_WIRE_BAD;
    }
  if (frame->flags != 0)
    {
      *why = "reserved flags set";
      return AGENT_WIRE_BAD;
    }
  idx = type_index (frame->type);
  if (idx < 0)
    {
      *why = "unknown frame type";
      return AGENT_WIRE_BAD;
    }
  if (frame->type != AGENT_MSG_ERROR && types[idx].on_stream != (frame->stream != 0))
    {
      *why = types[idx].on_stream ? "stream frame on stream 0" : "connection frame on a stream";
      return AGENT_WIRE_BAD;
    }
  if (len - AGENT_WIRE_HEADER_SIZE < frame->length)
    return AGENT_WIRE_NEED_MORE;

  frame->payload = buf + AGENT_WIRE_HEADER_SIZE;
  *consumed = AGENT_WIRE_HEADER_SIZE + (size_t) frame->length;
  return AGENT_WIRE_FRAME;
}

void
agent_wire_buf_clear (AgentWireBuf *buf)
{
  free (buf->data);
  buf->data = NULL;
  buf->len = buf->cap = 0;
}

bool
agent_wire_buf_reserve (AgentWireBuf *buf, size_t extra)
{
  size_t cap;
  uint8_t *data;

  if (buf->cap - buf->len >= extra)
    return true;
  if (extra > SIZE_MAX / 2 - buf->len)
    return false;
  cap = buf->cap ? buf->cap : 4096;
  while (cap - buf->len < extra)
    cap *= 2;
  data = realloc (buf->data, cap);
  if (data == NULL)
    return false;
  buf->data = data;
  buf->cap = cap;
  return true;
}

bool
agent_wire_buf_append (AgentWireBuf *buf, const void *data, size_t len)
{
  if (len == 0)
    return true;
  if (!agent_wire_buf_reserve (buf, len))
    return false;
  memcpy (buf->data + buf->len, data, len);
  buf->len += len;
  return true;
}

void
agent_wire_buf_consume (AgentWireBuf *buf, size_t n)
{
  if (n >= buf->len)
    {
      buf->len = 0;
      return;
    }
  memmove (buf->data, buf->data + n, buf->len - n);
  buf->len -= n;
}

/* Payload building: a frame is reserved up front, filled, then its header
 * written once the payload length is known. */
typedef struct {
  AgentWireBuf *out;
  size_t start;
  bool ok;
} Builder;

static Builder
builder_begin (AgentWireBuf *out)
{
  Builder b = { out, out->len, true };
  uint8_t header[AGENT_WIRE_HEADER_SIZE] = { 0 };

  b.ok = agent_wire_buf_append (out, header, sizeof header);
  return b;
}

static void
builder_bytes (Builder *b, const void *data, size_t len)
{
  if (b->ok && b->out->len - b->start - AGENT_WIRE_HEADER_SIZE + len > AGENT_WIRE_MAX_PAYLOAD)
    b->ok = false;
  if (b->ok)
    b->ok = agent_wire_buf_append (b->out, data, len);
}

static void
builder_u32 (Builder *b, uint32_t v)
{
  uint8_t raw[4];

  set_u32 (raw, v);
  builder_bytes (b, raw, sizeof raw);
}

static void
builder_u64 (Builder *b, uint64_t v)
{
  builder_u32 (b, (uint32_t) v);
  builder_u32 (b, (uint32_t) (v >> 32));
}

static void
builder_str (Builder *b, const char *s)
{
  size_t len = s ? strlen (s) : 0;

  if (len > AGENT_WIRE_MAX_PAYLOAD)
    {
      b->ok = false;
      return;
    }
  builder_u32 (b, (uint32_t) len);
  builder_bytes (b, s, len);
}

static void
builder_strv (Builder *b, char *const *v)
{
  uint32_t n = 0;

  while (v != NULL && v[n] != NULL)
    n++;
  builder_u32 (b, n);
  for (uint32_t i = 0; i < n; i++)
    builder_str (b, v[i]);
}

static bool
builder_end (Builder *b, uint8_t type, uint32_t stream)
{
  uint8_t *h;

  if (!b->ok)
    {
      if (b->out->len > b->start)
        b->out->len = b->start;
      return false;
    }
  h = b->out->data + b->start;
  set_u32 (h, (uint32_t) (b->out->len - b->start - AGENT_WIRE_HEADER_SIZE));
  h[4] = AGENT_WIRE_VERSION;
  h[5] = type;
  h[6] = h[7] = 0;
  set_u32 (h + 8, stream);
  return true;
}

bool
agent_wire_put_frame (AgentWireBuf *out, uint8_t type, uint32_t stream,
                      const void *payload, size_t len)
{
  Builder b = builder_begin (out);

  builder_bytes (&b, payload, len);
  return builder_end (&b, type, stream);
}

bool
agent_wire_put_u32 (AgentWireBuf *out, uint8_t type, uint32_t stream, uint32_t value)
{
  Builder b = builder_begin (out);

  builder_u32 (&b, value);
  return builder_end (&b, type, stream);
}

bool
agent_wire_put_u64 (AgentWireBuf *out, uint8_t type, uint32_t stream, uint64_t value)
{
  Builder b = builder_begin (out);

  builder_u64 (&b, value);
  return builder_end (&b, type, stream);
}

bool
agent_wire_put_hello (AgentWireBuf *out, const AgentWireHello *hello)
{
  Builder b = builder_begin (out);

  builder_u32 (&b, hello->version);
  builder_str (&b, hello->kernel_release);
  builder_str (&b, hello->hostname);
  builder_u64 (&b, hello->uptime_ms);
  return builder_end (&b, AGENT_MSG_HELLO, 0);
}

bool
agent_wire_put_error (AgentWireBuf *out, uint32_t stream, uint32_t code, const char *message)
{
  Builder b = builder_begin (out);

  builder_u32 (&b, code);
  builder_str (&b, message);
  return builder_end (&b, AGENT_MSG_ERROR, stream);
}

bool
agent_wire_put_exec (AgentWireBuf *out, uint32_t stream, const AgentWireExec *exec)
{
  Builder b = builder_begin (out);

  if (exec->argv == NULL || exec->argv[0] == NULL)
    b.ok = false;
  builder_u32 (&b, exec->flags);
  builder_str (&b, exec->cwd);
  builder_strv (&b, exec->argv);
  builder_strv (&b, exec->envp);
  return builder_end (&b, AGENT_MSG_EXEC, stream);
}

bool
agent_wire_put_exit (AgentWireBuf *out, uint32_t stream, const AgentWireExit *exit_status)
{
  Builder b = builder_begin (out);

  builder_u32 (&b, exit_status->kind);
  builder_u32 (&b, exit_status->value);
  builder_u32 (&b, exit_status->exec_errno);
  return builder_end (&b, AGENT_MSG_EXIT, stream);
}

/* Parsing: a cursor over the payload that fails sticky. */
typedef struct {
  const uint8_t *p;
  size_t left;
  bool ok;
} Reader;

static Reader
reader_new (const AgentWireFrame *frame)
{
  Reader r = { frame->payload, frame->length, frame->payload != NULL || frame->length == 0 };
  return r;
}

static uint32_t
read_u32 (Reader *r)
{
  uint32_t v;

  if (!r->ok || r->left < 4)
    {
      r->ok = false;
      return 0;
    }
  v = get_u32 (r->p);
  r->p += 4;
  r->left -= 4;
  return v;
}

static uint64_t
read_u64 (Reader *r)
{
  uint64_t lo = read_u32 (r);
  uint64_t hi = read_u32 (r);
  return lo | hi << 32;
}

static char *
read_str (Reader *r)
{
  uint32_t len = read_u32 (r);
  char *s;

  if (!r->ok || len > r->left || memchr (r->p, '\0', len) != NULL)
    {
      r->ok = false;
      return NULL;
    }
  s = malloc ((size_t) len + 1);
  if (s == NULL)
    {
      r->ok = false;
      return NULL;
    }
  memcpy (s, r->p, len);
  s[len] = '\0';
  r->p += len;
  r->left -= len;
  return s;
}

static void
strv_free (char **v)
{
  for (size_t i = 0; v != NULL && v[i] != NULL; i++)
    free (v[i]);
  free (v);
}

static char **
read_strv (Reader *r)
{
  uint32_t n = read_u32 (r);
  char **v;

  /* Every string needs at least its 4-byte length: bounds n before malloc. */
  if (!r->ok || n > r->left / 4)
    {
      r->ok = false;
      return NULL;
    }
  v = calloc ((size_t) n + 1, sizeof *v);
  if (v == NULL)
    {
      r->ok = false;
      return NULL;
    }
  for (uint32_t i = 0; i < n && r->ok; i++)
    v[i] = read_str (r);
  if (!r->ok)
    {
      strv_free (v);
      return NULL;
    }
  return v;
}

static bool
reader_done (Reader *r)
{
  return r->ok && r->left == 0;
}

bool
agent_wire_parse_u32 (const AgentWireFrame *frame, uint32_t *value)
{
  Reader r = reader_new (frame);

  *value = read_u32 (&r);
  return reader_done (&r);
}

bool
agent_wire_parse_u64 (const AgentWireFrame *frame, uint64_t *value)
{
  Reader r = reader_new (frame);

  *value = read_u64 (&r);
  return reader_done (&r);
}

bool
agent_wire_parse_hello (const AgentWireFrame *frame, AgentWireHello *hello)
{
  Reader r = reader_new (frame);

  memset (hello, 0, sizeof *hello);
  hello->version = read_u32 (&r);
  hello->kernel_release = read_str (&r);
  hello->hostname = read_str (&r);
  hello->uptime_ms = read_u64 (&r);
  if (!reader_done (&r))
    {
      agent_wire_hello_clear (hello);
      return false;
    }
  return true;
}

bool
agent_wire_parse_error (const AgentWireFrame *frame, AgentWireError *error)
{
  Reader r = reader_new (frame);

  memset (error, 0, sizeof *error);
  error->code = read_u32 (&r);
  error->message = read_str (&r);
  if (!reader_done (&r))
    {
      agent_wire_error_clear (error);
      return false;
    }
  return true;
}

bool
agent_wire_parse_exec (const AgentWireFrame *frame, AgentWireExec *exec)
{
  Reader r = reader_new (frame);

  memset (exec, 0, sizeof *exec);
  exec->flags = read_u32 (&r);
  exec->cwd = read_str (&r);
  exec->argv = read_strv (&r);
  exec->envp = read_strv (&r);
  if (!reader_done (&r) || (exec->flags & ~AGENT_EXEC_FLAG_STDIN) != 0
      || exec->argv[0] == NULL || exec->argv[0][0] == '\0')
    {
      agent_wire_exec_clear (exec);
      return false;
    }
  return true;
}

bool
agent_wire_parse_exit (const AgentWireFrame *frame, AgentWireExit *exit_status)
{
  Reader r = reader_new (frame);

  exit_status->kind = read_u32 (&r);
  exit_status->value = read_u32 (&r);
  exit_status->exec_errno = read_u32 (&r);
  return reader_done (&r)
         && (exit_status->kind == AGENT_EXIT_CODE || exit_status->kind == AGENT_EXIT_SIGNAL);
}

void
agent_wire_hello_clear (AgentWireHello *hello)
{
  free (hello->kernel_release);
  free (hello->hostname);
  hello->kernel_release = hello->hostname = NULL;
}

void
agent_wire_error_clear (AgentWireError *error)
{
  free (error->message);
  error->message = NULL;
}

void
agent_wire_exec_clear (AgentWireExec *exec)
{
  free (exec->cwd);
  strv_free (exec->argv);
  strv_free (exec->envp);
  exec->cwd = NULL;
  exec->argv = exec->envp = NULL;
}
