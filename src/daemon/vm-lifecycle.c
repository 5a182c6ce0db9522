/* vm-lifecycle.c: stopped → starting → running, or failed (the way back
 * is in vm-stop.c). Every start step has an undo; a failed or cancelled
 * start runs the undos of the steps that finished, so nothing outlives it. */
#define G_LOG_DOMAIN "bangerd-lifecycle"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "banger-error.h"
#include "boot-defaults.h"
#include "boot-config.h"
#include "fs-util.h"
#include "helper-client.h"
#include "vm-agent.h"
#include "vm-disk.h"
#include "vm-initrd.h"
#include "vm-network.h"
#include "vm-object.h"
#include "vm-release.h"

/* cryptomgr.notests: the kernel's crypto self-tests check its own
 * algorithm implementations at every boot; they were ~0.1–0.25 s of a TCG
 * guest's 1.3 s kernel boot, for a throwaway VM. fips=1 runs them anyway. */
#define BOOT_ARGS "console=ttyS0 reboot=k panic=1 cryptomgr.notests"
/* Unless [guest] kernel-messages = all: the serial console gets the
 * kernel's warnings and worse, not its ~240 lines of boot information.
 * Every byte to the emulated UART traps to the VMM (~25 ms of a 1.2 s
 * boot under TCG); the full log stays in the guest's dmesg. */
#define BOOT_ARGS_WARNINGS_ONLY " loglevel=5"

/* ---- shared pieces -------------------------------------------------- */

static char *
disk_path_for (VmObject *vm)
{
  g_autofree char *dir = vm_object_state_dir (vm);

  return g_build_filename (dir, VM_DISK_FILE, NULL);
}

/* Keeps the previous boot's logs as NAME.1; a fresh file for this one. */
static int
rotate_and_open_log (const char  *dir,
                     const char  *name,
                     GError     **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *old = g_strconcat (path, ".1", NULL);
  int fd;

  if (g_rename (path, old) != 0 && errno != ENOENT)
    g_warning ("Cannot keep the previous %s: %s", path, g_strerror (errno));
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("Cannot create log file %s: %s"), path, g_strerror (saved));
    }
  return fd;
}

/* ---- start ------------------------------------------------------------ */

typedef struct {
  VmObject              *vm;
  GDBusMethodInvocation *invocation;
  GCancellable          *cancellable;
  BootDefaults           defaults;
  const VmmDriver       *driver;
  char                  *binary;
  char                  *state_dir;
  char                  *runtime_dir;
  char                  *disk_path;
  char                  *root_copy_path;
  char                  *initrd_path;
  char                  *boot_args;
  VmmBootSpec            spec;
  gboolean               tap_created;
  VmmInstance           *instance;
  AgentClient           *agent;
  const char            *step;
  GError                *error;
} StartOp;

static void
start_op_free (StartOp *op)
{
  boot_defaults_clear (&op->defaults);
  g_clear_object (&op->invocation);
  g_clear_object (&op->cancellable);
  g_free (op->binary);
  g_free (op->state_dir);
  g_free (op->runtime_dir);
  g_free (op->disk_path);
  g_free (op->root_copy_path);
  g_free (op->initrd_path);
  g_free (op->boot_args);
  if (op->agent != NULL)
    agent_client_close (op->agent);
  g_clear_object (&op->agent);
  vmm_instance_free (op->instance);
  g_clear_error (&op->error);
  g_free (op);
}

static void start_rollback (StartOp *op);

static void
start_step (StartOp    *op,
            const char *step,
            const char *description,
            double      progress)
{
  op->step = step;
  g_info ("VM %s: start step %s", op->vm->record->name, step);
  job_set_step (op->vm->job, step, description, progress);
}

/* Takes @error. Cancellation wins over whatever the step reports. */
static void
start_fail (StartOp *op,
            GError  *error)
{
  if (g_cancellable_is_cancelled (op->cancellable))
    {
      g_clear_error (&error);
      g_set_error (&op->error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("The start of VM “%s” was cancelled"), op->vm->record->name);
    }
  else
    {
      g_set_error (&op->error, error->domain == BANGER_ERROR ? error->domain : BANGER_ERROR,
                   error->domain == BANGER_ERROR ? error->code : BANGER_ERROR_FAILED,
                   _("Starting VM “%s” failed at step “%s”: %s"),
                   op->vm->record->name, op->step, error->message);
      g_error_free (error);
    }
  g_message ("%s", op->error->message);
  start_rollback (op);
}

static void
start_done (StartOp *op)
{
  VmObject *vm = op->vm;
  g_autoptr(GError) store_error = NULL;

  if (op->error == NULL)
    {
      vm->instance = g_steal_pointer (&op->instance);
      vm_agent_attach (vm, g_steal_pointer (&op->agent));
      if (!vm_object_set_state (vm, "running", "", g_get_real_time (), &store_error))
        g_warning ("VM %s: %s", vm->record->name, store_error->message);
      g_info ("VM %s is running", vm->record->name);
      vm_lifecycle_watch (vm);
    }
  else
    {
      gboolean cancelled = g_cancellable_is_cancelled (op->cancellable);

      if (!vm_object_set_state (vm, cancelled ? "stopped" : "failed",
                                cancelled ? "" : op->error->message, 0, &store_error))
        g_warning ("VM %s: %s", vm->record->name, store_error->message);
    }

  job_complete (vm->job, op->error);
  vm->job = NULL;
  if (op->invocation != NULL)
    {
      if (op->error == NULL)
        g_dbus_method_invocation_return_value (g_steal_pointer (&op->invocation), NULL);
      else
        banger_error_to_invocation (g_steal_pointer (&op->invocation), op->error);
    }
  start_op_free (op);
  vm_object_end_op (vm);
}

static void
on_rollback_released (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  StartOp *op = user_data;
  g_autoptr(GError) error = NULL;

  if (!vm_release_finish (result, &error))
    g_warning ("VM %s: undoing the start: %s", op->vm->record->name, error->message);
  start_done (op);
}

/* A failed launch gave back its own jail; a launched VMM is down by now. */
static void
rollback_release (StartOp  *op,
                  gboolean  jailed)
{
  vm_release_async (op->vm, op->runtime_dir != NULL ? op->driver : NULL,
                    (op->tap_created ? VM_RELEASE_TAP : 0) | (jailed ? VM_RELEASE_JAIL : 0),
                    on_rollback_released, op);
}

static void
on_rollback_vmm_down (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  StartOp *op = user_data;
  g_autoptr(GError) error = NULL;
  gboolean jailed = op->instance->jailed;

  if (!op->driver->shutdown_finish (result, &error))
    g_warning ("VM %s: stopping the VMM: %s", op->vm->record->name, error->message);
  g_clear_pointer (&op->instance, vmm_instance_free);
  rollback_release (op, jailed);
}

static void
start_rollback (StartOp *op)
{
  job_set_step (op->vm->job, "rollback", _("Undoing what was done"), 1.0);
  if (op->instance != NULL)
    op->driver->shutdown_async (op->instance, 0, TRUE, on_rollback_vmm_down, op);
  else
    rollback_release (op, FALSE);
}

static void
on_agent_ready (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  StartOp *op = user_data;
  g_autoptr(AgentGuestInfo) info = NULL;
  GError *error = NULL;

  op->agent = vm_agent_connect_finish (result, &info, &error);
  if (op->agent == NULL)
    return start_fail (op, error);
  g_info ("VM %s: the guest agent answered (kernel %s, up %" G_GUINT64_FORMAT " ms)",
          op->vm->record->name, info->kernel_release, info->uptime_ms);
  start_done (op);
}

static void
on_booted (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  StartOp *op = user_data;
  GError *error = NULL;

  if (!op->driver->boot_finish (result, &error))
    return start_fail (op, error);
  /* Running means the guest is up, not only the VMM: its agent answers. */
  start_step (op, "agent", _("Waiting for the guest agent"), 0.9);
  vm_agent_connect_async (op->instance, VM_AGENT_TIMEOUT_MS, op->cancellable, on_agent_ready, op);
}

static void
on_configured (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  StartOp *op = user_data;
  GError *error = NULL;

  if (!op->driver->configure_finish (result, &error) ||
      g_cancellable_set_error_if_cancelled (op->cancellable, &error))
    return start_fail (op, error);
  start_step (op, "boot", _("Booting the guest"), 0.8);
  op->driver->boot_async (op->instance, op->cancellable, on_booted, op);
}

static void
on_launched (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  StartOp *op = user_data;
  GError *error = NULL;
  VmRuntimeRecord record = { 0 };

  op->instance = op->driver->launch_finish (result, &error);
  if (op->instance == NULL)
    return start_fail (op, error);

  /* Recorded before anything else happens, so a bangerd killed from here on
   * finds (and ends) this exact process on its next start. */
  record.driver = (char *) op->driver->name;
  record.pid = vmm_process_get_pid (op->instance->process);
  record.start_time = vmm_process_get_start_time (op->instance->process);
  record.tap = op->vm->record->tap;
  record.nat = op->vm->record->nat;
  record.jailed = op->instance->jailed;
  if (!vm_runtime_write (op->runtime_dir, &record, &error) ||
      g_cancellable_set_error_if_cancelled (op->cancellable, &error))
    return start_fail (op, error);

  start_step (op, "configure", _("Configuring the VM"), 0.6);
  op->driver->configure_async (op->instance, &op->spec, op->cancellable, on_configured, op);
}

static void
start_launch (StartOp *op)
{
  GError *error = NULL;
  int log_fd;

  start_step (op, "launch", _("Starting the VMM"), 0.4);
  /* A runtime dir left by a VMM that is gone holds only stale sockets. */
  if (!fs_remove_tree (op->runtime_dir, &error) ||
      !fs_ensure_private_dir (op->runtime_dir, &error))
    return start_fail (op, error);
  log_fd = rotate_and_open_log (op->state_dir, "console.log", &error);
  if (log_fd < 0)
    return start_fail (op, error);
  close (log_fd);   /* the driver opens it for the process itself */
  op->driver->launch_async (&op->spec, op->cancellable, on_launched, op);
}

static void
on_nat_enabled (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  StartOp *op = user_data;
  GError *error = NULL;
  g_autoptr(GVariant) reply = helper_call_finish (result, &error);

  if (reply == NULL || g_cancellable_set_error_if_cancelled (op->cancellable, &error))
    return start_fail (op, error);
  start_launch (op);
}

static void
on_tap_created (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  StartOp *op = user_data;
  GError *error = NULL;
  g_autoptr(GVariant) reply = helper_call_finish (result, &error);

  if (reply == NULL)
    return start_fail (op, error);
  op->tap_created = TRUE;
  if (g_cancellable_set_error_if_cancelled (op->cancellable, &error))
    return start_fail (op, error);

  /* Not cancellable either: the rollback's DeleteTap, which drops the rule
   * with the tap, must not reach the helper before the rule is in. */
  if (op->vm->record->nat)
    helper_call_async ("EnableNat",
                       g_variant_new ("(ss)", op->vm->record->tap, op->vm->record->ipv4),
                       G_VARIANT_TYPE_UNIT, NULL, on_nat_enabled, op);
  else
    start_launch (op);
}

static void
on_bridge_ready (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  StartOp *op = user_data;
  GError *error = NULL;
  g_autoptr(GVariant) reply = helper_call_finish (result, &error);
  const char *bridge, *address;
  g_autofree char *expected = NULL;

  if (reply == NULL)
    return start_fail (op, error);

  /* The VM's address was chosen from the user's subnet; it only works if
   * the helper's bridge really is that subnet's gateway. */
  g_variant_get (reply, "(&s&s)", &bridge, &address);
  g_autofree char *gateway = ipv4_to_string (subnet_gateway (&op->defaults.subnet));
  expected = g_strdup_printf ("%s/%u", gateway, op->vm->record->ipv4_prefix);
  if (!g_str_equal (address, expected))
    return start_fail (op, g_error_new (BANGER_ERROR, BANGER_ERROR_FAILED,
                                        _("bridge %s has address %s, but VM addresses come from "
                                          "a subnet whose gateway is %s; make [network] subnet "
                                          "in %s match the helper's /etc/banger/helper.conf"),
                                        bridge, address, expected,
                                        op->vm->daemon->config_path));

  if (g_cancellable_set_error_if_cancelled (op->cancellable, &error))
    return start_fail (op, error);
  /* Not cancellable: a stop arriving while the call is in flight must not
   * hide a tap the helper did create, or the rollback would leave it. The
   * call is short; the cancellation is seen once it answers. */
  helper_call_async ("CreateTap", g_variant_new ("(s)", op->vm->record->tap),
                     G_VARIANT_TYPE_UNIT, NULL, on_tap_created, op);
}

static void
start_network (StartOp *op)
{
  start_step (op, "network", _("Setting up the network"), 0.2);
  helper_call_async ("EnsureBridge", NULL, G_VARIANT_TYPE ("(ss)"), op->cancellable,
                     on_bridge_ready, op);
}

static void
on_vmm_checked (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  StartOp *op = user_data;
  GError *error = NULL;

  op->binary = op->driver->check_finish (result, &error);
  if (op->binary == NULL)
    return start_fail (op, error);
  op->spec.binary = op->binary;
  start_network (op);
}

static void
on_initrd_ready (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  StartOp *op = user_data;
  GError *error = NULL;

  op->initrd_path = vm_initrd_ensure_finish (result, &error);
  if (error != NULL)
    return start_fail (op, error);
  op->spec.initrd_path = op->initrd_path;
  /* The jailer runs the helper's own binary: the driver checks it once it
   * answers. */
  if (op->spec.jailed)
    start_network (op);
  else
    op->driver->check_async (boot_defaults_binary_for (&op->defaults, op->driver->name),
                             op->cancellable, on_vmm_checked, op);
}

static gboolean
check_boot_file (const char  *what,
                 const char  *path,
                 const char  *vm_name,
                 const char  *option,
                 GError     **error)
{
  struct stat st;
  int fd;

  if (path[0] == '\0')
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("VM “%s” has no %s; give it one (banger vm create --%s PATH) or set "
                     "[vm-defaults] %s in the config file"), vm_name, what, option, option);
      return FALSE;
    }
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      int saved = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, _("The %s %s cannot be used: %s"),
                   what, path, fd >= 0 ? _("not a regular file") : g_strerror (saved));
      return FALSE;
    }
  close (fd);
  return TRUE;
}

/* auto: only the jailer can help a user who may not open an existing
 * /dev/kvm (it makes a node the VMM's uid owns in the jail); without
 * /dev/kvm at all, it cannot. */
static gboolean
jail_wanted (JailerMode mode)
{
  switch (mode)
    {
    case JAILER_ALWAYS:
      return TRUE;
    case JAILER_NEVER:
      return FALSE;
    case JAILER_AUTO:
    default:
      return access ("/dev/kvm", R_OK | W_OK) != 0 && errno == EACCES;
    }
}

static void
start_prepare (StartOp *op)
{
  VmObject *vm = op->vm;
  VmRecord *r = vm->record;
  GString *boot_args;
  GError *error = NULL;

  start_step (op, "prepare", _("Checking the VM's files and VMM"), 0.0);
  if (!boot_defaults_load (vm->daemon->config_path, &op->defaults, &error) ||
      (op->driver = vmm_driver_lookup (r->vmm, &error)) == NULL ||
      !check_boot_file (_("kernel"), r->kernel_path, r->name, "kernel", &error) ||
      !check_boot_file (_("image"), op->root_copy_path != NULL ? op->root_copy_path : r->image_path,
                        r->name, "image", &error) ||
      !check_boot_file (_("disk"), op->disk_path, r->name, "disk", &error))
    return start_fail (op, error);
  if (r->ipv4 == NULL || !g_str_has_prefix (r->tap != NULL ? r->tap : "", "bg-"))
    return start_fail (op, g_error_new (BANGER_ERROR, BANGER_ERROR_FAILED,
                                        _("VM “%s” has no network address; delete and "
                                          "create it again"), r->name));

  op->spec.vm_name = r->name;
  op->spec.state_dir = op->state_dir;
  op->spec.runtime_dir = op->runtime_dir;
  op->spec.kernel_path = r->kernel_path;
  /* The shared image is read-only; a private copy is the VM's own. */
  op->spec.image_path = op->root_copy_path != NULL ? op->root_copy_path : r->image_path;
  op->spec.image_read_only = op->root_copy_path == NULL;
  op->spec.disk_path = op->disk_path;
  op->spec.vcpus = (guint) r->settings.vcpus.value;
  op->spec.memory_mib = r->settings.memory_mib.value;
  op->spec.tap = r->tap;
  op->spec.mac = r->mac;
  /* How the guest finds its agent channel; a private copy of the image is
   * the root itself, not an overlay's lower layer. */
  boot_args = g_string_new (BOOT_ARGS);
  if (!op->defaults.kernel_messages_all)
    g_string_append (boot_args, BOOT_ARGS_WARNINGS_ONLY);
  if (op->driver->kernel_args != NULL)
    g_string_append_printf (boot_args, " %s", op->driver->kernel_args);
  if (op->root_copy_path != NULL)
    g_string_append (boot_args, " banger.root=direct");
  op->boot_args = g_string_free (boot_args, FALSE);
  op->spec.boot_args = op->boot_args;
  op->spec.jailed = op->driver->supports_jail && jail_wanted (op->defaults.jailer);
  op->spec.agent_channel = op->defaults.qemu_agent_channel;
  vm_initrd_ensure_async (r->kernel_path, op->cancellable, on_initrd_ready, op);
}

void
vm_lifecycle_start (VmObject              *vm,
                    GDBusMethodInvocation *invocation)
{
  StartOp *op = g_new0 (StartOp, 1);
  g_autoptr(GError) error = NULL;

  op->vm = vm;
  op->invocation = invocation;   /* consumed by the reply */
  op->state_dir = vm_object_state_dir (vm);
  op->runtime_dir = vm_object_runtime_dir (vm);
  op->disk_path = disk_path_for (vm);
  if (!g_str_equal (vm->record->disk_strategy, "overlay"))
    op->root_copy_path = g_build_filename (op->state_dir, VM_ROOT_COPY_FILE, NULL);

  vm_object_begin_op (vm, VM_OP_START);
  vm->job = job_new (vm->daemon->object_manager, "vm-start", vm_object_get_path (vm), invocation);
  op->cancellable = g_object_ref (job_get_cancellable (vm->job));

  /* Stored before any host change: a bangerd killed mid-start finds the
   * VM as starting and cleans up after it. */
  if (!vm_object_set_state (vm, "starting", "", 0, &error))
    {
      op->step = "prepare";
      start_fail (op, g_steal_pointer (&error));
      return;
    }
  start_prepare (op);
}
