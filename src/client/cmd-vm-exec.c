/* cmd-vm-exec.c: 'banger vm exec': VM1.Exec with our own stdin, stdout
 * and stderr, Ctrl-C and SIGTERM forwarded through VM1.SignalExec, and the
 * command's exit status as ours. */
#define G_LOG_DOMAIN "banger-client-vm-exec"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <glib-unix.h>
#include <glib/gi18n.h>

#include "banger-error.h"
#include "cmd-vm.h"
#include "command.h"
#include "daemon-connection.h"

/* The command runs as long as it runs; Ctrl-C is the way out. */
#define EXEC_CALL_TIMEOUT_MSEC G_MAXINT

typedef struct {
  BangerVM1  *vm;
  GMainLoop  *loop;
  char       *id;
  guint       interrupts;
  gboolean    done;
  int         exit_code;
  int         signal;
  GError     *error;
} ExecRun;

static void
on_signal_sent (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  /* NotFound: the command ended just before the signal got there, and
   * the Exec's reply says how. */
  if (!banger_vm1_call_signal_exec_finish (BANGER_VM1 (source), result, &error) &&
      !g_error_matches (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND))
    {
      banger_error_explain (error);
      fprintf (stderr, _("banger: Could not signal the command: %s\n"), error->message);
    }
}

static void
send_signal (ExecRun    *run,
             const char *signal_name)
{
  if (run->done)
    return;
  banger_vm1_call_signal_exec (run->vm, run->id, signal_name, NULL, on_signal_sent, NULL);
}

static gboolean
on_sigint (gpointer user_data)
{
  ExecRun *run = user_data;

  /* The first Ctrl-C is the command's to handle; a second one kills it. */
  if (run->interrupts++ == 0)
    send_signal (run, "INT");
  else
    send_signal (run, "KILL");
  return G_SOURCE_CONTINUE;
}

static gboolean
on_sigterm (gpointer user_data)
{
  send_signal (user_data, "TERM");
  return G_SOURCE_CONTINUE;
}

static void
on_exec_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  ExecRun *run = user_data;

  banger_vm1_call_exec_finish (BANGER_VM1 (source), &run->exit_code, &run->signal,
                               NULL, result, &run->error);
  run->done = TRUE;
  g_main_loop_quit (run->loop);
}

/* Appends @fd, or /dev/null when we were started with it closed. */
static gint
append_fd (GUnixFDList  *list,
           int           fd,
           int           flags,
           GError      **error)
{
  int null_fd;
  gint index;

  if (fcntl (fd, F_GETFD) >= 0)
    return g_unix_fd_list_append (list, fd, error);
  null_fd = open ("/dev/null", flags | O_CLOEXEC);
  if (null_fd < 0)
    {
      g_set_error_literal (error, G_IO_ERROR, g_io_error_from_errno (errno), g_strerror (errno));
      return -1;
    }
  index = g_unix_fd_list_append (list, null_fd, error);
  close (null_fd);
  return index;
}

int
banger_vm_exec_command (BangerVM1         *vm,
                        const char        *name,
                        const char *const *command,
                        const char *const *env,
                        const char        *cwd)
{
  ExecRun run = { 0 };
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
  g_auto(GVariantBuilder) options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autofree char *id = g_strdup_printf ("banger-%d-%08x", (int) getpid (), g_random_int ());
  g_autoptr(GError) error = NULL;
  guint sigint_id, sigterm_id;
  gint in, out, err;

  in = append_fd (fds, STDIN_FILENO, O_RDONLY, &error);
  out = in < 0 ? -1 : append_fd (fds, STDOUT_FILENO, O_WRONLY, &error);
  err = out < 0 ? -1 : append_fd (fds, STDERR_FILENO, O_WRONLY, &error);
  if (err < 0)
    return banger_fail (error);

  if (env != NULL && env[0] != NULL)
    g_variant_builder_add (&options, "{sv}", "Env", g_variant_new_strv (env, -1));
  if (cwd != NULL)
    g_variant_builder_add (&options, "{sv}", "Cwd", g_variant_new_string (cwd));
  g_variant_builder_add (&options, "{sv}", "Id", g_variant_new_string (id));

  run.vm = vm;
  run.loop = loop;
  run.id = id;
  sigint_id = g_unix_signal_add (SIGINT, on_sigint, &run);
  sigterm_id = g_unix_signal_add (SIGTERM, on_sigterm, &run);

  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (vm), EXEC_CALL_TIMEOUT_MSEC);
  banger_vm1_call_exec (vm, command, g_variant_builder_end (&options),
                        g_variant_new_handle (in), g_variant_new_handle (out),
                        g_variant_new_handle (err), fds, NULL, on_exec_done, &run);
  g_main_loop_run (loop);

  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);

  if (run.error != NULL)
    {
      g_autoptr(GError) failed = g_steal_pointer (&run.error);
      return banger_vm_fail (failed, name);
    }
  /* As a shell reports a command killed by a signal. */
  if (run.signal != 0)
    return 128 + run.signal;
  return run.exit_code;
}

/* Splits "… -- COMMAND…" at the first "--": returns the index of the
 * command's first word, or 0 when there is no "--". */
int
banger_split_command (int    argc,
                      char **argv)
{
  for (int i = 1; i < argc; i++)
    if (g_str_equal (argv[i], "--"))
      return i + 1;
  return 0;
}

int
banger_vm_exec_run (const BangerCommandGroup *group,
                    const BangerCommand      *command,
                    int                       argc,
                    char                    **argv)
{
  g_auto(GStrv) env = NULL;
  g_autofree char *cwd = NULL;
  const GOptionEntry options[] = {
    { "env", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &env,
      N_("Set a variable in the command's environment (repeatable)"), N_("NAME=VALUE") },
    { "cwd", 0, 0, G_OPTION_ARG_STRING, &cwd, N_("Directory to run the command in (default /root)"), N_("DIR") },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(BangerDaemon) daemon = NULL;
  g_autoptr(BangerVM1) vm = NULL;
  g_autoptr(GPtrArray) words = g_ptr_array_new ();
  int split = banger_split_command (argc, argv);
  int status;

  if (split > 0)
    {
      for (int i = split; i < argc; i++)
        g_ptr_array_add (words, argv[i]);
      argc = split - 1;
      if (!banger_command_parse (group, command, options, &argc, &argv, 1, 1, &status))
        return status;
    }
  else
    {
      if (!banger_command_parse (group, command, options, &argc, &argv, 1, G_MAXUINT, &status))
        return status;
      for (int i = 2; i < argc; i++)
        g_ptr_array_add (words, argv[i]);
    }
  if (words->len == 0)
    return banger_usage_error (group, command, "%s", _("No command given; put it after '--'"));
  g_ptr_array_add (words, NULL);

  vm = banger_vm_lookup (argv[1], &daemon, &status);
  if (vm == NULL)
    return status;

  return banger_vm_exec_command (vm, argv[1], (const char *const *) words->pdata,
                                 (const char *const *) env, cwd);
}
