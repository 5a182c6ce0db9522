/* agent-wire.h: the frame codec shared by bangerd and the guest agent
 * (docs/agent-protocol.md). Plain C11, no GLib: the agent is static. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGENT_WIRE_VERSION 1
#define AGENT_WIRE_HEADER_SIZE 12
#define AGENT_WIRE_MAX_PAYLOAD (64 * 1024)
/* Largest STDIN/STDOUT/STDERR payload a sender produces. */
#define AGENT_WIRE_DATA_CHUNK (32 * 1024)
/* Credit each side holds for each direction of a new stream. */
#define AGENT_WIRE_INITIAL_WINDOW (256 * 1024)
/* Most execs the agent runs at once. */
#define AGENT_WIRE_MAX_EXECS 256

typedef enum {
  AGENT_MSG_HELLO = 1,        /* both ways, stream 0 */
  AGENT_MSG_PING = 2,         /* host → agent, stream 0 */
  AGENT_MSG_PONG = 3,         /* agent → host, stream 0 */
  AGENT_MSG_ERROR = 4,        /* agent → host, any stream */
  AGENT_MSG_POWEROFF = 5,     /* host → agent, stream 0 */
  AGENT_MSG_POWEROFF_ACK = 6, /* agent → host, stream 0 */
  AGENT_MSG_EXEC = 16,        /* host → agent, opens a stream */
  AGENT_MSG_STDIN = 17,       /* host → agent */
  AGENT_MSG_STDIN_EOF = 18,   /* host → agent */
  AGENT_MSG_STDOUT = 19,      /* agent → host */
  AGENT_MSG_STDERR = 20,      /* agent → host */
  AGENT_MSG_WINDOW = 21,      /* both ways */
  AGENT_MSG_SIGNAL = 22,      /* host → agent */
  AGENT_MSG_EXIT = 23,        /* agent → host, closes the stream */
} AgentMsgType;

typedef enum {
  AGENT_ERR_PROTOCOL = 1,  /* malformed or unexpected frame; connection dropped */
  AGENT_ERR_VERSION = 2,   /* unsupported protocol version; connection dropped */
  AGENT_ERR_STREAM = 3,    /* stream id unknown or already in use */
  AGENT_ERR_EXEC = 4,      /* could not set up the exec (pipes, fork) */
  AGENT_ERR_LIMIT = 5,     /* too many execs */
} AgentErrCode;

#define AGENT_EXEC_FLAG_STDIN 0x1u  /* stdin frames follow; else /dev/null */

typedef enum {
  AGENT_EXIT_CODE = 0,    /* value is the exit status */
  AGENT_EXIT_SIGNAL = 1,  /* value is the signal that killed it */
} AgentExitKind;

typedef enum {
  AGENT_WIRE_NEED_MORE = 0,
  AGENT_WIRE_FRAME = 1,
  AGENT_WIRE_BAD = -1,         /* malformed header */
  AGENT_WIRE_BAD_VERSION = -2, /* well formed, other protocol version */
} AgentWireStatus;

typedef struct {
  uint8_t version;
  uint8_t type;
  uint16_t flags;
  uint32_t stream;
  uint32_t length;
  const uint8_t *payload; /* points into the decoded buffer */
} AgentWireFrame;

/* Decodes one frame from @buf. On AGENT_WIRE_FRAME, *@consumed is the
 * frame's size and @frame->payload points into @buf; on an error, *@why
 * names the problem. Never reads past @len. */
AgentWireStatus agent_wire_decode (const uint8_t  *buf,
                                   size_t          len,
                                   AgentWireFrame *frame,
                                   size_t         *consumed,
                                   const char    **why);

bool agent_wire_type_known (uint8_t type);
const char *agent_wire_type_name (uint8_t type);

/* A growable byte buffer (malloc) frames are appended to. */
typedef struct {
  uint8_t *data;
  size_t len;
  size_t cap;
} AgentWireBuf;

void agent_wire_buf_clear (AgentWireBuf *buf);
bool agent_wire_buf_reserve (AgentWireBuf *buf, size_t extra);
bool agent_wire_buf_append (AgentWireBuf *buf, const void *data, size_t len);
/* Drops the first @n bytes. */
void agent_wire_buf_consume (AgentWireBuf *buf, size_t n);

/* Payloads. Parsed strings are NUL-terminated malloc copies; parsers
 * reject embedded NULs, trailing bytes and anything not fitting. */
typedef struct {
  uint32_t version;
  char *kernel_release;
  char *hostname;
  uint64_t uptime_ms;
} AgentWireHello;

typedef struct {
  uint32_t code;
  char *message;
} AgentWireError;

typedef struct {
  uint32_t flags;
  char *cwd;
  char **argv;  /* NULL-terminated, at least one element */
  char **envp;  /* NULL-terminated */
} AgentWireExec;

typedef struct {
  uint32_t kind;       /* AgentExitKind */
  uint32_t value;
  uint32_t exec_errno; /* non-zero when the command could not be started */
} AgentWireExit;

/* Each appends one whole frame to @out; false when out of memory or the
 * payload would exceed AGENT_WIRE_MAX_PAYLOAD (then @out is unchanged). */
bool agent_wire_put_frame (AgentWireBuf *out, uint8_t type, uint32_t stream,
                           const void *payload, size_t len);
bool agent_wire_put_u32 (AgentWireBuf *out, uint8_t type, uint32_t stream,
                         uint32_t value);
bool agent_wire_put_u64 (AgentWireBuf *out, uint8_t type, uint32_t stream,
                         uint64_t value);
bool agent_wire_put_hello (AgentWireBuf *out, const AgentWireHello *hello);
bool agent_wire_put_error (AgentWireBuf *out, uint32_t stream, uint32_t code,
                           const char *message);
bool agent_wire_put_exec (AgentWireBuf *out, uint32_t stream,
                          const AgentWireExec *exec);
bool agent_wire_put_exit (AgentWireBuf *out, uint32_t stream,
                          const AgentWireExit *exit_status);

/* Payloads of WINDOW, SIGNAL (u32) and PING/PONG (u64). */
bool agent_wire_parse_u32 (const AgentWireFrame *frame, uint32_t *value);
bool agent_wire_parse_u64 (const AgentWireFrame *frame, uint64_t *value);
bool agent_wire_parse_hello (const AgentWireFrame *frame, AgentWireHello *hello);
bool agent_wire_parse_error (const AgentWireFrame *frame, AgentWireError *error);
bool agent_wire_parse_exec (const AgentWireFrame *frame, AgentWireExec *exec);
bool agent_wire_parse_exit (const AgentWireFrame *frame, AgentWireExit *exit_status);

void agent_wire_hello_clear (AgentWireHello *hello);
void agent_wire_error_clear (AgentWireError *error);
void agent_wire_exec_clear (AgentWireExec *exec);
