/* manager.c: dev.banger.Manager1 at /dev/banger/Daemon1: creating VMs,
 * the daemon's version and paths, and shutting the daemon down. */
#define G_LOG_DOMAIN "bangerd-manager"

#include "config.h"

#include <glib/gi18n.h>

#include "banger-error.h"
#include "banger-log.h"
#include "banger-names.h"
#include "daemon.h"
#include "boot-config.h"
#include "boot-defaults.h"
#include "fs-util.h"
#include "image-registry.h"
#include "vm-disk.h"
#include "vm-network.h"
#include "vm-object.h"
#include "vm-runtime.h"

#include <errno.h>
#include <unistd.h>

#include <glib/gstdio.h>

static void
replace_str (char       **slot,
             const char  *value)
{
  g_free (*slot);
  *slot = g_strdup (value);
}

typedef struct {
  Daemon                *daemon;
  GDBusMethodInvocation *invocation;
  VmRecord              *record;
  char                  *staging_dir;
  char                  *final_dir;
  gboolean               copy_image;
} CreateOp;

static void
create_op_free (CreateOp *op)
{
  g_hash_table_remove (op->daemon->creating, op->record->name);
  vm_record_free (op->record);
  g_free (op->staging_dir);
  g_free (op->final_dir);
  g_free (op);
}

static void
create_fail (CreateOp *op,
             GError   *error)
{
  g_autoptr(GError) cleanup_error = NULL;

  g_message ("CreateVM %s refused: %s", op->record->name, error->message);
  if (op->staging_dir != NULL && !fs_remove_tree (op->staging_dir, &cleanup_error))
    g_warning ("%s", cleanup_error->message);
  banger_error_to_invocation (op->invocation, error);
  g_error_free (error);
  create_op_free (op);
}

static void
create_finish (CreateOp *op)
{
  GError *error = NULL;
  VmObject *vm;

  /* The row goes in last: a VM that exists in the store has its disk. */
  if (g_rename (op->staging_dir, op->final_dir) != 0)
    {
      int saved = errno;
      return create_fail (op, g_error_new (BANGER_ERROR, BANGER_ERROR_FAILED,
                                           _("Cannot move the new VM's files to %s: %s"),
                                           op->final_dir, g_strerror (saved)));
    }
  g_clear_pointer (&op->staging_dir, g_free);
  if (!store_insert_vm (op->daemon->store, op->record, &error))
    {
      op->staging_dir = g_steal_pointer (&op->final_dir);
      return create_fail (op, error);
    }

  g_info ("Created VM %s (%s)", op->record->name, op->record->ipv4);
  daemon_add_vm (op->daemon, vm_record_copy (op->record));
  vm = daemon_lookup_vm (op->daemon, op->record->name);
  banger_manager1_complete_create_vm (op->daemon->manager, op->invocation, vm_object_get_path (vm));
  create_op_free (op);
}

static void
on_root_copied (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  CreateOp *op = user_data;
  GError *error = NULL;
  VmRootCopyMethod method;

  if (!vm_disk_copy_root_finish (result, &method, &error))
    return create_fail (op, error);
  replace_str (&op->record->disk_strategy,
               method == VM_ROOT_COPY_REFLINK ? "copy-reflink" : "copy-sparse");
  create_finish (op);
}

static void
on_disk_created (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  CreateOp *op = user_data;
  GError *error = NULL;
  g_autofree char *copy = NULL;

  if (!vm_disk_create_finish (result, &error))
    return create_fail (op, error);
  if (!op->copy_image)
    return create_finish (op);

  /* An image that cannot boot through the overlay gets a private copy:
   * a reflink where the file system shares blocks, else a sparse copy. */
  copy = g_build_filename (op->staging_dir, VM_ROOT_COPY_FILE, NULL);
  vm_disk_copy_root_async (op->record->image_path, copy, NULL, on_root_copied, op);
}

/* Splits CreateVM's options: the sizes go to vm-settings, the rest here. */
static gboolean
apply_boot_options (VmRecord    *record,
                    GVariant    *options,
                    gboolean    *out_copy_image,
                    GVariant   **out_sizes,
                    GError     **error)
{
  GVariantBuilder sizes;
  GVariantIter iter;
  const char *key;
  GVariant *value;
  gboolean ok = TRUE;

  g_variant_builder_init (&sizes, G_VARIANT_TYPE_VARDICT);
  g_variant_iter_init (&iter, options);
  while (ok && g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      const char *type = (g_str_equal (key, "NAT") || g_str_equal (key, "CopyImage")) ? "b"
                         : (g_str_equal (key, "Image") || g_str_equal (key, "Kernel") ||
                            g_str_equal (key, "VMM")) ? "s" : NULL;

      if (type == NULL)
        g_variant_builder_add (&sizes, "{sv}", key, value);
      else if (!g_variant_is_of_type (value, G_VARIANT_TYPE (type)))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       _("Option “%s” must be of type “%s”"), key, type);
          ok = FALSE;
        }
      else if (g_str_equal (key, "NAT"))
        record->nat = g_variant_get_boolean (value);
      else if (g_str_equal (key, "CopyImage"))
        *out_copy_image = g_variant_get_boolean (value);
      else if (g_str_equal (key, "VMM"))
        {
          const char *vmm = g_variant_get_string (value, NULL);

          ok = g_str_equal (vmm, "auto") || vmm_driver_lookup (vmm, error) != NULL;
          if (ok)
            {
              replace_str (&record->vmm, vmm);
              replace_str (&record->vmm_reason, "requested");
            }
        }
      else
        {
          const char *path = g_variant_get_string (value, NULL);
          gboolean is_image = g_str_equal (key, "Image");

          /* An image name: resolve_image() looks it up. A relative path
           * is neither, and is refused below as a path. */
          if (is_image && path[0] != '\0' && strchr (path, '/') == NULL)
            {
              replace_str (&record->image_path, path);
              g_variant_unref (value);
              continue;
            }
          ok = path[0] != '\0' &&
               boot_defaults_check_file_path (is_image ? _("image") : _("kernel"), path, error);
          if (ok)
            replace_str (is_image ? &record->image_path : &record->kernel_path, path);
          else if (path[0] == '\0')
            g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                         _("Option “%s” must not be empty"), key);
        }
      g_variant_unref (value);
    }
  *out_sizes = g_variant_ref_sink (g_variant_builder_end (&sizes));
  return ok;
}

/* The VMM for good: auto picks firecracker where it can run, else qemu,
 * and the VM remembers why, for `vm show`. */
static gboolean
choose_vmm (VmRecord            *record,
            const BootDefaults  *defaults,
            GError             **error)
{
  gboolean requested = g_str_equal (record->vmm_reason, "requested");
  g_autofree char *reason = NULL;
  const VmmDriver *driver = vmm_driver_choose (record->vmm,
                                               boot_defaults_binary_for (defaults, "firecracker"),
                                               &reason, error);

  if (driver == NULL)
    return FALSE;
  if (!g_str_equal (record->vmm, "auto"))
    {
      g_free (reason);
      reason = requested ? g_strdup_printf (_("%s, as requested"), driver->name)
                         : g_strdup_printf (_("%s, as [vm-defaults] vmm says"), driver->name);
    }
  replace_str (&record->vmm, driver->name);
  replace_str (&record->vmm_reason, reason);
  return TRUE;
}

/* Image by name (or, with none given or configured, the image named
 * "default" when there is one): its file, and its kernel's ELF vmlinux
 * unless the call names a kernel. */
static gboolean
resolve_image (Daemon      *daemon,
               VmRecord    *record,
               GVariant    *options,
               GError     **error)
{
  const char *name = record->image_path;
  const ImageRecord *image;
  const KernelRecord *kernel;

  if (name[0] == '/')
    return TRUE;
  if (name[0] == '\0')
    name = "default";
  image = image_registry_lookup (daemon->images, name);
  if (image == NULL && record->image_path[0] == '\0')
    return TRUE;
  if (image == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                   _("There is no image named “%s”; see 'banger image list', or give an "
                     "absolute path"), name);
      return FALSE;
    }
  kernel = image_registry_lookup_kernel (daemon->images, image->kernel_id);
  if (kernel != NULL && !g_variant_lookup (options, "Kernel", "&s", NULL))
    replace_str (&record->kernel_path, kernel->vmlinux_path);
  replace_str (&record->image_path, image->path);
  return TRUE;
}

/* Picks the VM's address: the lowest free one, skipping every VM's and
 * every VM being created right now. */
static gboolean
allocate_address (Daemon        *daemon,
                  const Subnet  *subnet,
                  VmRecord      *record,
                  GError       **error)
{
  g_autoptr(GHashTable) taken = g_hash_table_new (NULL, NULL);
  GHashTableIter iter;
  gpointer value;
  guint32 address;

  g_hash_table_iter_init (&iter, daemon->vms);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      const VmRecord *r = ((VmObject *) value)->record;

      if (r->ipv4 != NULL && ipv4_parse (r->ipv4, &address, NULL))
        g_hash_table_add (taken, GUINT_TO_POINTER (address));
    }
  g_hash_table_iter_init (&iter, daemon->creating);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_hash_table_add (taken, value);

  if (!subnet_allocate (subnet, taken, &address, error))
    return FALSE;
  record->ipv4 = ipv4_to_string (address);
  record->ipv4_prefix = subnet->prefix;
  record->mac = vm_network_mac_for (address);
  record->tap = vm_network_tap_for (getuid (), subnet, address);
  return TRUE;
}

static BootConfig *
boot_config_for (const VmRecord     *record,
                 const BootDefaults *defaults)
{
  BootConfig *config = boot_config_new ();

  config->hostname = g_strdup (record->name);
  config->ipv4_address = g_strdup (record->ipv4);
  config->ipv4_prefix = record->ipv4_prefix;
  config->gateway = ipv4_to_string (subnet_gateway (&defaults->subnet));
  config->mac = g_strdup (record->mac);
  config->resolvers = g_strdupv (defaults->resolvers);
  config->ssh_authorized_key = g_strdup (defaults->ssh_key);
  config->agent_vsock_port = BANGER_AGENT_VSOCK_PORT;
  return config;
}

/* Everything CreateVM decides before touching the disk. */
static VmRecord *
prepare_record (Daemon        *daemon,
                const char    *name,
                GVariant      *options,
                BootDefaults  *defaults,
                gboolean      *out_copy_image,
                GError       **error)
{
  g_autoptr(VmRecord) record = NULL;
  g_autoptr(GVariant) sizes = NULL;

  if (!banger_vm_name_validate (name, error))
    return NULL;
  if (daemon_lookup_vm (daemon, name) != NULL || g_hash_table_contains (daemon->creating, name))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                   _("A VM named “%s” already exists; pick another name or delete it first"),
                   name);
      return NULL;
    }

  record = vm_record_new (name);
  record->created_at_us = g_get_real_time ();
  if (!config_load_vm_defaults (daemon->config_path, &daemon->host, &record->settings, error) ||
      !boot_defaults_load (daemon->config_path, defaults, error))
    return NULL;
  replace_str (&record->image_path, defaults->image);
  replace_str (&record->kernel_path, defaults->kernel);
  replace_str (&record->vmm, defaults->vmm);
  record->nat = defaults->nat;
  if (!apply_boot_options (record, options, out_copy_image, &sizes, error) ||
      !choose_vmm (record, defaults, error) ||
      !resolve_image (daemon, record, options, error) ||
      !vm_settings_apply_options (&record->settings, sizes,
                                  VM_SETTING_VCPUS | VM_SETTING_MEMORY_MIB | VM_SETTING_DISK_BYTES,
                                  NULL, error) ||
      !allocate_address (daemon, &defaults->subnet, record, error))
    return NULL;
  if (*out_copy_image && record->image_path[0] == '\0')
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("CopyImage needs an image; give one (Image, --image) or set "
                     "[vm-defaults] image in the config file"));
      return NULL;
    }
  return g_steal_pointer (&record);
}

static void
create_vm (Daemon                *daemon,
           const char            *name,
           GVariant              *options,
           GDBusMethodInvocation *invocation)
{
  g_auto(BootDefaults) defaults = { 0 };
  g_autoptr(BootConfig) config = NULL;
  g_autofree char *vms_dir = g_build_filename (daemon->state_dir, "vms", NULL);
  g_autofree char *staging_name = g_strconcat (".creating-", name, NULL);
  GError *error = NULL;
  VmRecord *record;
  CreateOp *op;
  guint32 address;
  gboolean copy_image = FALSE;

  record = prepare_record (daemon, name, options, &defaults, &copy_image, &error);
  if (record == NULL)
    {
      g_message ("CreateVM refused: %s", error->message);
      banger_error_to_invocation (invocation, error);
      g_error_free (error);
      return;
    }

  /* From here on the name and address are reserved until the op ends. */
  ipv4_parse (record->ipv4, &address, NULL);
  g_hash_table_insert (daemon->creating, g_strdup (name), GUINT_TO_POINTER (address));
  op = g_new0 (CreateOp, 1);
  op->daemon = daemon;
  op->invocation = invocation;
  op->record = record;
  op->copy_image = copy_image;
  config = boot_config_for (record, &defaults);
  op->final_dir = g_build_filename (vms_dir, name, NULL);
  op->staging_dir = g_build_filename (vms_dir, staging_name, NULL);
  if (!fs_ensure_private_dir (vms_dir, &error) ||
      !fs_remove_tree (op->staging_dir, &error) ||
      !fs_ensure_private_dir (op->staging_dir, &error))
    return create_fail (op, error);
  if (g_file_test (op->final_dir, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK))
    return create_fail (op, g_error_new (BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                                         _("%s exists but belongs to no VM; move it "
                                           "aside to create VM “%s”"), op->final_dir, name));

  vm_disk_create_async (op->staging_dir, VM_DISK_FILE, record->settings.disk_bytes.value,
                        config, NULL, on_disk_created, op);
}

static gboolean
handle_create_vm (BangerManager1        *manager,
                  GDBusMethodInvocation *invocation,
                  const char            *name,
                  GVariant              *options,
                  Daemon                *daemon)
{
  g_autoptr(BangerOp) op = banger_op_begin (invocation);

  create_vm (daemon, name, options, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_get_vm (BangerManager1        *manager,
               GDBusMethodInvocation *invocation,
               const char            *name,
               Daemon                *daemon)
{
  g_autoptr(BangerOp) op = banger_op_begin (invocation);
  g_autoptr(GError) error = NULL;
  VmObject *vm;

  if (!banger_vm_name_validate (name, &error))
    {
      banger_error_to_invocation (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  vm = daemon_lookup_vm (daemon, name);
  if (vm == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                                             _("There is no VM named “%s”"), name);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  banger_manager1_complete_get_vm (manager, invocation, vm_object_get_path (vm));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_build_image (BangerManager1        *manager,
                    GDBusMethodInvocation *invocation,
                    const char            *name,
                    GVariant              *options,
                    Daemon                *daemon)
{
  g_autoptr(BangerOp) op = banger_op_begin (invocation);

  image_registry_handle_build (daemon->images, name, options, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_get_image (BangerManager1        *manager,
                  GDBusMethodInvocation *invocation,
                  const char            *name,
                  Daemon                *daemon)
{
  g_autoptr(BangerOp) op = banger_op_begin (invocation);

  image_registry_handle_get (daemon->images, name, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_shutdown (BangerManager1        *manager,
                 GDBusMethodInvocation *invocation,
                 Daemon                *daemon)
{
  g_autoptr(BangerOp) op = banger_op_begin (invocation);

  g_info ("Shutting down on request");
  banger_manager1_complete_shutdown (manager, invocation);
  /* Quit from an idle so the reply is flushed first. */
  g_idle_add_once ((GSourceOnceFunc) g_main_loop_quit, daemon->loop);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

void
manager_export (Daemon *daemon)
{
  daemon->manager = banger_manager1_skeleton_new ();
  banger_manager1_set_version (daemon->manager, PACKAGE_VERSION);
  banger_manager1_set_config_file (daemon->manager, daemon->config_path);
  banger_manager1_set_state_directory (daemon->manager, daemon->state_dir);

  g_signal_connect (daemon->manager, "handle-create-vm", G_CALLBACK (handle_create_vm), daemon);
  g_signal_connect (daemon->manager, "handle-get-vm", G_CALLBACK (handle_get_vm), daemon);
  g_signal_connect (daemon->manager, "handle-shutdown", G_CALLBACK (handle_shutdown), daemon);
  g_signal_connect (daemon->manager, "handle-build-image", G_CALLBACK (handle_build_image), daemon);
  g_signal_connect (daemon->manager, "handle-get-image", G_CALLBACK (handle_get_image), daemon);
}
