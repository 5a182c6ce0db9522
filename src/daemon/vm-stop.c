/* vm-stop.c: running → stopping → stopped, an exit nobody asked for, NAT
 * on a running VM, and what a restarted bangerd does with the VMs it finds
 * running (re-adopt or clean up). The start is in vm-lifecycle.c. */
#define G_LOG_DOMAIN "bangerd-lifecycle"

#include "config.h"

#include <signal.h>

#include <glib/gi18n.h>

#include "banger-error.h"
#include "helper-client.h"
#include "vm-agent.h"
#include "vm-object.h"
#include "vm-release.h"
#include "vm-runtime.h"

/* ---- stop --------------------------------------------------------------- */

typedef struct {
  VmObject              *vm;
  GDBusMethodInvocation *invocation;
  gboolean               then_start;
  guint                  timeout_ms;
  gboolean               was_starting;   /* reconcile of a start bangerd never finished */
  char                  *exit_reason;   /* set when the VMM went away by itself */
  GError                *error;
} StopOp;

static void
stop_op_free (StopOp *op)
{
  g_clear_object (&op->invocation);
  g_free (op->exit_reason);
  g_clear_error (&op->error);
  g_free (op);
}

static void
stop_done (StopOp *op)
{
  VmObject *vm = op->vm;
  g_autoptr(GError) store_error = NULL;
  const char *state = "stopped";
  g_autofree char *last_error = NULL;

  if (op->error != NULL)
    {
      state = "failed";
      last_error = g_strdup (op->error->message);
    }
  else if (op->exit_reason != NULL)
    {
      state = "failed";
      last_error = g_steal_pointer (&op->exit_reason);
    }
  if (!vm_object_set_state (vm, state, last_error, 0, &store_error))
    g_warning ("VM %s: %s", vm->record->name, store_error->message);
  g_info ("VM %s is %s", vm->record->name, state);

  vm_object_end_op (vm);
  if (op->then_start && op->error == NULL && vm->op == VM_OP_NONE)
    {
      vm_lifecycle_start (vm, g_steal_pointer (&op->invocation));
      stop_op_free (op);
      return;
    }
  if (op->invocation != NULL)
    {
      if (op->error == NULL)
        g_dbus_method_invocation_return_value (g_steal_pointer (&op->invocation), NULL);
      else
        banger_error_to_invocation (g_steal_pointer (&op->invocation), op->error);
    }
  stop_op_free (op);
}

static void
on_stop_released (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  StopOp *op = user_data;

  vm_release_finish (result, &op->error);
  stop_done (op);
}

static void
stop_release (StopOp *op)
{
  VmmInstance *instance = op->vm->instance;
  const VmmDriver *driver = instance != NULL ? instance->driver
                                             : vmm_driver_lookup (op->vm->record->vmm, NULL);
  VmReleaseFlags flags = instance != NULL
                         ? VM_RELEASE_TAP | (instance->jailed ? VM_RELEASE_JAIL : 0)
                         : vm_release_flags_for (op->vm, op->was_starting);

  vm_agent_detach (op->vm);
  g_clear_pointer (&op->vm->instance, vmm_instance_free);
  vm_release_async (op->vm, driver, flags, on_stop_released, op);
}

static void
on_vmm_shut_down (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  StopOp *op = user_data;
  g_autoptr(GError) error = NULL;

  if (!op->vm->instance->driver->shutdown_finish (result, &error))
    g_message ("VM %s: %s", op->vm->record->name, error->message);
  stop_release (op);
}

static void
on_powered_off (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  StopOp *op = user_data;
  VmmInstance *instance = op->vm->instance;

  if (vmm_process_wait_finish (instance->process, result, NULL))
    return stop_release (op);
  g_message ("VM %s: the guest did not power off within %u ms; stopping its VMM",
             op->vm->record->name, op->timeout_ms);
  instance->driver->shutdown_async (instance, 0, TRUE, on_vmm_shut_down, op);
}

static void
on_agent_poweroff (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  StopOp *op = user_data;
  VmmInstance *instance = op->vm->instance;
  g_autoptr(GError) error = NULL;

  if (!agent_client_poweroff_finish (AGENT_CLIENT (source), result, &error))
    {
      g_message ("VM %s: the guest agent did not take the power-off (%s); asking the VMM",
                 op->vm->record->name, error->message);
      instance->driver->shutdown_async (instance, op->timeout_ms, FALSE, on_vmm_shut_down, op);
      return;
    }
  vmm_process_wait_async (instance->process, op->timeout_ms, on_powered_off, op);
}

void
vm_lifecycle_stop (VmObject              *vm,
                   guint                  timeout_ms,
                   gboolean               force,
                   gboolean               then_start,
                   GDBusMethodInvocation *invocation)
{
  StopOp *op = g_new0 (StopOp, 1);
  g_autoptr(GError) error = NULL;

  op->vm = vm;
  op->invocation = invocation;   /* consumed by the reply */
  op->then_start = then_start;

  if (g_str_equal (vm->record->state, "stopped") && vm->instance == NULL)
    {
      vm_object_begin_op (vm, VM_OP_STOP);
      stop_done (op);
      return;
    }

  vm_object_begin_op (vm, VM_OP_STOP);
  if (!vm_object_set_state (vm, "stopping", "", vm->record->started_at_us, &error))
    g_warning ("VM %s: %s", vm->record->name, error->message);
  op->timeout_ms = timeout_ms;
  /* The agent syncs the guest's disks before it powers off; the VMM's own
   * way (Ctrl-Alt-Del, the ACPI button) depends on the guest's init. */
  if (vm->instance != NULL && vm->agent != NULL && !force && timeout_ms > 0)
    agent_client_poweroff_async (vm->agent, NULL, on_agent_poweroff, op);
  else if (vm->instance != NULL)
    vm->instance->driver->shutdown_async (vm->instance, timeout_ms, force, on_vmm_shut_down, op);
  else
    stop_release (op);   /* a failed VM: release what it may still hold */
}

/* ---- an exit nobody asked for ------------------------------------------ */

static void
on_vmm_exited (VmmProcess *process,
               int         wait_status,
               gpointer    user_data)
{
  VmObject *vm = user_data;
  StopOp *op;
  g_autofree char *how = vmm_process_describe_exit (wait_status);

  /* A stop under way handles the exit itself. */
  if (vm->op != VM_OP_NONE)
    return;

  g_message ("VM %s: its VMM %s", vm->record->name, how);
  op = g_new0 (StopOp, 1);
  op->vm = vm;
  /* Exit status 0 is the guest powering off or rebooting (reboot=k). */
  if (wait_status != 0)
    op->exit_reason = g_strdup_printf (_("The VMM %s while the VM was running; see "
                                         "“banger vm logs %s”"), how, vm->record->name);
  vm_object_begin_op (vm, VM_OP_STOP);
  stop_release (op);
}

void
vm_lifecycle_watch (VmObject *vm)
{
  vmm_process_set_exit_func (vm->instance->process, on_vmm_exited, vm);
}

/* ---- NAT on a running VM ------------------------------------------------- */

typedef struct {
  VmObject              *vm;
  GDBusMethodInvocation *invocation;
  gboolean               nat;
} NatOp;

static void
on_nat_changed (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autofree NatOp *op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = helper_call_finish (result, &error);

  if (reply != NULL)
    store_update_vm_nat (op->vm->daemon->store, op->vm->record->name, op->nat, &error);
  if (error == NULL)
    {
      op->vm->record->nat = op->nat;
      vm_object_sync (op->vm);
    }
  vm_object_end_op (op->vm);
  if (error != NULL)
    banger_error_to_invocation (op->invocation, error);
  else
    g_dbus_method_invocation_return_value (op->invocation, NULL);
}

void
vm_lifecycle_set_nat (VmObject              *vm,
                      gboolean               nat,
                      GDBusMethodInvocation *invocation)
{
  NatOp *op = g_new0 (NatOp, 1);

  op->vm = vm;
  op->invocation = invocation;
  op->nat = nat;
  vm_object_begin_op (vm, VM_OP_SET);
  if (nat)
    helper_call_async ("EnableNat", g_variant_new ("(ss)", vm->record->tap, vm->record->ipv4),
                       G_VARIANT_TYPE_UNIT, NULL, on_nat_changed, op);
  else
    helper_call_async ("DisableNat", g_variant_new ("(s)", vm->record->tap),
                       G_VARIANT_TYPE_UNIT, NULL, on_nat_changed, op);
}

/* ---- after a bangerd restart --------------------------------------------- */

/* A running guest's agent answers at once; one that does not is left
 * without (Exec then says so) rather than holding up the VM's other calls. */
#define READOPT_AGENT_TIMEOUT_MS 10000

static void
on_readopted_agent (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  VmObject *vm = user_data;
  g_autoptr(GError) error = NULL;
  AgentClient *agent = vm_agent_connect_finish (result, NULL, &error);

  if (agent != NULL)
    vm_agent_attach (vm, agent);
  else
    g_message ("VM %s: its guest agent did not answer after the restart: %s",
               vm->record->name, error->message);
  vm_object_end_op (vm);
  vm_agent_wake_waiters (vm);
  /* An exit while the reconcile ran was not acted on: do it now. */
  if (vm->op == VM_OP_NONE && vm->instance != NULL &&
      vmm_process_has_exited (vm->instance->process))
    on_vmm_exited (vm->instance->process, -1, vm);
}

static void
on_adopted (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  VmObject *vm = user_data;
  g_autoptr(GError) error = NULL;
  const VmmDriver *driver = vmm_driver_lookup (vm->record->vmm, NULL);
  VmmInstance *instance = driver->adopt_finish (result, &error);
  StopOp *op;

  if (instance != NULL)
    {
      g_info ("VM %s: re-adopted its running VMM (pid %d)", vm->record->name,
              vmm_process_get_pid (instance->process));
      instance->jailed = (vm_release_flags_for (vm, FALSE) & VM_RELEASE_JAIL) != 0;
      vm->instance = instance;
      vm_lifecycle_watch (vm);
      /* Still the reconcile: nothing may free the instance meanwhile. */
      vm_agent_connect_async (instance, READOPT_AGENT_TIMEOUT_MS, NULL, on_readopted_agent, vm);
      return;
    }
  vm_object_end_op (vm);

  g_message ("VM %s: cannot re-adopt its VMM: %s", vm->record->name, error->message);
  op = g_new0 (StopOp, 1);
  op->vm = vm;
  op->exit_reason = g_strdup_printf (_("The VMM was gone or did not answer when bangerd "
                                       "started again (%s)"), error->message);
  vm_object_set_state (vm, "failed", op->exit_reason, 0, NULL);
  vm_object_begin_op (vm, VM_OP_STOP);
  stop_release (op);
}

void
vm_lifecycle_reconcile (VmObject *vm)
{
  g_autofree char *runtime_dir = vm_object_runtime_dir (vm);
  g_autoptr(VmRuntimeRecord) record = NULL;
  g_autoptr(VmmProcess) process = NULL;
  g_autoptr(GError) error = NULL;
  const VmmDriver *driver = vmm_driver_lookup (vm->record->vmm, NULL);
  const char *state = vm->record->state;
  StopOp *op;

  if (g_str_equal (state, "stopped") || g_str_equal (state, "failed"))
    return;

  record = vm_runtime_read (runtime_dir, &error);
  if (record != NULL)
    process = vmm_process_adopt (record->pid, record->start_time, &error);

  if (process != NULL && driver != NULL && g_str_equal (state, "running"))
    {
      vm_object_begin_op (vm, VM_OP_RECONCILE);
      driver->adopt_async (g_steal_pointer (&process), runtime_dir, on_adopted, vm);
      return;
    }

  /* Starting or stopping when bangerd died: nobody can finish that, so
   * end the VMM (it is ours: pid and start time matched) and clean up. */
  op = g_new0 (StopOp, 1);
  op->vm = vm;
  op->was_starting = g_str_equal (state, "starting");
  op->exit_reason = g_str_equal (state, "running")
                    ? g_strdup_printf (_("The VMM was gone when bangerd started again (%s)"),
                                       error->message)
                    : g_strdup_printf (_("bangerd stopped while the VM was %s"), state);
  /* What the VM is, from the first call on; the release below only
   * tidies up (and says so if it cannot). */
  vm_object_set_state (vm, "failed", op->exit_reason, 0, NULL);
  if (process != NULL)
    {
      vmm_process_signal (process, SIGKILL, NULL);
      if (driver != NULL)
        {
          vm->instance = vmm_instance_new (driver, g_steal_pointer (&process), runtime_dir, NULL);
          vm->instance->jailed = record->jailed;
        }
    }
  vm_object_begin_op (vm, VM_OP_STOP);
  if (vm->instance != NULL)
    vm->instance->driver->shutdown_async (vm->instance, 0, TRUE, on_vmm_shut_down, op);
  else
    stop_release (op);
}
