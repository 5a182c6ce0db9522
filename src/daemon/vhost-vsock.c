/* vhost-vsock.c: claiming a guest CID on /dev/vhost-vsock for qemu, and
 * connecting to the guest agent over AF_VSOCK. */
#define G_LOG_DOMAIN "bangerd-qemu"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include <glib/gi18n.h>

#include "banger-error.h"
#include "vhost-vsock.h"

/* From <linux/vhost.h>: _IOW (VHOST_VIRTIO, 0x60, __u64). */
#define BANGER_VHOST_VIRTIO 0xAF
#define BANGER_VHOST_VSOCK_SET_GUEST_CID _IOW (BANGER_VHOST_VIRTIO, 0x60, guint64)

/* 0-2 are the hypervisor, the local loopback and the host; U32_MAX is
 * VMADDR_CID_ANY. Claims stay in the lower half so a wrap is cheap. */
#define CID_FIRST  3u
#define CID_LAST   0x7fffffffu
/* Each try is one ioctl; a busy host has a few hundred guests at most. */
#define MAX_TRIES  64

#define CONNECT_TIMEOUT_MS 2000

static int
set_cid_ioctl (int     fd,
               guint64 cid)
{
  return ioctl (fd, BANGER_VHOST_VSOCK_SET_GUEST_CID, &cid);
}

gboolean
vhost_vsock_claim_cid (int               fd,
                       guint32           first,
                       VhostVsockSetCid  set_cid,
                       guint32          *cid,
                       GError          **error)
{
  guint32 candidate = first < CID_FIRST || first > CID_LAST ? CID_FIRST : first;

  for (guint tries = 0; tries < MAX_TRIES; tries++)
    {
      if (set_cid (fd, candidate) == 0)
        {
          *cid = candidate;
          return TRUE;
        }
      if (errno != EADDRINUSE)
        {
          int saved = errno;
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                       _("Cannot set a guest CID on %s: %s"), VHOST_VSOCK_DEVICE,
                       g_strerror (saved));
          return FALSE;
        }
      candidate = candidate == CID_LAST ? CID_FIRST : candidate + 1;
    }
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY,
               _("No free guest CID for vhost-vsock after %u tries from %u"),
               MAX_TRIES, first);
  return FALSE;
}

int
vhost_vsock_open_claimed (const char  *device,
                          guint32     *cid,
                          GError     **error)
{
  int fd = open (device, O_RDWR | O_CLOEXEC | O_NOCTTY);

  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                   _("%s is not usable (%s)"), device, g_strerror (saved));
      return -1;
    }
  /* A random start: other users' bangerds claim from the same space, and
   * the kernel, not this process, decides who has a CID. */
  if (!vhost_vsock_claim_cid (fd, g_random_int_range (CID_FIRST, CID_LAST), set_cid_ioctl,
                              cid, error))
    {
      close (fd);
      return -1;
    }
  return fd;
}

/* ---- connect ------------------------------------------------------------------ */

typedef struct {
  GSocket *socket;
  GSource *ready;
  GSource *timeout;
} Connect;

static void
drop_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static void
connect_free (Connect *data)
{
  drop_source (&data->ready);
  drop_source (&data->timeout);
  g_clear_object (&data->socket);
  g_free (data);
}

/* Ends the connect one way or the other; each source holds a task
 * reference, so both go before the result does. */
static void
connect_complete (GTask  *task,
                  GError *error)
{
  Connect *data = g_task_get_task_data (task);

  g_object_ref (task);
  drop_source (&data->ready);
  drop_source (&data->timeout);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_socket_connection_factory_create_connection (data->socket),
                           g_object_unref);
  g_object_unref (task);
}

static gboolean
on_connect_ready (GSocket      *socket,
                  GIOCondition  condition,
                  gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (!g_cancellable_set_error_if_cancelled (g_task_get_cancellable (task), &error) &&
      !g_socket_check_connect_result (socket, &error))
    g_prefix_error (&error, _("Cannot connect to the guest over vsock: "));
  connect_complete (task, error);
  return G_SOURCE_REMOVE;
}

static gboolean
on_connect_timeout (gpointer user_data)
{
  /* The kernel gives up after its own timeout too; this only bounds it. */
  connect_complete (user_data,
                    g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                 _("Cannot connect to the guest over vsock: no answer "
                                   "within %u ms"), CONNECT_TIMEOUT_MS));
  return G_SOURCE_REMOVE;
}

void
vhost_vsock_connect_async (guint32              cid,
                           guint32              port,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  struct sockaddr_vm address = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };
  g_autoptr(GSocketAddress) native = NULL;
  Connect *data = g_new0 (Connect, 1);
  GError *error = NULL;
  int fd;

  g_task_set_task_data (task, data, (GDestroyNotify) connect_free);
  fd = socket (AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    {
      int saved = errno;
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                               _("This host has no AF_VSOCK sockets: %s"), g_strerror (saved));
      return;
    }
  data->socket = g_socket_new_from_fd (fd, &error);
  if (data->socket == NULL)
    {
      close (fd);
      g_task_return_error (task, error);
      return;
    }
  g_socket_set_blocking (data->socket, FALSE);
  /* GIO has no vsock address type; a native one carries the sockaddr. */
  native = g_socket_address_new_from_native (&address, sizeof address);
  if (g_socket_connect (data->socket, native, cancellable, &error))
    {
      connect_complete (task, NULL);
      return;
    }
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PENDING))
    {
      g_prefix_error (&error, _("Cannot connect to the guest over vsock: "));
      g_task_return_error (task, error);
      return;
    }
  g_clear_error (&error);
  data->ready = g_socket_create_source (data->socket, G_IO_OUT, cancellable);
  g_source_set_callback (data->ready, G_SOURCE_FUNC (on_connect_ready), g_object_ref (task),
                         g_object_unref);
  g_source_attach (data->ready, g_main_context_get_thread_default ());
  data->timeout = g_timeout_source_new (CONNECT_TIMEOUT_MS);
  g_source_set_callback (data->timeout, on_connect_timeout, g_object_ref (task),
                         g_object_unref);
  g_source_attach (data->timeout, g_main_context_get_thread_default ());
}

GIOStream *
vhost_vsock_connect_finish (GAsyncResult  *result,
                            GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
