/* vm-initrd.c: one initramfs per (kernel, banger-init, agent), named by a
 * hash of all three, so a new banger build or kernel gets a fresh one and
 * VMs of the same kernel share it. It lives in the data dir, not the
 * cache: a jailed launch only takes files from ~/.local/{state,share}. */
#define G_LOG_DOMAIN "bangerd-initrd"

#include "config.h"

#include <errno.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "banger-error.h"
#include "fs-util.h"
#include "initramfs.h"
#include "vm-initrd.h"

const char *
vm_initrd_init_path (void)
{
  const char *path = g_getenv ("BANGER_INIT_PATH");

  return path != NULL && path[0] != '\0' ? path : BANGER_LIBEXECDIR "/banger-init";
}

const char *
vm_initrd_agent_path (void)
{
  const char *path = g_getenv ("BANGER_AGENT_PATH");

  return path != NULL && path[0] != '\0' ? path : BANGER_LIBEXECDIR "/banger-agent";
}

/* The one lib/modules/RELEASE below @modules_root, or NULL. */
static char *
find_release (const char *modules_root)
{
  g_autofree char *dir = g_build_filename (modules_root, "lib", "modules", NULL);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (name[0] != '.')
      return g_strdup (name);
  return NULL;
}

/* The SHA-256 of @path's contents. banger-init and the agent would be
 * read and hashed on every start (~2 MB, several ms), so digests are
 * remembered by file identity; one that changed while it was read is not. */
static char *
file_digest (const char  *path,
             GError     **error)
{
  static GMutex lock;
  static GHashTable *known; /* identity → digest */
  g_autofree char *before = fs_file_identity (path);
  g_autofree char *after = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *digest = NULL;
  gsize length;
  g_autoptr(GError) local = NULL;

  g_mutex_lock (&lock);
  if (known == NULL)
    known = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  digest = before != NULL ? g_strdup (g_hash_table_lookup (known, before)) : NULL;
  g_mutex_unlock (&lock);
  if (digest != NULL)
    return g_steal_pointer (&digest);

  if (!g_file_get_contents (path, &contents, &length, &local))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                   _("Cannot read %s (%s); is banger installed completely?"), path,
                   local->message);
      return NULL;
    }
  digest = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, length);
  after = fs_file_identity (path);
  if (before != NULL && g_strcmp0 (before, after) == 0)
    {
      g_mutex_lock (&lock);
      g_hash_table_replace (known, g_steal_pointer (&before), g_strdup (digest));
      g_mutex_unlock (&lock);
    }
  return g_steal_pointer (&digest);
}

static void
ensure_in_thread (GTask        *task,
                  gpointer      source,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  const char *kernel_path = task_data;
  g_autofree char *kernel_dir = g_path_get_dirname (kernel_path);
  g_autofree char *kernel_id = g_path_get_basename (kernel_dir);
  g_autofree char *modules_root = g_build_filename (kernel_dir, "modules", NULL);
  g_autofree char *release = find_release (modules_root);
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *dir = NULL;
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;
  const char *parts[] = { vm_initrd_init_path (), vm_initrd_agent_path () };
  GError *error = NULL;

  if (release == NULL)
    {
      g_task_return_pointer (task, NULL, NULL);
      return;
    }
  g_checksum_update (sum, (const guchar *) INITRAMFS_LAYOUT, -1);
  g_checksum_update (sum, (const guchar *) "", 1);
  g_checksum_update (sum, (const guchar *) kernel_id, -1);
  g_checksum_update (sum, (const guchar *) "", 1);
  g_checksum_update (sum, (const guchar *) release, -1);
  g_checksum_update (sum, (const guchar *) "", 1);
  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    {
      g_autofree char *digest = file_digest (parts[i], &error);

      if (digest == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
      g_checksum_update (sum, (const guchar *) digest, -1);
    }

  dir = g_build_filename (g_get_user_data_dir (), "banger", "initramfs", NULL);
  name = g_strdup_printf ("%.32s.img", g_checksum_get_string (sum));
  path = g_build_filename (dir, name, NULL);
  if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_task_return_pointer (task, g_steal_pointer (&path), g_free);
      return;
    }
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                               _("Cannot create %s: %s"), dir, g_strerror (saved));
      return;
    }
  /* Written to a temp name and renamed: VMs starting at once may build it
   * twice, never see half of it. */
  if (!initramfs_build (modules_root, release, vm_initrd_init_path (), vm_initrd_agent_path (),
                        path, cancellable, &error))
    {
      g_prefix_error (&error, _("Building the initramfs for kernel %s: "), release);
      g_task_return_error (task, error);
      return;
    }
  g_info ("Built the initramfs %s for kernel %s", path, release);
  g_task_return_pointer (task, g_steal_pointer (&path), g_free);
}

void
vm_initrd_ensure_async (const char          *kernel_path,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_task_data (task, g_strdup (kernel_path), g_free);
  g_task_run_in_thread (task, ensure_in_thread);
}

char *
vm_initrd_ensure_finish (GAsyncResult  *result,
                         GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
