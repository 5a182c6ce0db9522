/* qmp-client.h: the QEMU Machine Protocol over a unix socket: the greeting,
 * capabilities negotiation, then commands with ids whose replies may come
 * after events. One connection per client; commands may overlap. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define QMP_TYPE_CLIENT (qmp_client_get_type ())
G_DECLARE_FINAL_TYPE (QmpClient, qmp_client, QMP, CLIENT, GObject)

/* Called for every asynchronous event ("SHUTDOWN", "POWERDOWN" …);
 * @data may be NULL. */
typedef void (*QmpEventFunc) (QmpClient  *client,
                              const char *event,
                              JsonObject *data,
                              gpointer    user_data);

/* Connects, reads the greeting and leaves capabilities negotiation mode. */
void        qmp_client_connect_async  (const char          *socket_path,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data);
QmpClient  *qmp_client_connect_finish (GAsyncResult        *result,
                                       GError             **error);

void        qmp_client_set_event_func (QmpClient           *client,
                                       QmpEventFunc         func,
                                       gpointer             user_data);

/* Sends { "execute": @command, "arguments": @arguments, "id": … }.
 * @arguments may be NULL and is not taken. The result is qemu's "return"
 * value; an "error" reply is a BANGER_ERROR_FAILED naming @command and
 * qemu's "desc". @cancellable is looked at when the reply arrives. */
void        qmp_client_execute_async  (QmpClient           *client,
                                       const char          *command,
                                       JsonObject          *arguments,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data);
JsonNode   *qmp_client_execute_finish (QmpClient           *client,
                                       GAsyncResult        *result,
                                       GError             **error);

/* Ends the connection; commands still waiting fail. */
void        qmp_client_close          (QmpClient           *client);
gboolean    qmp_client_is_closed      (QmpClient           *client);

G_END_DECLS
