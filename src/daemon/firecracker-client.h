/* firecracker-client.h: bangerd's asynchronous client for one Firecracker
 * process's HTTP API on its unix socket (libsoup 3, JSON through json-glib). */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Per-request deadline; the Go SDK uses 500 ms, but our callers run on
 * loaded CI machines and Firecracker applies each PUT synchronously. */
#define FIRECRACKER_CLIENT_DEFAULT_REQUEST_TIMEOUT_MS 5000

typedef struct _FirecrackerClient FirecrackerClient;

/* Returns TRUE while the Firecracker process is still alive.  The daemon
 * flips a flag from its child watch (or the helper's exit signal) and
 * returns it here; wait_ready polls it before every attempt. */
typedef gboolean (*FirecrackerAliveFunc) (gpointer user_data);

/* Nothing connects until the first request.  _free drops the caller's
 * reference; requests in flight keep the client until they complete. */
FirecrackerClient *firecracker_client_new  (const char        *socket_path);
void               firecracker_client_free (FirecrackerClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FirecrackerClient, firecracker_client_free)

const char *firecracker_client_get_socket_path (FirecrackerClient *client);
guint       firecracker_client_get_request_timeout (FirecrackerClient *client);
/* Applies to requests started afterwards; 0 means no deadline. */
void        firecracker_client_set_request_timeout (FirecrackerClient *client,
                                                    guint              timeout_ms);

/* @method is "GET", "PUT" or "PATCH"; @path starts with '/'; @body may be
 * NULL and is serialised at once (the caller keeps its reference).
 * 204 (or any 2xx without a body) → TRUE with *out_reply NULL; 200 with a
 * JSON body → TRUE with the parsed reply.  Refusals, dropped connections
 * and timeouts are BANGER_ERROR_FAILED naming the request; cancelling
 * @cancellable gives G_IO_ERROR_CANCELLED. */
void      firecracker_client_request_async  (FirecrackerClient   *client,
                                             const char          *method,
                                             const char          *path,
                                             JsonNode            *body,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
gboolean  firecracker_client_request_finish (FirecrackerClient   *client,
                                             GAsyncResult        *result,
                                             JsonNode           **out_reply,
                                             GError             **error);

/* Polls (after 1 ms, backing off to every 10 ms; connect + GET
 * /machine-config) until the API answers
 * with 2xx.  Firecracker binds its socket before it listens, so refused or
 * missing sockets are retried.  Fails with BANGER_ERROR_FAILED after
 * @timeout_ms, or within one poll interval once @alive (optional) returns
 * FALSE; @cancellable is for the caller giving up (G_IO_ERROR_CANCELLED). */
void      firecracker_client_wait_ready_async  (FirecrackerClient    *client,
                                                guint                 timeout_ms,
                                                FirecrackerAliveFunc  alive,
                                                gpointer              alive_data,
                                                GCancellable         *cancellable,
                                                GAsyncReadyCallback   callback,
                                                gpointer              user_data);
gboolean  firecracker_client_wait_ready_finish (FirecrackerClient    *client,
                                                GAsyncResult         *result,
                                                GError              **error);

G_END_DECLS
