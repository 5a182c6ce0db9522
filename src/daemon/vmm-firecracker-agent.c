/* vmm-firecracker-agent.c: the host end of the guest agent's vsock channel
 * under Firecracker. Firecracker exposes guest vsock ports on the unix
 * socket configured with PUT /vsock (uds_path, in the runtime dir): the
 * host connects, writes "CONNECT <port>\n" and reads "OK <host port>\n";
 * after that the stream carries the agent's bytes. */
#define G_LOG_DOMAIN "bangerd-firecracker"

#include "config.h"

#include <string.h>

#include <gio/gunixsocketaddress.h>
#include <glib/gi18n.h>

#include "banger-error.h"
#include "vmm-driver.h"

/* "OK 1073741824\n" fits many times over. */
#define MAX_REPLY_BYTES 64

typedef struct {
  GIOStream *stream;
  char      *request;
  char       reply[MAX_REPLY_BYTES + 1];
  gsize      length;
} Handshake;

static void
handshake_free (Handshake *hs)
{
  g_clear_object (&hs->stream);
  g_free (hs->request);
  g_free (hs);
}

static void read_byte (GTask *task);

/* Byte by byte: whatever follows the newline is the agent's, and must stay
 * in the socket for the caller. */
static void
on_byte (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  Handshake *hs = g_task_get_task_data (task);
  GError *error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  guint64 port;

  if (n < 0)
    {
      g_prefix_error (&error, _("Firecracker's vsock handshake failed: "));
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  if (n == 0)
    {
      /* Firecracker closes the connection when nothing listens on the
       * port in the guest (yet). */
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                               _("Firecracker closed the vsock connection after “%s” "
                                 "(is the guest agent listening?)"), g_strchomp (hs->request));
      g_object_unref (task);
      return;
    }
  if (hs->reply[hs->length] != '\n')
    {
      if (++hs->length < MAX_REPLY_BYTES)
        return read_byte (task);
      hs->reply[hs->length] = '\0';
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                               _("Firecracker's vsock handshake reply is too long"));
      g_object_unref (task);
      return;
    }
  hs->reply[hs->length] = '\0';
  if (!g_str_has_prefix (hs->reply, "OK ") ||
      !g_ascii_string_to_unsigned (hs->reply + 3, 10, 0, G_MAXUINT32, &port, NULL))
    {
      g_autofree char *valid = g_utf8_make_valid (hs->reply, -1);

      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                               _("Firecracker answered “%s” to the vsock CONNECT, not “OK "
                                 "<port>”"), valid);
      g_object_unref (task);
      return;
    }
  g_debug ("vsock connected through host port %" G_GUINT64_FORMAT, port);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
read_byte (GTask *task)
{
  Handshake *hs = g_task_get_task_data (task);

  g_input_stream_read_async (g_io_stream_get_input_stream (hs->stream), hs->reply + hs->length,
                             1, G_PRIORITY_DEFAULT, g_task_get_cancellable (task), on_byte, task);
}

static void
on_request_written (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    {
      g_prefix_error (&error, _("Firecracker's vsock handshake failed: "));
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  read_byte (task);
}

void
vmm_firecracker_vsock_handshake_async (GIOStream           *stream,
                                       guint                port,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  GTask *task = g_task_new (stream, cancellable, callback, user_data);
  Handshake *hs = g_new0 (Handshake, 1);

  hs->stream = g_object_ref (stream);
  hs->request = g_strdup_printf ("CONNECT %u\n", port);
  g_task_set_task_data (task, hs, (GDestroyNotify) handshake_free);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (stream), hs->request,
                                   strlen (hs->request), G_PRIORITY_DEFAULT, cancellable,
                                   on_request_written, task);
}

gboolean
vmm_firecracker_vsock_handshake_finish (GAsyncResult  *result,
                                        GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
on_handshake (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!vmm_firecracker_vsock_handshake_finish (result, &error))
    {
      g_io_stream_close (G_IO_STREAM (source), NULL, NULL);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, g_object_ref (source), g_object_unref);
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  g_autoptr(GSocketConnection) connection =
    g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, &error);

  if (connection == NULL)
    {
      g_prefix_error (&error, _("Cannot connect to Firecracker's vsock socket: "));
      g_task_return_error (task, error);
      return;
    }
  vmm_firecracker_vsock_handshake_async (G_IO_STREAM (connection), BANGER_AGENT_VSOCK_PORT,
                                         g_task_get_cancellable (task), on_handshake,
                                         g_object_ref (task));
}

void
vmm_firecracker_agent_connect_async (VmmInstance         *instance,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_autofree char *path = g_build_filename (instance->runtime_dir,
                                            VMM_FIRECRACKER_VSOCK_SOCKET, NULL);
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (path);
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  g_socket_client_connect_async (client, G_SOCKET_CONNECTABLE (address), cancellable,
                                 on_connected, task);
}

GIOStream *
vmm_firecracker_agent_connect_finish (GAsyncResult  *result,
                                      GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
