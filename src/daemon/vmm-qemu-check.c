/* vmm-qemu-check.c: finds the qemu binary and runs `--version` without
 * blocking the main loop; banger needs 7.0 or newer. */
#define G_LOG_DOMAIN "bangerd-qemu"

#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "banger-error.h"
#include "vmm-qemu.h"

#define VERSION_TIMEOUT_MS 5000

gboolean
qemu_version_parse (const char  *output,
                    guint       *major,
                    guint       *minor,
                    guint       *micro,
                    GError     **error)
{
  g_autoptr(GRegex) regex = g_regex_new ("^QEMU emulator version ([0-9]+)\\.([0-9]+)(?:\\.([0-9]+))?",
                                         G_REGEX_MULTILINE, G_REGEX_MATCH_DEFAULT, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  guint64 parts[3] = { 0, 0, 0 };

  if (output == NULL || !g_regex_match (regex, output, G_REGEX_MATCH_DEFAULT, &match))
    {
      g_autofree char *line = g_strndup (output != NULL ? output : "",
                                         output != NULL ? strcspn (output, "\r\n") : 0);

      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("It printed “%s”, not “QEMU emulator version X.Y.Z”"), line);
      return FALSE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    {
      g_autofree char *digits = g_match_info_fetch (match, (int) i + 1);

      if (digits != NULL && digits[0] != '\0' &&
          !g_ascii_string_to_unsigned (digits, 10, 0, G_MAXUINT, &parts[i], NULL))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                       _("It printed an impossible version “%s”"), digits);
          return FALSE;
        }
    }
  *major = (guint) parts[0];
  *minor = (guint) parts[1];
  *micro = (guint) parts[2];
  return TRUE;
}

/* The last binary that passed (vmm_binary_set_checked), as for Firecracker. */
static char *checked_identity;

typedef struct {
  char        *path;
  GSubprocess *process;
  GSource     *timeout;
  gboolean     timed_out;
} CheckData;

static void
check_data_free (CheckData *data)
{
  g_free (data->path);
  g_clear_object (&data->process);
  if (data->timeout != NULL)
    {
      g_source_destroy (data->timeout);
      g_source_unref (data->timeout);
    }
  g_free (data);
}

static gboolean
on_version_timeout (gpointer user_data)
{
  CheckData *data = user_data;

  data->timed_out = TRUE;
  g_subprocess_force_exit (data->process);
  return G_SOURCE_REMOVE;
}

static void
on_version_output (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CheckData *data = g_task_get_task_data (task);
  g_autofree char *output = NULL;
  GError *error = NULL;
  guint major, minor, micro;

  if (!g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &output, NULL,
                                             &error))
    {
      g_subprocess_force_exit (data->process);
      g_prefix_error (&error, _("Cannot run “%s --version”: "), data->path);
      g_task_return_error (task, error);
      return;
    }
  if (data->timed_out)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                               _("“%s --version” did not finish within %u ms; is it "
                                 "really QEMU?"), data->path, VERSION_TIMEOUT_MS);
      return;
    }
  if (!qemu_version_parse (output, &major, &minor, &micro, &error))
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                               _("%s does not look like QEMU: %s"), data->path, error->message);
      g_error_free (error);
      return;
    }
  if ((guint64) major * 1000 + minor <
      (guint64) QEMU_VERSION_MIN_MAJOR * 1000 + QEMU_VERSION_MIN_MINOR)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                               _("QEMU %u.%u.%u at %s is too old; banger needs %u.%u or newer"),
                               major, minor, micro, data->path,
                               QEMU_VERSION_MIN_MAJOR, QEMU_VERSION_MIN_MINOR);
      return;
    }
  vmm_binary_set_checked (&checked_identity, data->path);
  g_task_return_pointer (task, g_strdup (data->path), g_free);
}

void
qemu_check_async (const char          *binary,
                  GCancellable        *cancellable,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  CheckData *data;
  GError *error = NULL;
  char *path;

  if (binary == NULL)
    binary = "qemu-system-x86_64";
  path = vmm_binary_find (binary);
  if (path == NULL)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                               _("QEMU (“%s”) was not found or is not executable; install "
                                 "qemu-system-x86 or set [qemu] binary in the config file"),
                               binary);
      return;
    }
  if (vmm_binary_was_checked (&checked_identity, path))
    {
      g_task_return_pointer (task, path, g_free);
      return;
    }
  data = g_new0 (CheckData, 1);
  data->path = path;
  g_task_set_task_data (task, data, (GDestroyNotify) check_data_free);
  data->process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_INHERIT |
                                    G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                    G_SUBPROCESS_FLAGS_STDERR_MERGE,
                                    &error, path, "--version", NULL);
  if (data->process == NULL)
    {
      g_prefix_error (&error, _("Cannot run “%s --version”: "), path);
      g_task_return_error (task, error);
      return;
    }
  data->timeout = g_timeout_source_new (VERSION_TIMEOUT_MS);
  g_source_set_callback (data->timeout, on_version_timeout, data, NULL);
  g_source_attach (data->timeout, g_main_context_get_thread_default ());
  g_subprocess_communicate_utf8_async (data->process, NULL, cancellable, on_version_output,
                                       g_steal_pointer (&task));
}

char *
qemu_check_finish (GAsyncResult  *result,
                   GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

