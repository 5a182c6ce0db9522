/* agent-client.h: bangerd's side of the guest agent channel
 * (docs/agent-protocol.md) over any connected GIOStream. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  guint protocol_version;
  char *kernel_release;
  char *hostname;
  guint64 uptime_ms;
} AgentGuestInfo;

void agent_guest_info_free (AgentGuestInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentGuestInfo, agent_guest_info_free)

typedef struct {
  int exit_code;  /* -1 when killed by a signal */
  int signal;     /* 0 unless killed by a signal */
  int exec_errno; /* non-zero: the command could not be started (exit code
                   * 127 or 126, the reason was written to its stderr) */
} AgentExitStatus;

#define AGENT_TYPE_CLIENT (agent_client_get_type ())
G_DECLARE_FINAL_TYPE (AgentClient, agent_client, AGENT, CLIENT, GObject)

/* Takes a ref on @stream and starts reading from it at once. Emits
 * "closed" (GError *reason) once when the connection ends for any reason;
 * everything pending then fails with G_IO_ERROR_CONNECTION_CLOSED. The
 * client keeps itself alive while the connection is open: call
 * agent_client_close() to end it. */
AgentClient *agent_client_new (GIOStream *stream);
void agent_client_close (AgentClient *self);
gboolean agent_client_is_closed (AgentClient *self);

/* Sends HELLO (required first on every connection) and completes with the
 * agent's answer. */
void            agent_client_hello_async  (AgentClient         *self,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
AgentGuestInfo *agent_client_hello_finish (AgentClient         *self,
                                           GAsyncResult        *result,
                                           GError             **error);

/* Runs @argv in the guest with exactly @envp (NULL: empty) in @cwd (NULL:
 * "/"). The fds are duplicated, so the caller may close its own at once;
 * -1 for @stdin_fd means /dev/null, -1 for an output discards it. Output
 * is written as the caller's fds accept it (the agent is paced by the
 * stream window, nothing is buffered without bound); the fds may be
 * blocking. Completes after the exit status and every output byte have
 * arrived. Cancelling @cancellable sends SIGKILL to the command's process
 * group and completes with G_IO_ERROR_CANCELLED. Returns the exec's id
 * for agent_client_signal_exec(). */
guint32  agent_client_exec_async  (AgentClient         *self,
                                   const char * const  *argv,
                                   const char * const  *envp,
                                   const char          *cwd,
                                   int                  stdin_fd,
                                   int                  stdout_fd,
                                   int                  stderr_fd,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data);
gboolean agent_client_exec_finish (AgentClient         *self,
                                   GAsyncResult        *result,
                                   AgentExitStatus     *status,
                                   GError             **error);

/* Sends @signo to the exec's process group; a no-op once it has ended. */
void agent_client_signal_exec (AgentClient *self,
                               guint32      exec_id,
                               int          signo);

/* Asks the agent to sync and power the guest off; completes when the agent
 * has acknowledged, before the guest is actually down. */
void     agent_client_poweroff_async  (AgentClient         *self,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data);
gboolean agent_client_poweroff_finish (AgentClient         *self,
                                       GAsyncResult        *result,
                                       GError             **error);

G_END_DECLS
