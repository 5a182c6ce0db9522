/* vm-object.c: one VM on the bus (dev.banger.VM1). Handlers validate,
 * change the store first, then mirror the change into the properties. */
#define G_LOG_DOMAIN "bangerd-vm"

#include "config.h"

#include <glib/gi18n.h>

#include "banger-error.h"
#include "banger-log.h"
#include "banger-names.h"
#include "daemon.h"
#include "vm-agent.h"
#include "vm-exec.h"
#include "vm-object.h"
#include "vm-runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <gio/gunixfdlist.h>

#define STOP_TIMEOUT_DEFAULT_S 10
#define STOP_TIMEOUT_MAX_S     3600

static char *
ipv4_with_prefix (const VmRecord *r)
{
  return r->ipv4 != NULL ? g_strdup_printf ("%s/%u", r->ipv4, r->ipv4_prefix) : g_strdup ("");
}

static GVariant *
settings_source_variant (const VmSettings *s)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{ss}"));
  g_variant_builder_add (&builder, "{ss}", "VCPUs", setting_source_to_string (s->vcpus.source));
  g_variant_builder_add (&builder, "{ss}", "MemoryMiB", setting_source_to_string (s->memory_mib.source));
  g_variant_builder_add (&builder, "{ss}", "DiskBytes", setting_source_to_string (s->disk_bytes.source));
  return g_variant_builder_end (&builder);
}

/* The skeleton batches these into one PropertiesChanged per main-loop turn
 * and only announces values that really changed. */
void
vm_object_sync (VmObject *vm)
{
  const VmRecord *r = vm->record;
  g_autofree char *ipv4 = ipv4_with_prefix (r);

  banger_vm1_set_name (vm->iface, r->name);
  banger_vm1_set_state (vm->iface, r->state);
  banger_vm1_set_vcpus (vm->iface, (guint) r->settings.vcpus.value);
  banger_vm1_set_memory_mib (vm->iface, r->settings.memory_mib.value);
  banger_vm1_set_disk_bytes (vm->iface, r->settings.disk_bytes.value);
  banger_vm1_set_created_at (vm->iface, (guint64) r->created_at_us);
  banger_vm1_set_settings_source (vm->iface, settings_source_variant (&r->settings));
  banger_vm1_set_vmm (vm->iface, r->vmm);
  banger_vm1_set_vmmreason (vm->iface, r->vmm_reason);
  banger_vm1_set_ipv4 (vm->iface, ipv4);
  banger_vm1_set_mac (vm->iface, r->mac != NULL ? r->mac : "");
  banger_vm1_set_tap (vm->iface, r->tap != NULL ? r->tap : "");
  banger_vm1_set_nat (vm->iface, r->nat);
  banger_vm1_set_image (vm->iface, r->image_path);
  banger_vm1_set_kernel (vm->iface, r->kernel_path);
  banger_vm1_set_disk_strategy (vm->iface, r->disk_strategy);
  banger_vm1_set_started_at (vm->iface, (guint64) r->started_at_us);
  banger_vm1_set_last_error (vm->iface, r->last_error);
}

gboolean
vm_object_set_state (VmObject    *vm,
                     const char  *state,
                     const char  *last_error,
                     gint64       started_at_us,
                     GError     **error)
{
  VmRecord *r = vm->record;
  gboolean ok = store_update_vm_state (vm->daemon->store, r->name, state, last_error,
                                       started_at_us, error);

  /* The bus shows what is true even if the disk write failed. */
  g_free (r->state);
  r->state = g_strdup (state);
  g_free (r->last_error);
  r->last_error = g_strdup (last_error != NULL ? last_error : "");
  r->started_at_us = started_at_us;
  vm_object_sync (vm);
  return ok;
}

static const char *
op_name (VmOperation op)
{
  switch (op)
    {
    case VM_OP_CREATE: return _("being created");
    case VM_OP_START: return _("starting");
    case VM_OP_STOP: return _("stopping");
    case VM_OP_DELETE: return _("being deleted");
    case VM_OP_RECONCILE: return _("being checked after a restart");
    case VM_OP_SET: return _("being changed");
    case VM_OP_NONE:
    default: return "";
    }
}

gboolean
vm_object_is_busy (VmObject  *vm,
                   GError   **error)
{
  if (vm->op == VM_OP_NONE)
    return FALSE;
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY,
               _("VM “%s” is %s; try again when that has finished"),
               vm->record->name, op_name (vm->op));
  return TRUE;
}

void
vm_object_begin_op (VmObject    *vm,
                    VmOperation  op)
{
  g_assert (vm->op == VM_OP_NONE);
  vm->op = op;
}

void
vm_object_end_op (VmObject *vm)
{
  VmAfterOpFunc func = vm->after_op;

  vm->op = VM_OP_NONE;
  vm->after_op = NULL;
  if (func != NULL)
    func (vm, vm->after_op_data);
}

char *
vm_object_state_dir (VmObject *vm)
{
  return vm_paths_state_dir (vm->daemon->state_dir, vm->record->name);
}

char *
vm_object_runtime_dir (VmObject *vm)
{
  return vm_paths_runtime_dir (vm->record->name);
}

/* Options are a{sv}; each known key has one type. */
static gboolean
parse_options (GVariant    *options,
               const char  *const *keys,
               const char  *const *types,
               GVariant   **out_values,
               GError     **error)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_iter_init (&iter, options);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      guint i;

      for (i = 0; keys[i] != NULL && !g_str_equal (keys[i], key); i++)
        ;
      if (keys[i] == NULL || !g_variant_is_of_type (value, G_VARIANT_TYPE (types[i])))
        {
          if (keys[i] == NULL)
            g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                         _("Unknown option “%s”"), key);
          else
            g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                         _("Option “%s” must be of type “%s”"), key, types[i]);
          g_variant_unref (value);
          return FALSE;
        }
      g_clear_pointer (&out_values[i], g_variant_unref);
      out_values[i] = value;
    }
  return TRUE;
}

static gboolean
reply_error (GDBusMethodInvocation *invocation,
             VmObject              *vm,
             const char            *what,
             const GError          *error)
{
  g_message ("%s of VM %s refused: %s", what, vm->record->name, error->message);
  banger_error_to_invocation (invocation, error);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_start (BangerVM1             *iface,
              GDBusMethodInvocation *invocation,
              GVariant              *options,
              VmObject              *vm)
{
  g_autoptr(BangerOp) op = banger_op_begin (invocation);
  g_autoptr(GError) error = NULL;
  GVariant *values[1] = { NULL };

  if (!parse_options (options, (const char *[]) { NULL }, (const char *[]) { NULL }, values, &error) ||
      vm_object_is_busy (vm, &error))
    return reply_error (invocation, vm, "Start", error);
  if (g_str_equal (vm->record->state, "running"))
    {
      banger_vm1_complete_start (iface, invocation);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  vm_lifecycle_start (vm, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* A Stop, Restart or forced Delete that arrived during a start. */
typedef struct {
  VmOperation            op;           /* VM_OP_STOP or VM_OP_DELETE */
  guint                  timeout_ms;
  gboolean               force;
  gboolean               then_start;
  GDBusMethodInvocation *invocation;
} QueuedCall;

static void
run_queued (VmObject *vm,
            gpointer  user_data)
{
  g_autofree QueuedCall *queued = user_data;

  if (queued->op == VM_OP_DELETE)
    vm_delete (vm, queued->force, queued->invocation);
  else
    vm_lifecycle_stop (vm, queued->timeout_ms, queued->force, queued->then_start,
                       queued->invocation);
}

/* A call that ends the VM, made during a start, cancels the start and runs
 * when it has rolled back. FALSE when no start is running or another call
 * waits for it already: the caller goes on as usual. */
static gboolean
queue_after_start (VmObject         *vm,
                   const QueuedCall *call)
{
  if (vm->op != VM_OP_START || vm->after_op != NULL)
    return FALSE;
  vm->after_op = run_queued;
  vm->after_op_data = g_memdup2 (call, sizeof *call);
  g_cancellable_cancel (job_get_cancellable (vm->job));
  return TRUE;
}

static gboolean
stop_or_restart (GDBusMethodInvocation *invocation,
                 GVariant              *options,
                 VmObject              *vm,
                 gboolean               then_start)
{
  g_autoptr(GError) error = NULL;
  GVariant *values[2] = { NULL, NULL };
  guint timeout_s = STOP_TIMEOUT_DEFAULT_S;
  gboolean force = FALSE;
  const char *what = then_start ? "Restart" : "Stop";

  if (!parse_options (options, (const char *[]) { "Timeout", "Force", NULL },
                      (const char *[]) { "u", "b", NULL }, values, &error))
    return reply_error (invocation, vm, what, error);
  if (values[0] != NULL)
    timeout_s = g_variant_get_uint32 (values[0]);
  if (values[1] != NULL)
    force = g_variant_get_boolean (values[1]);
  g_clear_pointer (&values[0], g_variant_unref);
  g_clear_pointer (&values[1], g_variant_unref);
  if (timeout_s > STOP_TIMEOUT_MAX_S)
    {
      g_set_error (&error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("Timeout must be at most %d seconds"), STOP_TIMEOUT_MAX_S);
      return reply_error (invocation, vm, what, error);
    }

  if (queue_after_start (vm, &(QueuedCall) { .op = VM_OP_STOP, .timeout_ms = timeout_s * 1000,
                                              .force = force, .then_start = then_start,
                                              .invocation = invocation }))
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  if (vm_object_is_busy (vm, &error))
    return reply_error (invocation, vm, what, error);
  vm_lifecycle_stop (vm, timeout_s * 1000, force, then_start, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_stop (BangerVM1             *iface,
             GDBusMethodInvocation *invocation,
             GVariant              *options,
             VmObject              *vm)
{
  g_autoptr(BangerOp) op = banger_op_begin (invocation);

  return stop_or_restart (invocation, options, vm, FALSE);
}

static gboolean
handle_restart (BangerVM1             *iface,
                GDBusMethodInvocation *invocation,
                GVariant              *options,
                VmObject              *vm)
{
  g_autoptr(BangerOp) op = banger_op_begin (invocation);

  return stop_or_restart (invocation, options, vm, TRUE);
}

static gboolean
handle_delete (BangerVM1             *iface,
               GDBusMethodInvocation *invocation,
               GVariant              *options,
               VmObject              *vm)
{
  g_autoptr(BangerOp) op = banger_op_begin (invocation);
  g_autoptr(GError) error = NULL;
  GVariant *values[1] = { NULL };
  gboolean force = FALSE;

  if (!parse_options (options, (const char *[]) { "Force", NULL }, (const char *[]) { "b", NULL },
                      values, &error))
    return reply_error (invocation, vm, "Delete", error);
  if (values[0] != NULL)
    {
      force = g_variant_get_boolean (values[0]);
      g_variant_unref (values[0]);
    }

  /* Only a forced delete may end a VM that is starting. */
  if (force && queue_after_start (vm, &(QueuedCall) { .op = VM_OP_DELETE, .force = TRUE,
                                                       .invocation = invocation }))
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  if (vm_object_is_busy (vm, &error))
    return reply_error (invocation, vm, "Delete", error);
  vm_delete (vm, force, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_set (BangerVM1             *iface,
            GDBusMethodInvocation *invocation,
            GVariant              *changes,
            VmObject              *vm)
{
  g_autoptr(BangerOp) op = banger_op_begin (invocation);
  g_autoptr(GError) error = NULL;
  g_autoptr(VmRecord) updated = vm_record_copy (vm->record);
  g_autoptr(GVariant) nat_value = g_variant_lookup_value (changes, "NAT", NULL);
  g_autoptr(GVariant) sizes = NULL;
  VmSettingMask changed = 0;
  GVariantBuilder rest;
  GVariantIter iter;
  const char *key;
  GVariant *value;
  gboolean running = !g_str_equal (vm->record->state, "stopped") &&
                     !g_str_equal (vm->record->state, "failed");

  /* NAT is handled here; the sizes by vm-settings. */
  g_variant_builder_init (&rest, G_VARIANT_TYPE_VARDICT);
  g_variant_iter_init (&iter, changes);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      if (!g_str_equal (key, "NAT"))
        g_variant_builder_add (&rest, "{sv}", key, value);
      g_variant_unref (value);
    }
  sizes = g_variant_ref_sink (g_variant_builder_end (&rest));

  if (nat_value != NULL && !g_variant_is_of_type (nat_value, G_VARIANT_TYPE_BOOLEAN))
    g_set_error (&error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                 _("Option “%s” must be of type “%s”"), "NAT", "b");
  else if (!vm_object_is_busy (vm, &error) &&
           vm_settings_apply_options (&updated->settings, sizes,
                                      VM_SETTING_VCPUS | VM_SETTING_MEMORY_MIB,
                                      &changed, &error) &&
           changed != 0 && running)
    g_set_error (&error, BANGER_ERROR, BANGER_ERROR_BUSY,
                 _("VM “%s” is %s; stop it before changing its vCPUs or memory"),
                 vm->record->name, vm->record->state);
  if (error == NULL && changed != 0)
    store_update_vm_settings (vm->daemon->store, updated, &error);
  if (error != NULL)
    return reply_error (invocation, vm, "Set", error);

  vm->record->settings = updated->settings;
  vm_object_sync (vm);

  if (nat_value != NULL && g_variant_get_boolean (nat_value) != vm->record->nat)
    {
      gboolean nat = g_variant_get_boolean (nat_value);

      /* Live: the rule is added or removed at once. */
      if (g_str_equal (vm->record->state, "running"))
        {
          vm_lifecycle_set_nat (vm, nat, invocation);
          return G_DBUS_METHOD_INVOCATION_HANDLED;
        }
      if (!store_update_vm_nat (vm->daemon->store, vm->record->name, nat, &error))
        return reply_error (invocation, vm, "Set", error);
      vm->record->nat = nat;
      vm_object_sync (vm);
    }
  g_info ("Changed settings of VM %s", vm->record->name);
  banger_vm1_complete_set (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_open_log (BangerVM1             *iface,
                 GDBusMethodInvocation *invocation,
                 GUnixFDList           *fd_list,
                 const char            *log,
                 VmObject              *vm)
{
  g_autoptr(BangerOp) op = banger_op_begin (invocation);
  g_autoptr(GError) error = NULL;
  g_autoptr(GUnixFDList) out_fds = NULL;
  g_autofree char *dir = vm_object_state_dir (vm);
  g_autofree char *path = NULL;
  const char *file = NULL;
  int fd;

  if (g_strcmp0 (log, "console") == 0)
    file = "console.log";
  else if (g_strcmp0 (log, "vmm") == 0)
    file = "vmm.log";
  if (file == NULL)
    {
      g_set_error (&error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("Unknown log “%s”; there are console and vmm"), log);
      return reply_error (invocation, vm, "OpenLog", error);
    }
  path = g_build_filename (dir, file, NULL);
  fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (&error, BANGER_ERROR,
                   saved == ENOENT ? BANGER_ERROR_NOT_FOUND : BANGER_ERROR_FAILED,
                   saved == ENOENT ? _("VM “%s” has no %s log yet; it is written once the VM starts")
                                   : _("Cannot open the %2$s log of VM “%1$s”: %3$s"),
                   vm->record->name, log, g_strerror (saved));
      return reply_error (invocation, vm, "OpenLog", error);
    }
  out_fds = g_unix_fd_list_new_from_array (&fd, 1);
  banger_vm1_complete_open_log (iface, invocation, out_fds, g_variant_new_handle (0));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* Takes ownership of @record and exports the VM through the manager. */
VmObject *
vm_object_new (Daemon   *daemon,
               VmRecord *record)
{
  VmObject *vm = g_new0 (VmObject, 1);
  g_autofree char *path = banger_object_path_for (DAEMON_VM_PATH, record->name);

  vm->daemon = daemon;
  vm->record = record;
  vm->object = banger_object_skeleton_new (path);
  vm->iface = banger_vm1_skeleton_new ();
  vm_object_sync (vm);

  g_signal_connect (vm->iface, "handle-start", G_CALLBACK (handle_start), vm);
  g_signal_connect (vm->iface, "handle-stop", G_CALLBACK (handle_stop), vm);
  g_signal_connect (vm->iface, "handle-restart", G_CALLBACK (handle_restart), vm);
  g_signal_connect (vm->iface, "handle-delete", G_CALLBACK (handle_delete), vm);
  g_signal_connect (vm->iface, "handle-open-log", G_CALLBACK (handle_open_log), vm);
  g_signal_connect (vm->iface, "handle-set", G_CALLBACK (handle_set), vm);
  g_signal_connect (vm->iface, "handle-exec", G_CALLBACK (vm_exec_handle_exec), vm);
  g_signal_connect (vm->iface, "handle-signal-exec", G_CALLBACK (vm_exec_handle_signal), vm);

  banger_object_skeleton_set_vm1 (vm->object, vm->iface);
  g_dbus_object_manager_server_export (daemon->object_manager,
                                       G_DBUS_OBJECT_SKELETON (vm->object));
  return vm;
}

void
vm_object_free (VmObject *vm)
{
  if (vm == NULL)
    return;
  g_signal_handlers_disconnect_by_data (vm->iface, vm);
  vm_agent_detach (vm);
  vm_agent_wake_waiters (vm);
  g_clear_pointer (&vm->instance, vmm_instance_free);
  g_dbus_object_manager_server_unexport (vm->daemon->object_manager,
                                         g_dbus_object_get_object_path (G_DBUS_OBJECT (vm->object)));
  g_clear_object (&vm->iface);
  g_clear_object (&vm->object);
  vm_record_free (vm->record);
  g_free (vm);
}

const char *
vm_object_get_path (VmObject *vm)
{
  return g_dbus_object_get_object_path (G_DBUS_OBJECT (vm->object));
}
