/* initramfs.c: packs banger-init, the agent and the kernel modules banger
 * needs into a newc cpio (docs/guest-boot.md, "The initramfs"). Modules
 * are resolved through the kernel's own modules.dep, dependencies first;
 * the output is byte-for-byte reproducible (sorted, mtime 0, owner 0:0). */
#define G_LOG_DOMAIN "bangerd-initramfs"

#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "banger-error.h"
#include "fs-util.h"
#include "initramfs.h"

/* What banger-init needs from the kernel, per set, in the order they are
 * wanted. Every VM loads the base set: the virtio transport and devices,
 * the overlay root, the root file system and the ACPI power button (clean
 * shutdown). Then only its agent channel's set: a module costs ~10 ms to
 * load under an emulated CPU even with no device for it. */
static const char *const base_modules[] = {
  "virtio_mmio", "virtio_blk", "virtio_net", "overlay", "ext4", "evdev", "button", NULL,
};
static const char *const vsock_modules[] = { "vmw_vsock_virtio_transport", NULL };
static const char *const vport_modules[] = { "virtio_console", NULL };

static const char *const *const set_modules[INITRAMFS_N_MODULE_SETS] = {
  [INITRAMFS_MODULES_BASE] = base_modules,
  [INITRAMFS_MODULES_VSOCK] = vsock_modules,
  [INITRAMFS_MODULES_VPORT] = vport_modules,
};

/* The load list of each set inside the initramfs (docs/guest-boot.md). */
static const char *const set_list_paths[INITRAMFS_N_MODULE_SETS] = {
  [INITRAMFS_MODULES_BASE] = "banger/modules",
  [INITRAMFS_MODULES_VSOCK] = "banger/modules.vsock",
  [INITRAMFS_MODULES_VPORT] = "banger/modules.vport",
};

/* Directories banger-init mounts on or expects. */
static const char *const base_dirs[] = { "banger", "dev", "mnt", "newroot", "proc", "sys" };

#define MODULES_DEP_MAX  ((gsize) 64 << 20)
#define INPUT_FILE_MAX   ((gsize) 256 << 20)


/* modprobe treats '-' and '_' in module names alike. */
static char *
module_name_from_path (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);
  char *dot = strstr (base, ".ko");

  if (dot != NULL)
    *dot = '\0';
  g_strdelimit (base, "-", '_');
  return g_steal_pointer (&base);
}

/* A path from modules.dep must stay below the modules directory. */
static gboolean
module_path_valid (const char *path)
{
  g_auto(GStrv) parts = NULL;

  if (*path == '\0' || g_path_is_absolute (path))
    return FALSE;
  parts = g_strsplit (path, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (*parts[i] == '\0' || g_str_equal (parts[i], ".") || g_str_equal (parts[i], ".."))
      return FALSE;
  return TRUE;
}

typedef struct {
  GHashTable *deps;      /* path → GStrv of dependency paths, as listed */
  GHashTable *by_name;   /* module name → path */
  GHashTable *builtin;   /* module name set */
  GHashTable *state;     /* path → 1 visiting, 2 done */
  GPtrArray  *order;     /* paths, load order */
} Resolver;

static gboolean
load_modules_dep (Resolver    *r,
                  const char  *modules_dir,
                  GError     **error)
{
  g_autofree char *dep_path = g_build_filename (modules_dir, "modules.dep", NULL);
  g_autofree char *builtin_path = g_build_filename (modules_dir, "modules.builtin", NULL);
  g_autofree char *text = NULL;
  g_autofree char *builtin_text = NULL;
  g_auto(GStrv) lines = NULL;
  gsize len = 0;

  if (!g_file_get_contents (dep_path, &text, &len, error))
    {
      g_prefix_error (error, _("Cannot read the kernel's module list (run depmod for this kernel): "));
      return FALSE;
    }
  if (len > MODULES_DEP_MAX || memchr (text, '\0', len) != NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_CORRUPT,
                   _("%s is not a modules.dep file"), dep_path);
      return FALSE;
    }
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *colon = strchr (lines[i], ':');
      g_auto(GStrv) deps = NULL;
      g_autofree char *name = NULL;

      if (*lines[i] == '\0')
        continue;
      if (colon == NULL)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_CORRUPT,
                       _("%s line %u has no ':'; regenerate it with depmod"), dep_path, i + 1);
          return FALSE;
        }
      *colon = '\0';
      deps = g_strsplit_set (g_strstrip (colon + 1), " \t", -1);
      for (guint j = 0; deps[j] != NULL; j++)
        if (*deps[j] != '\0' && !module_path_valid (deps[j]))
          {
            g_set_error (error, BANGER_ERROR, BANGER_ERROR_CORRUPT,
                         _("%s line %u names a module outside the modules directory"), dep_path, i + 1);
            return FALSE;
          }
      if (!module_path_valid (lines[i]))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_CORRUPT,
                       _("%s line %u names a module outside the modules directory"), dep_path, i + 1);
          return FALSE;
        }
      name = module_name_from_path (lines[i]);
      g_hash_table_replace (r->by_name, g_steal_pointer (&name), g_strdup (lines[i]));
      g_hash_table_replace (r->deps, g_strdup (lines[i]), g_steal_pointer (&deps));
    }

  /* modules.builtin is optional: a kernel with everything modular. */
  if (g_file_get_contents (builtin_path, &builtin_text, NULL, NULL))
    {
      g_auto(GStrv) builtin_lines = g_strsplit (builtin_text, "\n", -1);

      for (guint i = 0; builtin_lines[i] != NULL; i++)
        if (*builtin_lines[i] != '\0')
          g_hash_table_add (r->builtin, module_name_from_path (builtin_lines[i]));
    }
  return TRUE;
}

/* Depth-first: every dependency is placed before the module needing it.
 * modules.dep lists a module's dependencies last-needed-first, so they are
 * visited from the end, which gives modprobe's order. */
static gboolean
visit (Resolver    *r,
       const char  *path,
       GError     **error)
{
  GStrv deps;
  guint n;
  gpointer state = g_hash_table_lookup (r->state, path);

  if (GPOINTER_TO_INT (state) == 2)
    return TRUE;
  if (GPOINTER_TO_INT (state) == 1)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_CORRUPT,
                   _("modules.dep has a dependency cycle through %s"), path);
      return FALSE;
    }
  deps = g_hash_table_lookup (r->deps, path);
  if (deps == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_CORRUPT,
                   _("modules.dep names the dependency %s but has no entry for it; regenerate it with depmod"),
                   path);
      return FALSE;
    }
  if (!g_str_has_suffix (path, ".ko"))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                   _("Module %s is compressed; banger-init loads only uncompressed .ko files"), path);
      return FALSE;
    }
  g_hash_table_insert (r->state, g_strdup (path), GINT_TO_POINTER (1));
  n = g_strv_length (deps);
  for (guint i = n; i > 0; i--)
    if (*deps[i - 1] != '\0' && !visit (r, deps[i - 1], error))
      return FALSE;
  g_hash_table_insert (r->state, g_strdup (path), GINT_TO_POINTER (2));
  g_ptr_array_add (r->order, g_strdup (path));
  return TRUE;
}

/* Resolves @names into r->order, skipping what r->state already has done. */
static gboolean
resolve_set (Resolver           *r,
             const char *const  *names,
             const char         *modules_dir,
             GError            **error)
{
  for (guint i = 0; names[i] != NULL; i++)
    {
      const char *path = g_hash_table_lookup (r->by_name, names[i]);

      if (path == NULL)
        {
          if (g_hash_table_contains (r->builtin, names[i]))
            continue;
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                       _("The kernel in %s has no module %s and does not build it in; "
                         "banger needs it to boot a VM"), modules_dir, names[i]);
          return FALSE;
        }
      if (!visit (r, path, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
initramfs_resolve_modules (const char  *modules_dir,
                           GPtrArray   *sets[INITRAMFS_N_MODULE_SETS],
                           GError     **error)
{
  Resolver r = {
    .deps = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_strfreev),
    .by_name = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free),
    .builtin = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL),
    .state = NULL,
    .order = NULL,
  };
  g_autoptr(GHashTable) base_done = NULL;
  gboolean ok = FALSE;

  for (guint i = 0; i < INITRAMFS_N_MODULE_SETS; i++)
    sets[i] = NULL;
  if (!load_modules_dep (&r, modules_dir, error))
    goto out;
  /* A channel's set leaves out what the base set already loads, and is
   * resolved on its own, since only one channel's set is loaded. */
  for (guint set = 0; set < INITRAMFS_N_MODULE_SETS; set++)
    {
      r.state = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      if (base_done != NULL)
        {
          GHashTableIter iter;
          gpointer path;

          g_hash_table_iter_init (&iter, base_done);
          while (g_hash_table_iter_next (&iter, &path, NULL))
            g_hash_table_insert (r.state, g_strdup (path), GINT_TO_POINTER (2));
        }
      r.order = g_ptr_array_new_with_free_func (g_free);
      if (!resolve_set (&r, set_modules[set], modules_dir, error))
        goto out;
      sets[set] = g_steal_pointer (&r.order);
      if (set == INITRAMFS_MODULES_BASE)
        base_done = g_steal_pointer (&r.state);
      else
        g_clear_pointer (&r.state, g_hash_table_unref);
    }
  ok = TRUE;

out:
  g_hash_table_unref (r.deps);
  g_hash_table_unref (r.by_name);
  g_hash_table_unref (r.builtin);
  g_clear_pointer (&r.state, g_hash_table_unref);
  g_clear_pointer (&r.order, g_ptr_array_unref);
  if (!ok)
    for (guint i = 0; i < INITRAMFS_N_MODULE_SETS; i++)
      g_clear_pointer (&sets[i], g_ptr_array_unref);
  return ok;
}

static gboolean
validate_kernel_version (const char  *version,
                         GError     **error)
{
  size_t len = version != NULL ? strlen (version) : 0;

  if (len == 0 || len > 128 || g_str_equal (version, ".") || g_str_equal (version, ".."))
    goto bad;
  for (size_t i = 0; i < len; i++)
    if (!g_ascii_isalnum (version[i]) && strchr ("._-+~", version[i]) == NULL)
      goto bad;
  return TRUE;

bad:
  {
    g_autofree char *shown = g_strescape (version != NULL ? version : "", NULL);
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                 _("Kernel version “%.64s” is not a plain release name such as 6.1.0-56-cloud-amd64"),
                 shown);
    return FALSE;
  }
}

/* One cpio member: a directory, a device, or a file with its bytes. */
typedef struct {
  char    *path;
  mode_t   mode;       /* type | permissions */
  dev_t    rdev;
  GBytes  *data;
} Member;

static void
member_free (Member *m)
{
  g_free (m->path);
  g_clear_pointer (&m->data, g_bytes_unref);
  g_free (m);
}

static int
member_compare (gconstpointer a,
                gconstpointer b)
{
  return strcmp ((*(Member *const *) a)->path, (*(Member *const *) b)->path);
}

static void
add_member (GPtrArray  *members,
            GHashTable *seen,
            const char *path,
            mode_t      mode,
            dev_t       rdev,
            GBytes     *data)
{
  Member *m;

  if (!g_hash_table_add (seen, g_strdup (path)))
    {
      g_clear_pointer (&data, g_bytes_unref);
      return;
    }
  m = g_new0 (Member, 1);
  m->path = g_strdup (path);
  m->mode = mode;
  m->rdev = rdev;
  m->data = data;
  g_ptr_array_add (members, m);
}

/* Adds @path's parent directories, then the file. */
static void
add_file_member (GPtrArray  *members,
                 GHashTable *seen,
                 const char *path,
                 mode_t      perm,
                 GBytes     *data)
{
  g_autofree char *parent = g_path_get_dirname (path);

  while (!g_str_equal (parent, "."))
    {
      char *next = g_path_get_dirname (parent);

      add_member (members, seen, parent, S_IFDIR | 0755, 0, NULL);
      g_free (parent);
      parent = next;
    }
  add_member (members, seen, path, S_IFREG | perm, 0, data);
}

static GBytes *
read_input (const char  *path,
            const char  *what,
            GError     **error)
{
  struct stat st;
  char *contents = NULL;
  gsize len = 0;

  if (stat (path, &st) < 0)
    {
      fs_set_errno_error (error, errno, _("Cannot use %s %s"), what, path);
      return NULL;
    }
  if (!S_ISREG (st.st_mode) || (gsize) st.st_size > INPUT_FILE_MAX)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("The %s %s is not a regular file of at most 256 MiB"), what, path);
      return NULL;
    }
  if (!g_file_get_contents (path, &contents, &len, error))
    return NULL;
  return g_bytes_new_take (contents, len);
}

static gboolean
write_members (int          fd,
               GPtrArray   *members,
               const char  *tmp_path,
               GCancellable *cancellable,
               GError     **error)
{
  struct archive *a = archive_write_new ();
  struct archive_entry *entry = archive_entry_new ();
  gboolean ok = FALSE;

  if (archive_write_set_format_cpio_newc (a) != ARCHIVE_OK
      || archive_write_add_filter_none (a) != ARCHIVE_OK
      || archive_write_set_bytes_in_last_block (a, 1) != ARCHIVE_OK
      || archive_write_open_fd (a, fd) != ARCHIVE_OK)
    goto archive_failed;

  for (guint i = 0; i < members->len; i++)
    {
      Member *m = g_ptr_array_index (members, i);
      gsize size = m->data != NULL ? g_bytes_get_size (m->data) : 0;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        goto out;
      archive_entry_clear (entry);
      archive_entry_set_pathname (entry, m->path);
      archive_entry_set_mode (entry, m->mode);
      archive_entry_set_uid (entry, 0);
      archive_entry_set_gid (entry, 0);
      archive_entry_set_mtime (entry, 0, 0);
      archive_entry_set_ino (entry, i + 1);
      archive_entry_set_nlink (entry, S_ISDIR (m->mode) ? 2 : 1);
      archive_entry_set_rdev (entry, m->rdev);
      archive_entry_set_size (entry, (la_int64_t) size);
      if (archive_write_header (a, entry) != ARCHIVE_OK)
        goto archive_failed;
      if (size > 0 && archive_write_data (a, g_bytes_get_data (m->data, NULL), size) != (la_ssize_t) size)
        goto archive_failed;
    }
  if (archive_write_close (a) != ARCHIVE_OK)
    goto archive_failed;
  ok = TRUE;
  goto out;

archive_failed:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot write the initramfs %s: %s"),
               tmp_path, archive_error_string (a) != NULL ? archive_error_string (a) : _("unknown error"));
out:
  archive_entry_free (entry);
  archive_write_free (a);
  return ok;
}

/* Adds every set's modules and its load list; returns how many modules,
 * or -1 with @error set. */
static int
add_modules (GPtrArray     *members,
             GHashTable    *seen,
             const char    *modules_dir,
             const char    *in_archive_dir,
             GCancellable  *cancellable,
             GError       **error)
{
  GPtrArray *sets[INITRAMFS_N_MODULE_SETS];
  int count = -1;

  if (!initramfs_resolve_modules (modules_dir, sets, error))
    return -1;
  for (guint set = 0; set < INITRAMFS_N_MODULE_SETS; set++)
    {
      g_autoptr(GString) load_list = g_string_new (NULL);

      for (guint i = 0; i < sets[set]->len; i++)
        {
          const char *relative = g_ptr_array_index (sets[set], i);
          g_autofree char *source = g_build_filename (modules_dir, relative, NULL);
          g_autofree char *target = g_build_filename (in_archive_dir, relative, NULL);
          GBytes *bytes;

          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            goto out;
          bytes = read_input (source, _("kernel module"), error);
          if (bytes == NULL)
            goto out;
          add_file_member (members, seen, target, 0644, bytes);
          g_string_append_printf (load_list, "%s\n", relative);
        }
      add_file_member (members, seen, set_list_paths[set], 0644,
                       g_bytes_new (load_list->str, load_list->len));
    }
  count = 0;
  for (guint set = 0; set < INITRAMFS_N_MODULE_SETS; set++)
    count += (int) sets[set]->len;

out:
  for (guint set = 0; set < INITRAMFS_N_MODULE_SETS; set++)
    g_ptr_array_unref (sets[set]);
  return count;
}

gboolean
initramfs_build (const char    *modules_root,
                 const char    *kernel_version,
                 const char    *init_path,
                 const char    *agent_path,
                 const char    *output_path,
                 GCancellable  *cancellable,
                 GError       **error)
{
  int n_modules;
  g_autoptr(GPtrArray) members = g_ptr_array_new_with_free_func ((GDestroyNotify) member_free);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *modules_dir = NULL;
  g_autofree char *in_archive_dir = NULL;
  g_autofree char *tmp_path = NULL;
  GBytes *bytes;
  int fd;

  g_return_val_if_fail (modules_root != NULL && init_path != NULL && agent_path != NULL
                        && output_path != NULL, FALSE);

  if (!validate_kernel_version (kernel_version, error))
    return FALSE;
  modules_dir = g_build_filename (modules_root, "lib", "modules", kernel_version, NULL);
  in_archive_dir = g_build_filename ("lib", "modules", kernel_version, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (base_dirs); i++)
    add_member (members, seen, base_dirs[i], S_IFDIR | 0755, 0, NULL);
  /* The kernel opens /dev/console for init before devtmpfs is mounted. */
  add_member (members, seen, "dev/console", S_IFCHR | 0600, makedev (5, 1), NULL);

  bytes = read_input (init_path, _("banger-init program"), error);
  if (bytes == NULL)
    return FALSE;
  add_file_member (members, seen, "init", 0755, bytes);
  bytes = read_input (agent_path, _("agent program"), error);
  if (bytes == NULL)
    return FALSE;
  add_file_member (members, seen, "banger/agent", 0755, bytes);

  n_modules = add_modules (members, seen, modules_dir, in_archive_dir, cancellable, error);
  if (n_modules < 0)
    return FALSE;

  /* Sorted paths put every directory before its contents. */
  g_ptr_array_sort (members, member_compare);

  tmp_path = g_strconcat (output_path, ".tmp-XXXXXX", NULL);
  fd = g_mkstemp_full (tmp_path, O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0)
    return fs_set_errno_error (error, errno, _("Cannot create a temporary file beside %s"), output_path);
  if (fchmod (fd, 0644) < 0)
    {
      fs_set_errno_error (error, errno, _("Cannot set the mode of %s"), tmp_path);
      goto fail;
    }
  if (!write_members (fd, members, tmp_path, cancellable, error))
    goto fail;
  if (fsync (fd) < 0)
    {
      fs_set_errno_error (error, errno, _("Cannot write the initramfs %s"), tmp_path);
      goto fail;
    }
  if (close (fd) < 0)
    {
      fd = -1;
      fs_set_errno_error (error, errno, _("Cannot write the initramfs %s"), tmp_path);
      goto fail;
    }
  fd = -1;
  if (rename (tmp_path, output_path) < 0)
    {
      fs_set_errno_error (error, errno, _("Cannot put the initramfs in place at %s"), output_path);
      goto fail;
    }
  g_debug ("wrote %s: %d modules for %s", output_path, n_modules, kernel_version);
  return TRUE;

fail:
  if (fd >= 0)
    close (fd);
  g_unlink (tmp_path);
  return FALSE;
}

/* ---- async wrapper ---- */

typedef struct {
  char *modules_root;
  char *kernel_version;
  char *init_path;
  char *agent_path;
  char *output_path;
} BuildData;

static void
build_data_free (BuildData *data)
{
  g_free (data->modules_root);
  g_free (data->kernel_version);
  g_free (data->init_path);
  g_free (data->agent_path);
  g_free (data->output_path);
  g_free (data);
}

static void
build_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  BuildData *data = task_data;
  GError *error = NULL;

  if (initramfs_build (data->modules_root, data->kernel_version, data->init_path,
                       data->agent_path, data->output_path, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
initramfs_build_async (const char          *modules_root,
                       const char          *kernel_version,
                       const char          *init_path,
                       const char          *agent_path,
                       const char          *output_path,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  BuildData *data;

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, initramfs_build_async);
  data = g_new0 (BuildData, 1);
  data->modules_root = g_strdup (modules_root);
  data->kernel_version = g_strdup (kernel_version);
  data->init_path = g_strdup (init_path);
  data->agent_path = g_strdup (agent_path);
  data->output_path = g_strdup (output_path);
  g_task_set_task_data (task, data, (GDestroyNotify) build_data_free);
  g_task_run_in_thread (task, build_thread);
}

gboolean
initramfs_build_finish (GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
