/* launch-spec.c: Launch's spec dictionary, the shape of the paths in it and
 * Signal's allowlist, checked without touching the filesystem. */
#define G_LOG_DOMAIN "banger-helper-launch-spec"

#include "config.h"

#include <signal.h>
#include <string.h>

#include <glib/gi18n.h>

#include "banger-error.h"

#include "launch-spec.h"

#define LAUNCH_PATH_MAX  4095
#define LAUNCH_NAME_MAX  255

static const struct {
  const char *name;
  int         signo;
} signal_allowlist[] = {
  { "TERM", SIGTERM }, { "KILL", SIGKILL }, { "INT", SIGINT },
  { "HUP", SIGHUP }, { "QUIT", SIGQUIT }, { "USR1", SIGUSR1 },
  { "USR2", SIGUSR2 }, { "ABRT", SIGABRT },
};

static void
launch_drive_free (gpointer data)
{
  LaunchDrive *drive = data;

  g_free (drive->path);
  g_free (drive);
}

void
launch_spec_free (LaunchSpec *spec)
{
  if (spec == NULL)
    return;
  g_free (spec->kernel);
  g_free (spec->initrd);
  g_clear_pointer (&spec->drives, g_ptr_array_unref);
  g_free (spec);
}

static gboolean
refuse (GError    **error,
        const char *path,
        const char *why)
{
  /* Only ever printed after the UTF-8 check, or escaped. */
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
               _("“%s” is not a usable file path: %s. Pass the absolute "
                 "path of a file in your banger directories, without "
                 "“..”, “.”, “//” or a trailing “/”."),
               path, why);
  return FALSE;
}

gboolean
launch_path_check_canonical (const char  *path,
                             GError     **error)
{
  size_t len;
  const char *p;

  if (path == NULL || *path == '\0')
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           _("A file path is empty; pass the absolute path of "
                             "a file in your banger directories."));
      return FALSE;
    }
  if (!g_utf8_validate (path, -1, NULL))
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           _("A file path is not valid UTF-8; rename the file "
                             "and pass its new path."));
      return FALSE;
    }
  for (p = path; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      {
        g_autofree char *escaped = g_strescape (path, NULL);
        return refuse (error, escaped, _("it contains a control character"));
      }

  len = strlen (path);
  if (len > LAUNCH_PATH_MAX)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("A file path is %zu bytes long; the limit is %d."),
                   len, LAUNCH_PATH_MAX);
      return FALSE;
    }
  if (path[0] != '/')
    return refuse (error, path, _("it is not absolute"));
  if (len == 1)
    return refuse (error, path, _("it names the root directory, not a file"));

  /* Every component: between one slash and the next (or the end). */
  for (p = path + 1; ; )
    {
      const char *end = strchr (p, '/');
      size_t n = end != NULL ? (size_t) (end - p) : strlen (p);

      if (n == 0)
        return refuse (error, path, end != NULL ? _("it has an empty component (“//”)")
                                                : _("it ends with “/”"));
      if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
        return refuse (error, path, _("it has a “.” or “..” component"));
      if (n > LAUNCH_NAME_MAX)
        return refuse (error, path, _("a component is longer than 255 bytes"));
      if (end == NULL)
        break;
      p = end + 1;
    }
  return TRUE;
}

const char *
launch_path_basename (const char *path)
{
  const char *slash = strrchr (path, '/');

  return slash != NULL ? slash + 1 : path;
}

gboolean
launch_path_check_allowed (const char  *path,
                           const char  *home,
                           GError     **error)
{
  static const char *const allowed[] = { "/.local/state/banger/", "/.local/share/banger/" };

  if (!launch_path_check_canonical (path, error))
    return FALSE;
  if (home == NULL || (!g_str_equal (home, "/") && !launch_path_check_canonical (home, NULL)))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("Your home directory in the password database (“%s”) is "
                     "not a canonical absolute path; ask an administrator to "
                     "fix it."), home != NULL && g_utf8_validate (home, -1, NULL) ? home : "?");
      return FALSE;
    }

  /* "/" as home would give "//.local/…": compare without its slash. */
  if (g_str_equal (home, "/"))
    home = "";
  for (guint i = 0; i < G_N_ELEMENTS (allowed); i++)
    {
      g_autofree char *prefix = g_strconcat (home, allowed[i], NULL);

      /* The canonical form guarantees no ".." can climb back out, and
       * something non-empty follows the prefix. */
      if (g_str_has_prefix (path, prefix) && path[strlen (prefix)] != '\0')
        return TRUE;
    }
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
               _("“%s” is outside your banger directories; the helper only "
                 "takes files from %s/.local/state/banger and "
                 "%s/.local/share/banger."), path, home, home);
  return FALSE;
}

static gboolean
take_path (const char  *key,
           GVariant    *value,
           char       **out,
           GError     **error)
{
  if (*out != NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("Launch spec key “%s” is given twice; give it once."), key);
      return FALSE;
    }
  if (!g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("Launch spec key “%s” must be a string (s), not %s."),
                   key, g_variant_get_type_string (value));
      return FALSE;
    }
  if (!launch_path_check_canonical (g_variant_get_string (value, NULL), error))
    return FALSE;
  *out = g_variant_dup_string (value, NULL);
  return TRUE;
}

static gboolean
take_drives (GVariant    *value,
             LaunchSpec  *spec,
             GError     **error)
{
  GVariantIter iter;
  const char *path;
  gboolean read_only;

  if (spec->drives != NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("Launch spec key “%s” is given twice; give it once."), "drives");
      return FALSE;
    }
  if (!g_variant_is_of_type (value, G_VARIANT_TYPE ("a(sb)")))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("Launch spec key “drives” must be an array of (path, "
                     "read-only) pairs, a(sb), not %s."),
                   g_variant_get_type_string (value));
      return FALSE;
    }
  if (g_variant_n_children (value) > LAUNCH_MAX_DRIVES)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("Launch spec has %zu drives; at most %d are allowed."),
                   g_variant_n_children (value), LAUNCH_MAX_DRIVES);
      return FALSE;
    }

  spec->drives = g_ptr_array_new_with_free_func (launch_drive_free);
  g_variant_iter_init (&iter, value);
  while (g_variant_iter_next (&iter, "(&sb)", &path, &read_only))
    {
      LaunchDrive *drive;

      if (!launch_path_check_canonical (path, error))
        return FALSE;
      drive = g_new0 (LaunchDrive, 1);
      drive->path = g_strdup (path);
      drive->read_only = read_only;
      g_ptr_array_add (spec->drives, drive);
    }
  return TRUE;
}

/* Files keep their base names in the jail: two with the same name, or one
 * named like what the jailer or Firecracker put there, would collide. */
gboolean
launch_spec_check_names (const LaunchSpec  *spec,
                         const char        *exec_name,
                         GError           **error)
{
  g_autoptr(GHashTable) taken = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) paths = g_ptr_array_new ();

  g_hash_table_add (taken, g_strdup ("api.sock"));
  g_hash_table_add (taken, g_strdup ("dev"));
  g_hash_table_add (taken, g_strdup ("run"));
  if (exec_name != NULL)
    {
      g_hash_table_add (taken, g_strdup (exec_name));
      g_hash_table_add (taken, g_strconcat (exec_name, ".pid", NULL));
    }

  g_ptr_array_add (paths, spec->kernel);
  if (spec->initrd != NULL)
    g_ptr_array_add (paths, spec->initrd);
  for (guint i = 0; spec->drives != NULL && i < spec->drives->len; i++)
    g_ptr_array_add (paths, ((LaunchDrive *) spec->drives->pdata[i])->path);

  for (guint i = 0; i < paths->len; i++)
    {
      const char *name = launch_path_basename (paths->pdata[i]);

      if (g_hash_table_contains (taken, name))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       _("“%s”: its file name “%s” is already used in the "
                         "jail (by another file of the spec, or by the jail "
                         "itself); give the file another name."),
                       (const char *) paths->pdata[i], name);
          return FALSE;
        }
      g_hash_table_add (taken, g_strdup (name));
    }
  return TRUE;
}

LaunchSpec *
launch_spec_parse (GVariant    *spec,
                   const char  *exec_name,
                   GError     **error)
{
  g_autoptr(LaunchSpec) parsed = g_new0 (LaunchSpec, 1);
  GVariantIter iter;
  const char *key;
  GVariant *value;

  if (spec == NULL || !g_variant_is_of_type (spec, G_VARIANT_TYPE_VARDICT))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("The launch spec must be a dictionary a{sv}, not %s."),
                   spec != NULL ? g_variant_get_type_string (spec) : "nothing");
      return NULL;
    }

  g_variant_iter_init (&iter, spec);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      g_autoptr(GVariant) owned = value;
      gboolean ok;

      if (g_str_equal (key, "kernel"))
        ok = take_path (key, value, &parsed->kernel, error);
      else if (g_str_equal (key, "initrd"))
        ok = take_path (key, value, &parsed->initrd, error);
      else if (g_str_equal (key, "drives"))
        ok = take_drives (value, parsed, error);
      else
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       _("Unknown launch spec key “%s”; the keys are kernel, "
                         "initrd and drives."), key);
          ok = FALSE;
        }
      if (!ok)
        return NULL;
    }

  if (parsed->kernel == NULL)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           _("The launch spec has no kernel; pass the path "
                             "of the guest kernel as “kernel”."));
      return NULL;
    }
  if (parsed->drives == NULL)
    parsed->drives = g_ptr_array_new_with_free_func (launch_drive_free);
  if (!launch_spec_check_names (parsed, exec_name, error))
    return NULL;
  return g_steal_pointer (&parsed);
}

gboolean
launch_signal_parse (const char  *name,
                     int         *out_signo,
                     GError     **error)
{
  for (guint i = 0; name != NULL && i < G_N_ELEMENTS (signal_allowlist); i++)
    if (strcmp (name, signal_allowlist[i].name) == 0)
      {
        *out_signo = signal_allowlist[i].signo;
        return TRUE;
      }

  if (name != NULL && g_utf8_validate (name, -1, NULL) && strlen (name) <= 32)
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                 _("“%s” is not a signal banger-helper sends; use one of "
                   "TERM, KILL, INT, HUP, QUIT, USR1, USR2, ABRT."), name);
  else
    g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                         _("That is not a signal banger-helper sends; use one "
                           "of TERM, KILL, INT, HUP, QUIT, USR1, USR2, ABRT."));
  return FALSE;
}
