/* firecracker-version.c: runs `firecracker --version` without blocking the
 * main loop and decides whether banger can drive that Firecracker. */
#define G_LOG_DOMAIN "bangerd-firecracker"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "banger-error.h"
#include "firecracker-version.h"

/* Enough of a first line for an error message; more is noise. */
#define QUOTE_MAX_CHARS 80

static char *
first_line (const char *text)
{
  const char *end = text + strcspn (text, "\r\n");
  g_autofree char *valid = g_utf8_make_valid (text, end - text);

  if (g_utf8_strlen (valid, -1) <= QUOTE_MAX_CHARS)
    return g_steal_pointer (&valid);
  return g_strconcat (g_utf8_substring (valid, 0, QUOTE_MAX_CHARS), "…", NULL);
}

static gboolean
parse_number (const char *text,
              guint      *out,
              GError    **error)
{
  guint64 value = 0;

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT, &value, error))
    return FALSE;
  *out = (guint) value;
  return TRUE;
}

gboolean
firecracker_version_parse (const char  *output,
                           guint       *major,
                           guint       *minor,
                           guint       *patch,
                           GError     **error)
{
  /* Upstream's own tests read only the first line: the logger, which
   * defaults to stdout, adds "… Firecracker exiting successfully" after it. */
  g_autoptr(GRegex) regex = g_regex_new ("^Firecracker v([0-9]+)\\.([0-9]+)\\.([0-9]+)",
                                         G_REGEX_DEFAULT, G_REGEX_MATCH_DEFAULT, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  g_autofree char *line = first_line (output != NULL ? output : "");
  guint parts[3] = { 0, 0, 0 };

  if (!g_regex_match (regex, line, G_REGEX_MATCH_DEFAULT, &match))
    {
      if (line[0] == '\0')
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                     _("It printed no version (expected “Firecracker vX.Y.Z”)"));
      else
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                     _("It printed “%s”, not “Firecracker vX.Y.Z”"), line);
      return FALSE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    {
      g_autofree char *digits = g_match_info_fetch (match, (int) i + 1);
      g_autoptr(GError) local_error = NULL;

      if (!parse_number (digits, &parts[i], &local_error))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                       _("It printed an impossible version “%s”"), line);
          return FALSE;
        }
    }
  *major = parts[0];
  *minor = parts[1];
  *patch = parts[2];
  return TRUE;
}

gboolean
firecracker_version_check_supported (const char               *binary,
                                     const FirecrackerVersion *version,
                                     gboolean                 *out_tested,
                                     GError                  **error)
{
  gboolean old = version->major < FIRECRACKER_VERSION_MIN_MAJOR ||
                 (version->major == FIRECRACKER_VERSION_MIN_MAJOR &&
                  version->minor < FIRECRACKER_VERSION_MIN_MINOR);

  if (old)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                   _("Firecracker %u.%u.%u at %s is too old; banger needs %u.%u.0 "
                     "or newer (tested with %u.%u)"),
                   version->major, version->minor, version->patch, binary,
                   FIRECRACKER_VERSION_MIN_MAJOR, FIRECRACKER_VERSION_MIN_MINOR,
                   FIRECRACKER_VERSION_TESTED_MAJOR, FIRECRACKER_VERSION_TESTED_MINOR);
      return FALSE;
    }
  if (out_tested != NULL)
    *out_tested = version->major == FIRECRACKER_VERSION_TESTED_MAJOR &&
                  version->minor == FIRECRACKER_VERSION_TESTED_MINOR;
  return TRUE;
}

typedef struct {
  char               *binary;
  guint               timeout_ms;
  gboolean            timed_out;
  GSubprocess        *process;
  GCancellable       *io_cancellable;
  gulong              caller_handler;
  GSource            *timeout_source;
  FirecrackerVersion  version;
  gboolean            tested;
} CheckData;

static void
check_data_free (CheckData *data)
{
  g_free (data->binary);
  g_clear_object (&data->process);
  g_clear_object (&data->io_cancellable);
  g_free (data);
}

/* Before spawning, so the user reads "does not exist" rather than
 * GSpawn's "Failed to execute child process". */
static char *
resolve_binary (const char  *binary,
                GError     **error)
{
  g_autofree char *path = NULL;
  GStatBuf st;

  if (strchr (binary, '/') == NULL)
    {
      path = g_find_program_in_path (binary);
      if (path == NULL)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                       _("Firecracker (“%s”) is not in PATH; install Firecracker "
                         "1.5 or newer, or configure its full path"), binary);
          return NULL;
        }
      return g_steal_pointer (&path);
    }
  if (g_stat (binary, &st) != 0)
    {
      int saved = errno;

      g_set_error (error, BANGER_ERROR,
                   saved == ENOENT ? BANGER_ERROR_NOT_FOUND : BANGER_ERROR_FAILED,
                   _("Cannot use Firecracker at %s: %s; install Firecracker 1.5 "
                     "or newer, or configure its path"),
                   binary, g_strerror (saved));
      return NULL;
    }
  if (!S_ISREG (st.st_mode) || access (binary, X_OK) != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("Firecracker at %s is not an executable file; check its "
                     "permissions (chmod +x) or the configured path"), binary);
      return NULL;
    }
  return g_strdup (binary);
}

static gboolean
on_check_timeout (gpointer user_data)
{
  CheckData *data = g_task_get_task_data (G_TASK (user_data));

  data->timed_out = TRUE;
  g_subprocess_force_exit (data->process);
  /* A grandchild could hold the pipes open; stop reading regardless. */
  g_cancellable_cancel (data->io_cancellable);
  return G_SOURCE_REMOVE;
}

static void
forward_cancel (GCancellable *caller,
                gpointer      io_cancellable)
{
  g_cancellable_cancel (io_cancellable);
}

static void
on_communicated (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CheckData *data = g_task_get_task_data (task);
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GBytes) err = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  gsize size = 0;
  const char *bytes;

  g_subprocess_communicate_finish (G_SUBPROCESS (source), result, &out, &err, &error);
  g_source_destroy (data->timeout_source);
  g_clear_pointer (&data->timeout_source, g_source_unref);
  if (data->caller_handler != 0)
    g_cancellable_disconnect (g_task_get_cancellable (task), data->caller_handler);

  if (data->timed_out)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                               _("“%s --version” did not finish within %u ms; "
                                 "is it really Firecracker?"),
                               data->binary, data->timeout_ms);
      return;
    }
  if (error != NULL)
    {
      /* The caller gave up: do not leave a stray process behind. */
      g_subprocess_force_exit (data->process);
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (&error, _("Cannot read the output of “%s --version”: "), data->binary);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  bytes = out != NULL ? g_bytes_get_data (out, &size) : NULL;
  text = g_strndup (bytes != NULL ? bytes : "", size);
  if (!firecracker_version_parse (text, &data->version.major, &data->version.minor,
                                  &data->version.patch, &error))
    {
      g_autofree char *stderr_text = NULL;

      if (err != NULL && g_bytes_get_size (err) > 0)
        stderr_text = g_strndup (g_bytes_get_data (err, NULL), g_bytes_get_size (err));
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                               _("%s does not look like Firecracker: “%s --version” "
                                 "exited with status %d. %s%s%s"),
                               data->binary, data->binary,
                               g_subprocess_get_status (data->process), error->message,
                               stderr_text != NULL ? _("; it said: ") : "",
                               stderr_text != NULL ? g_strstrip (stderr_text) : "");
      return;
    }
  if (!firecracker_version_check_supported (data->binary, &data->version,
                                            &data->tested, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_boolean (task, TRUE);
}

void
firecracker_version_check_async (const char          *binary,
                                 guint                timeout_ms,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  CheckData *data = g_new0 (CheckData, 1);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  g_task_set_source_tag (task, firecracker_version_check_async);
  g_task_set_task_data (task, data, (GDestroyNotify) check_data_free);
  data->binary = g_strdup (binary);
  data->timeout_ms = timeout_ms;

  path = resolve_binary (binary, &error);
  if (path == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* argv only; stdin is /dev/null by default.  stderr is kept apart so a
   * failure can quote it without confusing the version parser. */
  data->process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                    G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                    &error, path, "--version", NULL);
  if (data->process == NULL)
    {
      g_prefix_error (&error, _("Cannot run “%s --version”: "), binary);
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED, "%s", error->message);
      return;
    }

  data->io_cancellable = g_cancellable_new ();
  if (cancellable != NULL)
    data->caller_handler = g_cancellable_connect (cancellable, G_CALLBACK (forward_cancel),
                                                  g_object_ref (data->io_cancellable),
                                                  g_object_unref);
  data->timeout_source = g_timeout_source_new (timeout_ms);
  g_task_attach_source (task, data->timeout_source, on_check_timeout);
  g_subprocess_communicate_async (data->process, NULL, data->io_cancellable,
                                  on_communicated, g_steal_pointer (&task));
}

gboolean
firecracker_version_check_finish (GAsyncResult        *result,
                                  FirecrackerVersion  *out_version,
                                  gboolean            *out_tested,
                                  GError             **error)
{
  CheckData *data;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        firecracker_version_check_async, FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  data = g_task_get_task_data (G_TASK (result));
  if (out_version != NULL)
    *out_version = data->version;
  if (out_tested != NULL)
    *out_tested = data->tested;
  return TRUE;
}
