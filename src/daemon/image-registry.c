/* image-registry.c: the images and kernels on the bus. Files live in
 * $XDG_DATA_HOME/banger/{images,kernels}, named by sha256 and never
 * changed; a build stages everything in a work dir and only the final,
 * main-loop step renames it into place and writes the rows. */
#define G_LOG_DOMAIN "bangerd-image"

#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "banger-error.h"
#include "banger-log.h"
#include "banger-names.h"
#include "fs-util.h"
#include "image-build.h"
#include "image-registry.h"
#include "job.h"
#include "vm-object.h"

typedef struct {
  ImageRegistry        *registry;
  ImageRecord          *record;
  BangerObjectSkeleton *object;
  BangerImage1         *iface;
} ImageEntry;

typedef struct {
  KernelRecord         *record;
  BangerObjectSkeleton *object;
} KernelEntry;

struct _ImageRegistry {
  Daemon     *daemon;
  char       *data_dir;
  char       *cache_dir;
  GHashTable *images;     /* name → ImageEntry */
  GHashTable *kernels;    /* &id → KernelEntry */
  GHashTable *building;   /* names of images being built */
};

static char *
kernel_object_path (const KernelRecord *record)
{
  return banger_object_path_for (DAEMON_KERNEL_PATH, record->name);
}

static void
image_entry_free (ImageEntry *entry)
{
  g_dbus_object_manager_server_unexport (entry->registry->daemon->object_manager,
                                         g_dbus_object_get_object_path (G_DBUS_OBJECT (entry->object)));
  g_signal_handlers_disconnect_by_data (entry->iface, entry);
  g_object_unref (entry->iface);
  g_object_unref (entry->object);
  image_record_free (entry->record);
  g_free (entry);
}

static void
kernel_entry_free (KernelEntry *entry)
{
  kernel_record_free (entry->record);
  g_object_unref (entry->object);
  g_free (entry);
}

static void
add_kernel (ImageRegistry *registry,
            KernelRecord  *record)
{
  KernelEntry *entry = g_new0 (KernelEntry, 1);
  g_autofree char *path = kernel_object_path (record);
  g_autoptr(BangerKernel1) iface = banger_kernel1_skeleton_new ();
  g_autofree char *digest = g_strconcat ("sha256:", record->sha256, NULL);

  entry->record = record;
  entry->object = banger_object_skeleton_new (path);
  banger_kernel1_set_release (iface, record->release);
  banger_kernel1_set_digest (iface, digest);
  banger_kernel1_set_path (iface, record->path);
  banger_kernel1_set_elf_path (iface, record->vmlinux_path);
  banger_kernel1_set_modules_path (iface, record->modules_path);
  banger_kernel1_set_created_at (iface, record->created_at_us);
  banger_object_skeleton_set_kernel1 (entry->object, iface);
  g_dbus_object_manager_server_export (registry->daemon->object_manager,
                                       G_DBUS_OBJECT_SKELETON (entry->object));
  g_hash_table_replace (registry->kernels, &record->id, entry);
}

static void
remove_kernel (ImageRegistry *registry,
               gint64         id)
{
  KernelEntry *entry = g_hash_table_lookup (registry->kernels, &id);

  if (entry == NULL)
    return;
  g_dbus_object_manager_server_unexport (registry->daemon->object_manager,
                                         g_dbus_object_get_object_path (G_DBUS_OBJECT (entry->object)));
  g_hash_table_remove (registry->kernels, &id);
}

static gboolean handle_delete (BangerImage1 *iface, GDBusMethodInvocation *invocation, ImageEntry *entry);

static void
add_image (ImageRegistry *registry,
           ImageRecord   *record)
{
  ImageEntry *entry = g_new0 (ImageEntry, 1);
  g_autofree char *path = banger_object_path_for (DAEMON_IMAGE_PATH, record->name);
  g_autofree char *digest = g_strconcat ("sha256:", record->sha256, NULL);
  KernelEntry *kernel = g_hash_table_lookup (registry->kernels, &record->kernel_id);
  g_autofree char *kernel_path = kernel != NULL ? kernel_object_path (kernel->record) : g_strdup ("/");

  entry->registry = registry;
  entry->record = record;
  entry->object = banger_object_skeleton_new (path);
  entry->iface = banger_image1_skeleton_new ();
  banger_image1_set_name (entry->iface, record->name);
  banger_image1_set_digest (entry->iface, digest);
  banger_image1_set_path (entry->iface, record->path);
  banger_image1_set_size (entry->iface, record->size);
  banger_image1_set_kernel (entry->iface, kernel_path);
  banger_image1_set_kernel_release (entry->iface, kernel != NULL ? kernel->record->release : "");
  banger_image1_set_overlay_capable (entry->iface, record->overlay_capable);
  banger_image1_set_source (entry->iface, record->source);
  banger_image1_set_created_at (entry->iface, record->created_at_us);
  g_signal_connect (entry->iface, "handle-delete", G_CALLBACK (handle_delete), entry);
  banger_object_skeleton_set_image1 (entry->object, entry->iface);
  g_dbus_object_manager_server_export (registry->daemon->object_manager,
                                       G_DBUS_OBJECT_SKELETON (entry->object));
  g_hash_table_replace (registry->images, record->name, entry);
}

/* What a crash can leave: build work dirs, partial downloads, and files
 * renamed into place whose rows were never committed. Files are matched
 * to rows by their content-addressed names, never by full path. */
static void
sweep (ImageRegistry *registry)
{
  g_autofree char *images = g_build_filename (registry->data_dir, "images", NULL);
  g_autofree char *kernels = g_build_filename (registry->data_dir, "kernels", NULL);
  g_autoptr(GHashTable) known = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *dirs[] = { images, kernels, registry->cache_dir };
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, registry->images);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_hash_table_add (known, g_strconcat (((ImageEntry *) value)->record->sha256, ".ext4", NULL));
  g_hash_table_iter_init (&iter, registry->kernels);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_hash_table_add (known, g_strdup (((KernelEntry *) value)->record->sha256));

  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autoptr(GDir) dir = g_dir_open (dirs[i], 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *path = g_build_filename (dirs[i], name, NULL);
          g_autoptr(GError) error = NULL;
          gboolean work = g_str_has_prefix (name, i == 2 ? IMAGE_BUILD_DOWNLOAD_PREFIX
                                                         : IMAGE_BUILD_WORK_PREFIX);
          /* Only names banger gives its files: sha256 hex (+ ".ext4"). */
          gboolean ours = i < 2 && strlen (name) == (i == 0 ? 64 + 5 : 64) &&
                          strspn (name, "0123456789abcdef") == 64 &&
                          (i == 1 || g_str_has_suffix (name, ".ext4"));

          if (!work && !(ours && !g_hash_table_contains (known, name)))
            continue;
          g_info ("Removing %s, left by an interrupted image build or delete", path);
          if (!fs_remove_tree (path, &error))
            g_warning ("%s", error->message);
        }
    }
}

ImageRegistry *
image_registry_new (Daemon  *daemon,
                    GError **error)
{
  g_autoptr(GPtrArray) kernels = image_store_list_kernels (daemon->store, error);
  g_autoptr(GPtrArray) images = NULL;
  ImageRegistry *registry;

  if (kernels == NULL)
    return NULL;
  images = image_store_list_images (daemon->store, error);
  if (images == NULL)
    return NULL;

  registry = g_new0 (ImageRegistry, 1);
  registry->daemon = daemon;
  registry->data_dir = g_build_filename (g_get_user_data_dir (), "banger", NULL);
  registry->cache_dir = g_build_filename (g_get_user_cache_dir (), "banger", "debs", NULL);
  registry->images = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                            (GDestroyNotify) image_entry_free);
  registry->kernels = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
                                             (GDestroyNotify) kernel_entry_free);
  registry->building = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < kernels->len; i++)
    add_kernel (registry, g_steal_pointer (&kernels->pdata[i]));
  for (guint i = 0; i < images->len; i++)
    add_image (registry, g_steal_pointer (&images->pdata[i]));
  sweep (registry);
  return registry;
}

void
image_registry_free (ImageRegistry *registry)
{
  GHashTableIter iter;
  gpointer value;

  if (registry == NULL)
    return;
  g_hash_table_unref (registry->images);
  g_hash_table_iter_init (&iter, registry->kernels);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_dbus_object_manager_server_unexport (registry->daemon->object_manager,
                                           g_dbus_object_get_object_path (
                                             G_DBUS_OBJECT (((KernelEntry *) value)->object)));
  g_hash_table_unref (registry->kernels);
  g_hash_table_unref (registry->building);
  g_free (registry->data_dir);
  g_free (registry->cache_dir);
  g_free (registry);
}

const ImageRecord *
image_registry_lookup (ImageRegistry *registry,
                       const char    *name)
{
  ImageEntry *entry = registry != NULL ? g_hash_table_lookup (registry->images, name) : NULL;

  return entry != NULL ? entry->record : NULL;
}

const KernelRecord *
image_registry_lookup_kernel (ImageRegistry *registry,
                              gint64         id)
{
  KernelEntry *entry = registry != NULL ? g_hash_table_lookup (registry->kernels, &id) : NULL;

  return entry != NULL ? entry->record : NULL;
}

static gboolean
validate_name (const char  *name,
               GError     **error)
{
  g_autoptr(GError) local = NULL;

  if (banger_vm_name_validate (name, &local))
    return TRUE;
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
               _("“%s” is not a valid image name: use 1-63 characters from a-z, 0-9 and "
                 "'-', not starting or ending with '-'"), name);
  return FALSE;
}

void
image_registry_handle_get (ImageRegistry         *registry,
                           const char            *name,
                           GDBusMethodInvocation *invocation)
{
  g_autoptr(GError) error = NULL;
  ImageEntry *entry;

  if (!validate_name (name, &error))
    return banger_error_to_invocation (invocation, error);
  entry = g_hash_table_lookup (registry->images, name);
  if (entry == NULL)
    return g_dbus_method_invocation_return_error (invocation, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                                                  _("There is no image named “%s”; build one "
                                                    "with 'banger image build %s'"), name, name);
  g_dbus_method_invocation_return_value (
    invocation, g_variant_new ("(o)", g_dbus_object_get_object_path (G_DBUS_OBJECT (entry->object))));
}

/* A VM needs the image's file, and the kernel's files when they would go. */
static const char *
vm_using (ImageRegistry      *registry,
          const ImageRecord  *image,
          gboolean            file_goes,
          const KernelRecord *kernel)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, registry->daemon->vms);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      const VmRecord *vm = ((VmObject *) value)->record;

      if (file_goes && g_strcmp0 (vm->image_path, image->path) == 0)
        return vm->name;
      if (kernel != NULL && (g_strcmp0 (vm->kernel_path, kernel->path) == 0 ||
                             g_strcmp0 (vm->kernel_path, kernel->vmlinux_path) == 0))
        return vm->name;
    }
  return NULL;
}

static guint
count_images (ImageRegistry *registry,
              const char    *sha256,
              gint64         kernel_id)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_hash_table_iter_init (&iter, registry->images);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      const ImageRecord *r = ((ImageEntry *) value)->record;

      n += sha256 != NULL ? g_str_equal (r->sha256, sha256) : r->kernel_id == kernel_id;
    }
  return n;
}

static gboolean
handle_delete (BangerImage1          *iface,
               GDBusMethodInvocation *invocation,
               ImageEntry            *entry)
{
  g_autoptr(BangerOp) op = banger_op_begin (invocation);
  ImageRegistry *registry = entry->registry;
  g_autoptr(ImageRecord) image = image_record_copy (entry->record);
  g_autoptr(KernelRecord) kernel = NULL;
  const KernelRecord *k = image_registry_lookup_kernel (registry, image->kernel_id);
  gboolean file_goes = count_images (registry, image->sha256, 0) == 1;
  gboolean kernel_goes = k != NULL && count_images (registry, NULL, image->kernel_id) == 1;
  gboolean file_unused, kernel_deleted;
  g_autoptr(GError) error = NULL;
  const char *user;

  user = vm_using (registry, image, file_goes, kernel_goes ? k : NULL);
  if (user != NULL)
    {
      g_dbus_method_invocation_return_error (invocation, BANGER_ERROR, BANGER_ERROR_BUSY,
                                             _("VM “%s” boots from image “%s”; delete the VM "
                                               "first"), user, image->name);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (k != NULL)
    kernel = kernel_record_copy (k);
  if (!image_store_delete_image (registry->daemon->store, image->name, &file_unused,
                                 &kernel_deleted, &error))
    {
      banger_error_to_invocation (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  /* The rows are gone: from here on a failure only leaves files that the
   * next start-up sweeps. */
  g_info ("Deleted image %s", image->name);
  g_hash_table_remove (registry->images, image->name);   /* frees @entry */
  if (file_unused && g_unlink (image->path) != 0 && errno != ENOENT)
    g_warning ("Cannot remove %s: %s", image->path, g_strerror (errno));
  if (kernel_deleted && kernel != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (kernel->path);

      remove_kernel (registry, kernel->id);
      if (!fs_remove_tree (dir, &error))
        g_warning ("%s", error->message);
    }
  banger_image1_complete_delete (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* One BuildImage call in flight. */
typedef struct {
  ImageRegistry         *registry;
  GDBusMethodInvocation *invocation;
  char                  *name;
  Job                   *job;
  ImageBuildProgress    *progress;
  guint                  progress_serial;
  guint                  progress_source;
} BuildOp;

static void
build_op_free (BuildOp *op)
{
  g_hash_table_remove (op->registry->building, op->name);
  if (op->progress_source != 0)
    g_source_remove (op->progress_source);
  image_build_progress_free (op->progress);
  g_free (op->name);
  g_free (op);
}

/* About ten updates a second at most, whatever the worker does. */
static gboolean
on_progress_tick (gpointer user_data)
{
  BuildOp *op = user_data;
  g_autofree char *step = NULL, *description = NULL;
  double fraction;

  if (image_build_progress_read (op->progress, &op->progress_serial, &step, &description, &fraction))
    job_set_step (op->job, step, description, fraction);
  return G_SOURCE_CONTINUE;
}

static void
build_fail (BuildOp *op,
            GError  *error)
{
  g_message ("BuildImage %s failed: %s", op->name, error->message);
  job_complete (op->job, error);
  banger_error_to_invocation (op->invocation, error);
  g_error_free (error);
  build_op_free (op);
}

static gboolean
rename_into_place (const char  *from,
                   const char  *to,
                   GError     **error)
{
  if (g_rename (from, to) != 0)
    {
      int saved = errno;
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, _("Cannot move %s to %s: %s"),
                   from, to, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

/* Renames the staged files into place and writes the rows; on failure
 * undoes the renames it did. */
static gboolean
register_result (ImageRegistry     *registry,
                 const char        *name,
                 ImageBuildResult  *result,
                 GError           **error)
{
  g_autofree char *kernels = g_build_filename (registry->data_dir, "kernels", NULL);
  g_autofree char *kernel_dir = g_build_filename (kernels, result->kernel_sha256, NULL);
  g_autofree char *image_name = g_strconcat (result->image_sha256, ".ext4", NULL);
  g_autofree char *image_path = g_build_filename (registry->data_dir, "images", image_name, NULL);
  KernelRecord kernel = { 0 };
  ImageRecord image = { 0 };
  g_autofree char *kernel_name = g_strndup (result->kernel_sha256, 16);
  g_autofree char *vmlinuz = g_build_filename (kernel_dir, "vmlinuz", NULL);
  g_autofree char *vmlinux = g_build_filename (kernel_dir, "vmlinux", NULL);
  g_autofree char *modules = g_build_filename (kernel_dir, "modules", NULL);
  gboolean moved_kernel = FALSE, moved_image = FALSE, kernel_added = FALSE, ok = TRUE;

  if (!fs_ensure_private_dir (kernels, error))
    return FALSE;
  if (result->kernel_dir != NULL && !g_file_test (kernel_dir, G_FILE_TEST_IS_DIR))
    {
      if (!rename_into_place (result->kernel_dir, kernel_dir, error))
        return FALSE;
      moved_kernel = TRUE;
    }
  if (!g_file_test (kernel_dir, G_FILE_TEST_IS_DIR))
    {
      /* The build found it installed; a Delete took it away since. */
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("The kernel was deleted during the build; build the image again"));
      return FALSE;
    }
  if (!g_file_test (image_path, G_FILE_TEST_IS_REGULAR))
    moved_image = ok = rename_into_place (result->image_file, image_path, error);

  kernel.name = kernel_name;
  kernel.sha256 = result->kernel_sha256;
  kernel.release = result->kernel_release;
  kernel.path = vmlinuz;
  kernel.vmlinux_path = vmlinux;
  kernel.modules_path = modules;
  kernel.created_at_us = g_get_real_time ();
  image.name = (char *) name;
  image.sha256 = result->image_sha256;
  image.path = image_path;
  image.size = result->image_size;
  image.overlay_capable = TRUE;
  image.source = result->source;
  image.created_at_us = kernel.created_at_us;
  if (ok)
    ok = image_store_register (registry->daemon->store, &kernel, &image, &kernel_added, error);
  if (!ok)
    {
      if (moved_image)
        g_unlink (image_path);
      if (moved_kernel)
        fs_remove_tree (kernel_dir, NULL);
      return FALSE;
    }

  if (kernel_added)
    add_kernel (registry, kernel_record_copy (&kernel));
  add_image (registry, image_record_copy (&image));
  return TRUE;
}

static void
on_built (GObject      *source,
          GAsyncResult *res,
          gpointer      user_data)
{
  BuildOp *op = user_data;
  g_autoptr(ImageBuildResult) result = NULL;
  g_autoptr(GError) cleanup = NULL;
  GError *error = NULL;
  ImageEntry *entry;
  gboolean ok;

  result = image_build_finish (res, &error);
  if (result == NULL)
    return build_fail (op, error);
  ok = !g_cancellable_set_error_if_cancelled (job_get_cancellable (op->job), &error) &&
       register_result (op->registry, op->name, result, &error);
  if (!fs_remove_tree (result->work_dir, &cleanup))
    g_warning ("%s", cleanup->message);
  if (!ok)
    return build_fail (op, error);

  g_info ("Built image %s (sha256 %s)", op->name, result->image_sha256);
  entry = g_hash_table_lookup (op->registry->images, op->name);
  job_complete (op->job, NULL);
  g_dbus_method_invocation_return_value (
    op->invocation, g_variant_new ("(o)", g_dbus_object_get_object_path (G_DBUS_OBJECT (entry->object))));
  build_op_free (op);
}

/* [images] debs: a directory of .debs to build from instead of apt. */
static char *
configured_debs_dir (const char *config_path)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autofree char *dir = NULL;

  if (!g_key_file_load_from_file (keyfile, config_path, G_KEY_FILE_NONE, NULL))
    return NULL;
  dir = g_key_file_get_string (keyfile, "images", "debs", NULL);
  return dir != NULL && *dir != '\0' ? g_steal_pointer (&dir) : NULL;
}

void
image_registry_handle_build (ImageRegistry         *registry,
                             const char            *name,
                             GVariant              *options,
                             GDBusMethodInvocation *invocation)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ImageBuildParams) params = g_new0 (ImageBuildParams, 1);
  g_autofree char *object_path = NULL;
  const char *agent = g_getenv ("BANGER_AGENT_PATH");
  BuildOp *op;

  if (!validate_name (name, &error))
    return banger_error_to_invocation (invocation, error);
  if (g_variant_n_children (options) > 0)
    return g_dbus_method_invocation_return_error (invocation, BANGER_ERROR,
                                                  BANGER_ERROR_INVALID_ARGUMENT,
                                                  _("BuildImage takes no options yet"));
  if (g_hash_table_contains (registry->images, name) ||
      g_hash_table_contains (registry->building, name))
    return g_dbus_method_invocation_return_error (invocation, BANGER_ERROR,
                                                  BANGER_ERROR_ALREADY_EXISTS,
                                                  _("An image named “%s” exists or is being "
                                                    "built; delete it first or pick another "
                                                    "name"), name);

  params->name = g_strdup (name);
  params->data_dir = g_strdup (registry->data_dir);
  params->cache_dir = g_strdup (registry->cache_dir);
  params->debs_dir = configured_debs_dir (registry->daemon->config_path);
  params->agent_path = g_strdup (agent != NULL && *agent != '\0' ? agent
                                 : BANGER_LIBEXECDIR "/banger-agent");

  op = g_new0 (BuildOp, 1);
  op->registry = registry;
  op->invocation = invocation;
  op->name = g_strdup (name);
  g_hash_table_add (registry->building, g_strdup (name));
  object_path = banger_object_path_for (DAEMON_IMAGE_PATH, name);
  op->job = job_new (registry->daemon->object_manager, "image-build", object_path, invocation);
  op->progress = image_build_progress_new ();
  op->progress_source = g_timeout_add (100, on_progress_tick, op);
  g_info ("Building image %s%s%s", name, params->debs_dir != NULL ? " from " : "",
          params->debs_dir != NULL ? params->debs_dir : "");
  image_build_async (params, op->progress, job_get_cancellable (op->job), on_built, op);
}
