/* user-files.c: resolves the caller's identity and opens the files they
 * want in a jail without following symlinks or leaving their own dirs. */
#define G_LOG_DOMAIN "banger-helper-user-files"

#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <string.h>

#include <glib/gi18n.h>

#include "banger-error.h"

#include "launch-spec.h"
#include "safe-path.h"
#include "user-files.h"

void
launch_caller_clear (LaunchCaller *caller)
{
  g_clear_pointer (&caller->home, g_free);
}

gboolean
launch_caller_lookup (guint32        uid,
                      LaunchCaller  *caller,
                      GError       **error)
{
  struct passwd pw, *result = NULL;
  g_autofree char *buf = NULL;
  size_t size = 4096;
  int r;

  if (uid == 0)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                           _("The helper never launches a VM as root; run "
                             "bangerd as a normal user."));
      return FALSE;
    }

  do
    {
      g_free (buf);
      buf = g_malloc (size);
      r = getpwuid_r (uid, &pw, buf, size, &result);
      size *= 2;
    }
  while (r == ERANGE && size <= 1024 * 1024);

  if (result == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("uid %u has no entry in the password database, so it "
                     "has no home with banger files; launch as a user with "
                     "an account."), uid);
      return FALSE;
    }
  if (pw.pw_gid == 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                   _("The primary group of uid %u is root (gid 0); the helper "
                     "never runs a VM with it. Give the user another primary "
                     "group."), uid);
      return FALSE;
    }

  caller->uid = uid;
  caller->gid = pw.pw_gid;
  caller->home = g_strdup (pw.pw_dir);
  return TRUE;
}

gboolean
user_file_check_stat (const char         *path,
                      const struct stat  *st,
                      guint32             uid,
                      GError            **error)
{
  if (S_ISLNK (st->st_mode))
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                 _("%s is a symbolic link; the helper follows none. Pass the "
                   "path of the file itself."), path);
  else if (!S_ISREG (st->st_mode))
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                 _("%s is not a regular file; pass a kernel, initrd or disk "
                   "image file."), path);
  else if (st->st_uid != uid)
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                 _("%s is owned by uid %u, not by you (uid %u); the helper "
                   "only takes your own files. Copy it and pass the copy."),
                 path, (guint) st->st_uid, uid);
  else
    return TRUE;
  return FALSE;
}

typedef struct {
  const LaunchCaller *caller;
  size_t              home_len;
} DirPolicy;

/* Above the home: any directory (root's). Below it: the caller's or
 * root's, so no other user arranged what the path leads to. */
static gboolean
check_user_dir (const char         *dir_path,
                const struct stat  *st,
                gpointer            user_data,
                GError            **error)
{
  DirPolicy *policy = user_data;

  if (strlen (dir_path) <= policy->home_len)
    return TRUE;
  if (st->st_uid == policy->caller->uid || st->st_uid == 0)
    return TRUE;
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
               _("%s is owned by uid %u, neither you nor root; the helper "
                 "only takes files from directories you own."),
               dir_path, (guint) st->st_uid);
  return FALSE;
}

int
launch_user_file_open (const LaunchCaller  *caller,
                       const char          *path,
                       GError             **error)
{
  DirPolicy policy = { caller, 0 };
  g_autoptr(GError) local_error = NULL;
  g_auto(HelperFd) fd = -1;
  struct stat st;

  if (!launch_path_check_allowed (path, caller->home, error))
    return -1;

  /* The home is a prefix of @path ending at a component boundary. */
  policy.home_len = g_str_equal (caller->home, "/") ? 1 : strlen (caller->home);
  fd = safe_path_open (path, SAFE_PATH_NONE, check_user_dir, &policy, &local_error);
  if (fd < 0)
    {
      /* A missing file is a bad spec too (Launch's documented errors). */
      if (g_error_matches (local_error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND))
        local_error->code = BANGER_ERROR_INVALID_ARGUMENT;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return -1;
    }
  if (fstat (fd, &st) < 0)
    {
      safe_path_set_errno_error (error, errno, _("Could not check %s"), path);
      return -1;
    }
  if (!user_file_check_stat (path, &st, caller->uid, error))
    return -1;
  return g_steal_fd (&fd);
}
