/* cmd-vm-logs.c: 'banger vm logs': copies a VM's console or VMM log, opened
 * by bangerd (VM1.OpenLog), to stdout, and with --follow keeps copying. */
#define G_LOG_DOMAIN "banger-client-vm-logs"

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <glib-unix.h>
#include <glib/gi18n.h>

#include "banger-error.h"
#include "cmd-vm.h"
#include "command.h"
#include "daemon-connection.h"
#include "output.h"

/* Often enough that a boot log scrolls by smoothly, rarely enough to cost
 * nothing; the log is a plain file, so there is nothing to wait on. */
#define FOLLOW_POLL_MSEC 200
/* What a failed 'vm run --rm' shows of a console before the VM goes. */
#define CONSOLE_TAIL_BYTES (64 * 1024)

static gboolean
write_all (int          fd,
           const char  *data,
           gsize        length,
           GError     **error)
{
  while (length > 0)
    {
      ssize_t written = write (fd, data, length);

      if (written < 0 && errno == EINTR)
        continue;
      if (written < 0)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       _("Could not write the log to standard output: %s"), g_strerror (saved));
          return FALSE;
        }
      data += written;
      length -= (gsize) written;
    }
  return TRUE;
}

/* Copies whatever @fd has up to its current end. */
static gboolean
copy_to_end (int      fd,
             GError **error)
{
  char buffer[64 * 1024];

  for (;;)
    {
      ssize_t n = read (fd, buffer, sizeof buffer);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       _("Could not read the log: %s"), g_strerror (saved));
          return FALSE;
        }
      if (n == 0)
        return TRUE;
      if (!write_all (STDOUT_FILENO, buffer, (gsize) n, error))
        return FALSE;
    }
}

typedef struct {
  int                 fd;
  BangerVM1          *vm;
  GDBusObjectManager *objects;
  const char         *path;
  GMainLoop          *loop;
  gboolean            vm_ended;   /* stopped, failed, deleted, or bangerd gone */
  gboolean            finished;
  GError             *error;
} Follow;

static gboolean
state_has_ended (const char *state)
{
  return g_strcmp0 (state, "stopped") == 0 || g_strcmp0 (state, "failed") == 0;
}

static void
on_vm_properties_changed (GDBusProxy        *proxy,
                          GVariant          *changed,
                          const char *const *invalidated,
                          gpointer           user_data)
{
  Follow *follow = user_data;
  const char *state = NULL;

  /* Seen here rather than by polling State, so a quick stop-and-start (a
   * restart, which replaces the log file) still ends the follow. */
  if (g_variant_lookup (changed, "State", "&s", &state) && state_has_ended (state))
    follow->vm_ended = TRUE;
}

static gboolean
on_follow_tick (gpointer user_data)
{
  Follow *follow = user_data;
  /* Decide before reading, so what the VM wrote before it ended is read. */
  gboolean ended = follow->vm_ended ||
                   state_has_ended (banger_vm1_get_state (follow->vm)) ||
                   g_dbus_object_manager_client_get_name_owner (G_DBUS_OBJECT_MANAGER_CLIENT (follow->objects)) == NULL;

  if (!ended)
    {
      g_autoptr(GDBusObject) object = g_dbus_object_manager_get_object (follow->objects, follow->path);
      ended = object == NULL;
    }

  if (!copy_to_end (follow->fd, &follow->error) || ended)
    {
      follow->finished = TRUE;
      g_main_loop_quit (follow->loop);
    }
  /* Removed by follow_log(), which owns the source. */
  return G_SOURCE_CONTINUE;
}

static gboolean
on_follow_sigint (gpointer user_data)
{
  Follow *follow = user_data;

  follow->finished = TRUE;
  g_main_loop_quit (follow->loop);
  return G_SOURCE_CONTINUE;
}

static int
follow_log (BangerDaemon *daemon,
            BangerVM1    *vm,
            int           fd)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Follow follow = { 0 };
  gulong changed_id;
  guint tick_id, sigint_id;

  follow.fd = fd;
  follow.vm = vm;
  follow.objects = daemon->objects;
  follow.path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (vm));
  follow.loop = loop;

  changed_id = g_signal_connect (vm, "g-properties-changed",
                                 G_CALLBACK (on_vm_properties_changed), &follow);
  sigint_id = g_unix_signal_add (SIGINT, on_follow_sigint, &follow);
  tick_id = g_timeout_add (FOLLOW_POLL_MSEC, on_follow_tick, &follow);
  /* Copy what is there now at once; then poll. */
  on_follow_tick (&follow);
  if (!follow.finished)
    g_main_loop_run (loop);

  g_source_remove (tick_id);
  g_source_remove (sigint_id);
  g_signal_handler_disconnect (vm, changed_id);

  if (follow.error != NULL)
    {
      g_autoptr(GError) error = g_steal_pointer (&follow.error);
      return banger_fail (error);
    }
  return BANGER_EXIT_OK;
}

/* VM1.OpenLog: a read-only descriptor of the log @which ("console" or
 * "vmm"), or -1 with @error set. */
static int
open_log (BangerVM1   *vm,
          const char  *which,
          GError     **error)
{
  g_autoptr(GVariant) handle = NULL;
  g_autoptr(GUnixFDList) fds = NULL;
  int fd;

  if (!banger_vm1_call_open_log_sync (vm, which, NULL, &handle, &fds, NULL, error))
    return -1;
  fd = fds != NULL ? g_unix_fd_list_get (fds, g_variant_get_handle (handle), error) : -1;
  if (fd < 0 && (error == NULL || *error == NULL))
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                 _("The banger daemon sent no log descriptor"));
  return fd;
}

void
banger_vm_print_console_tail (BangerVM1  *vm,
                              const char *name,
                              guint       max_lines)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *shown = NULL;
  goffset size;
  gssize n;
  int fd = open_log (vm, "console", &error);

  if (fd < 0)
    {
      /* Never launched: there is no console to show. */
      g_debug ("no console log of %s: %s", name, error->message);
      return;
    }
  /* A long boot log need not be read whole for its end. */
  size = lseek (fd, 0, SEEK_END);
  if (size < 0 || lseek (fd, MAX (size - CONSOLE_TAIL_BYTES, 0), SEEK_SET) < 0)
    {
      close (fd);
      return;
    }
  text = g_malloc (CONSOLE_TAIL_BYTES + 1);
  do
    n = read (fd, text, CONSOLE_TAIL_BYTES);
  while (n < 0 && errno == EINTR);
  close (fd);
  if (n <= 0)
    return;
  text[n] = '\0';
  /* The guest wrote it, and it goes to the user's terminal unasked. */
  shown = banger_text_tail (text, size > CONSOLE_TAIL_BYTES, max_lines);
  fprintf (stderr, _("banger: The end of VM “%s”'s console log:\n"), name);
  fprintf (stderr, "%s\n", shown);
}

int
banger_vm_logs_run (const BangerCommandGroup *group,
                    const BangerCommand      *command,
                    int                       argc,
                    char                    **argv)
{
  gboolean follow = FALSE;
  gboolean vmm = FALSE;
  const GOptionEntry options[] = {
    { "follow", 'f', 0, G_OPTION_ARG_NONE, &follow, N_("Keep printing as the log grows, until the VM stops"), NULL },
    { "vmm", 0, 0, G_OPTION_ARG_NONE, &vmm, N_("Print the VMM's own log instead of the console"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(BangerDaemon) daemon = NULL;
  g_autoptr(BangerVM1) vm = NULL;
  int fd, status;

  if (!banger_command_parse (group, command, options, &argc, &argv, 1, 1, &status))
    return status;
  vm = banger_vm_lookup (argv[1], &daemon, &status);
  if (vm == NULL)
    return status;

  fd = open_log (vm, vmm ? "vmm" : "console", &error);
  if (fd < 0)
    {
      /* NotFound here means "never started", which the daemon says; the
       * usual hint to 'banger vm list' would mislead. */
      banger_error_explain (error);
      return banger_fail (error);
    }

  if (follow)
    status = follow_log (daemon, vm, fd);
  else if (!copy_to_end (fd, &error))
    status = banger_fail (error);
  else
    status = BANGER_EXIT_OK;
  close (fd);
  return status;
}
