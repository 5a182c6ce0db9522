/* image-debs.c: a fixed directory is only searched (tests and offline
 * hosts use it); the cache reuses PACKAGE_VERSION_ARCH.deb and downloads
 * into a private temp dir, renamed into place, so a crash leaves no
 * half-written .deb under a real name. */
#define G_LOG_DOMAIN "bangerd-image"

#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "banger-error.h"
#include "fs-util.h"
#include "image-build.h"
#include "image-debs.h"

char *
image_run (const char *const  *argv,
           const char         *cwd,
           GCancellable       *cancellable,
           GError            **error)
{
  return image_run_env (argv, cwd, NULL, cancellable, error);
}

char *
image_run_env (const char *const  *argv,
               const char         *cwd,
               const char *const  *env,
               GCancellable       *cancellable,
               GError            **error)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) proc = NULL;
  g_autofree char *out = NULL, *err = NULL;

  if (cwd != NULL)
    g_subprocess_launcher_set_cwd (launcher, cwd);
  /* apt prints for people otherwise; we parse it. */
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C", TRUE);
  for (guint i = 0; env != NULL && env[i] != NULL && env[i + 1] != NULL; i += 2)
    g_subprocess_launcher_setenv (launcher, env[i], env[i + 1], TRUE);
  proc = g_subprocess_launcher_spawnv (launcher, argv, error);
  if (proc == NULL)
    return NULL;
  if (!g_subprocess_communicate_utf8 (proc, NULL, cancellable, &out, &err, error))
    {
      g_subprocess_force_exit (proc);
      g_subprocess_wait (proc, NULL, NULL);
      return NULL;
    }
  if (!g_subprocess_get_if_exited (proc) || g_subprocess_get_exit_status (proc) != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, _("%s failed: %s"), argv[0],
                   err != NULL && *err != '\0' ? g_strstrip (err) : _("no message"));
      return NULL;
    }
  return g_steal_pointer (&out);
}

/* "linux-image-6.1.0-56-cloud-amd64": a versioned cloud kernel package. */
static gboolean
is_kernel_package (const char *package)
{
  return g_str_has_prefix (package, "linux-image-") && g_ascii_isdigit (package[12]) &&
         g_str_has_suffix (package, "-cloud-amd64");
}

static gboolean
matches (const char *file,
         const char *package)
{
  g_autofree char *name = NULL;
  const char *underscore = strchr (file, '_');

  if (underscore == NULL || !g_str_has_suffix (file, ".deb"))
    return FALSE;
  name = g_strndup (file, underscore - file);
  return package != NULL ? g_str_equal (name, package) : is_kernel_package (name);
}

/* "pkg_1%3a2.0-1_amd64.deb" → "pkg 1:2.0-1". */
static char *
label_for (const char *file)
{
  g_auto(GStrv) parts = g_strsplit (file, "_", 3);
  g_autofree char *version = NULL;

  if (g_strv_length (parts) < 3)
    return g_strdup (file);
  version = g_uri_unescape_string (parts[1], NULL);
  return g_strdup_printf ("%s %s", parts[0], version != NULL ? version : parts[1]);
}

/* The last (highest sorting) .deb of @package in @dir, or of any versioned
 * cloud kernel when @package is NULL. */
static char *
find_deb (const char *dir,
          const char *package)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_autofree char *best = NULL;
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (matches (name, package) && (best == NULL || strverscmp (name, best) > 0))
      {
        g_free (best);
        best = g_strdup (name);
      }
  return g_steal_pointer (&best);
}

static char *
apt_field (const char *text,
           const char *field)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  g_autofree char *prefix = g_strconcat (field, ": ", NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      return g_strstrip (g_strdup (lines[i] + strlen (prefix)));
  return NULL;
}

static char *
resolve_kernel_package (GCancellable  *cancellable,
                        GError       **error)
{
  const char *const argv[] = { "apt-cache", "depends", IMAGE_DEBS_KERNEL_META, NULL };
  g_autofree char *out = image_run (argv, NULL, cancellable, error);
  g_auto(GStrv) lines = NULL;

  if (out == NULL)
    return NULL;
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);

      if (g_str_has_prefix (line, "Depends: ") && is_kernel_package (line + 9))
        return g_strdup (line + 9);
    }
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
               _("apt knows no kernel package for %s; run apt-get update, or set "
                 "[images] debs in the config file to a directory of .debs"),
               IMAGE_DEBS_KERNEL_META);
  return NULL;
}

static char *
download (const char    *package,
          const char    *cache_dir,
          GCancellable  *cancellable,
          GError       **error)
{
  const char *const show[] = { "apt-cache", "show", "--no-all-versions", package, NULL };
  g_autofree char *info = image_run (show, NULL, cancellable, error);
  g_autofree char *version = NULL, *arch = NULL, *escaped = NULL, *file = NULL;
  g_autofree char *tmp = NULL, *got = NULL, *from = NULL, *to = NULL;
  g_autoptr(GError) cleanup = NULL;

  if (info == NULL)
    return NULL;
  version = apt_field (info, "Version");
  arch = apt_field (info, "Architecture");
  if (version == NULL || arch == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                   _("apt has no version of %s; run apt-get update"), package);
      return NULL;
    }
  /* apt-get download writes the epoch's ':' as %3a, in lower case. */
  {
    g_auto(GStrv) parts = g_strsplit (version, ":", -1);
    escaped = g_strjoinv ("%3a", parts);
  }
  file = g_strdup_printf ("%s_%s_%s.deb", package, escaped, arch);
  to = g_build_filename (cache_dir, file, NULL);
  if (g_file_test (to, G_FILE_TEST_IS_REGULAR))
    return g_steal_pointer (&file);

  /* g_mkdtemp_full() fills in the template in place. */
  tmp = g_build_filename (cache_dir, IMAGE_BUILD_DOWNLOAD_PREFIX "XXXXXX", NULL);
  if (g_mkdtemp_full (tmp, 0700) == NULL)
    {
      int saved = errno;
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, _("Cannot create %s: %s"),
                   tmp, g_strerror (saved));
      return NULL;
    }
  {
    const char *const argv[] = { "apt-get", "-q", "download", package, NULL };
    g_autofree char *out = image_run (argv, tmp, cancellable, error);

    if (out != NULL && (got = find_deb (tmp, package)) == NULL)
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("apt-get download %s left no .deb"), package);
    if (got != NULL)
      {
        from = g_build_filename (tmp, got, NULL);
        g_free (to);
        to = g_build_filename (cache_dir, got, NULL);
        if (g_rename (from, to) != 0)
          {
            int saved = errno;
            g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, _("Cannot move %s to %s: %s"),
                         from, to, g_strerror (saved));
            g_clear_pointer (&got, g_free);
          }
      }
  }
  if (!fs_remove_tree (tmp, &cleanup))
    g_warning ("%s", cleanup->message);
  return g_steal_pointer (&got);
}

char *
image_debs_get (const char    *package,
                const char    *debs_dir,
                const char    *cache_dir,
                char         **out_label,
                GCancellable  *cancellable,
                GError       **error)
{
  gboolean kernel = g_str_equal (package, IMAGE_DEBS_KERNEL_META);
  g_autofree char *file = NULL;
  const char *dir = debs_dir != NULL ? debs_dir : cache_dir;

  if (debs_dir != NULL)
    {
      file = find_deb (debs_dir, kernel ? NULL : package);
      if (file == NULL)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                       _("No .deb of %s in %s (the config file's [images] debs); "
                         "put one there with apt-get download"),
                       kernel ? "linux-image-VERSION-cloud-amd64" : package, debs_dir);
          return NULL;
        }
    }
  else
    {
      g_autofree char *real = kernel ? resolve_kernel_package (cancellable, error)
                                     : g_strdup (package);

      if (real == NULL || !fs_ensure_private_dir (cache_dir, error))
        return NULL;
      file = download (real, cache_dir, cancellable, error);
      if (file == NULL)
        return NULL;
    }
  *out_label = label_for (file);
  return g_build_filename (dir, file, NULL);
}
