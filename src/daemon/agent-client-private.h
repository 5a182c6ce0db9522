/* agent-client-private.h: what agent-client.c (the connection) and
 * agent-client-exec.c (each exec's stdio) share. */
#pragma once

#include "agent-client.h"
#include "agent-wire.h"

#define READ_CHUNK (64 * 1024)

typedef struct _ClientExec ClientExec;

struct _AgentClient {
  GObject parent_instance;

  GIOStream *stream;
  GMainContext *context;
  GCancellable *cancellable; /* cancelled on close: ends the read loop */
  GByteArray *inbuf;
  guint8 *read_chunk;
  GQueue write_queue;        /* GBytes */
  gboolean writing;
  gboolean closed;
  gboolean closing_stream;

  GQueue hellos;             /* Pending */
  GQueue poweroffs;          /* Pending */
  GHashTable *execs;         /* id → ClientExec */
  guint32 next_id;
};

struct _ClientExec {
  AgentClient *client;       /* unowned: the exec lives in client->execs */
  guint32 id;
  char *name;                /* argv[0], for messages */
  GTask *task;               /* NULL once completed */
  GSource *cancel_source;

  int stdin_fd;
  GSource *stdin_source;
  guint32 stdin_window;
  gboolean stdin_done;

  int out_fd[2];             /* stdout, stderr */
  gboolean out_blocking[2];
  GSource *out_source[2];
  GQueue out_pending[2];     /* GBytes */
  gsize out_offset[2];       /* into the head of out_pending */
  guint32 out_window_used;   /* bytes the agent sent us not yet granted back */

  gboolean exited;
  AgentExitStatus status;
};

void agent_client_source_clear (GSource **source);
void agent_client_fd_clear (int *fd);
/* Queues the frames in @buf (which is emptied); @ok is the encoder's
 * result. */
void agent_client_send_buf (AgentClient *self, AgentWireBuf *buf, gboolean ok);
void agent_client_send_u32 (AgentClient *self, guint8 type, guint32 stream, guint32 value);
/* "The guest agent broke the protocol: @what" */
GError *agent_client_protocol_error (const char *what);
/* Ends the connection once; takes @error. */
void agent_client_fail (AgentClient *self, GError *error);

void client_exec_free (ClientExec *exec);
void client_exec_stop_io (ClientExec *exec);
void client_exec_return_error (ClientExec *exec, GError *error);
void client_exec_frame (AgentClient *self, const AgentWireFrame *frame);
