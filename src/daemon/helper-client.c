/* helper-client.c: one generic async call to the helper. The helper is
 * D-Bus activated, so the first call of a while may take a moment. */
#define G_LOG_DOMAIN "bangerd-helper"

#include "config.h"

#include <glib/gi18n.h>

#include "banger-error.h"
#include "helper-client.h"

#define HELPER_BUS_NAME    "dev.banger.Helper1"
#define HELPER_OBJECT_PATH "/dev/banger/Helper1"
#define HELPER_INTERFACE   "dev.banger.Helper1"
/* Long enough for a person to answer a polkit dialog. */
#define HELPER_TIMEOUT_MS  (120 * 1000)

typedef struct {
  char         *method;
  GVariant     *parameters;
  GVariantType *reply_type;
} CallData;

static void
call_data_free (CallData *data)
{
  g_free (data->method);
  g_variant_unref (data->parameters);
  g_variant_type_free (data->reply_type);
  g_free (data);
}

static void
on_call_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CallData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  GVariant *reply;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    {
      g_dbus_error_strip_remote_error (error);
      if (error->domain != BANGER_ERROR)
        {
          /* Bus-level failures: no helper installed, bus refused, timeout. */
          g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                                   _("banger-helper did not answer %s: %s. Is banger "
                                     "installed with its system service (banger doctor)?"),
                                   data->method, error->message);
          return;
        }
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task, reply, (GDestroyNotify) g_variant_unref);
}

static void
on_bus_ready (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CallData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = g_bus_get_finish (result, &error);

  if (bus == NULL)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                               _("Cannot reach the system bus to call banger-helper: %s"),
                               error->message);
      return;
    }
  g_dbus_connection_call (bus, HELPER_BUS_NAME, HELPER_OBJECT_PATH, HELPER_INTERFACE,
                          data->method, data->parameters, data->reply_type,
                          G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION,
                          HELPER_TIMEOUT_MS, g_task_get_cancellable (task),
                          on_call_done, g_object_ref (task));
}

void
helper_call_async (const char          *method,
                   GVariant            *parameters,
                   const GVariantType  *reply_type,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  CallData *data = g_new0 (CallData, 1);

  data->method = g_strdup (method);
  data->parameters = g_variant_ref_sink (parameters != NULL ? parameters
                                                            : g_variant_new ("()"));
  data->reply_type = g_variant_type_copy (reply_type);
  g_task_set_task_data (task, data, (GDestroyNotify) call_data_free);
  g_bus_get (G_BUS_TYPE_SYSTEM, cancellable, on_bus_ready, g_steal_pointer (&task));
}

GVariant *
helper_call_finish (GAsyncResult  *result,
                    GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
