/* vm-agent.c: the guest agent's connection, from the host side. While a
 * guest boots, its agent channel refuses (vsock: Firecracker closes the
 * connection after CONNECT) or stays silent (virtio-serial: bytes wait in
 * qemu until the guest opens the port), so connecting is retried with a
 * short backoff and each attempt's HELLO waits at most a few seconds. */
#define G_LOG_DOMAIN "bangerd-agent"

#include "config.h"

#include <glib/gi18n.h>

#include "banger-error.h"
#include "vm-agent.h"

#define RETRY_MIN_MS     10
#define RETRY_MAX_MS     250
#define HELLO_ATTEMPT_MS 5000

typedef struct {
  VmmInstance    *instance;     /* not owned; outlives the task */
  gint64          deadline_us;
  guint           timeout_ms;
  guint           interval_ms;
  guint           attempts;
  AgentClient    *agent;
  AgentGuestInfo *info;
  GCancellable   *attempt;      /* cancels one HELLO that takes too long */
  GCancellable   *outer;        /* the caller's, which cancels the attempt too */
  gulong          outer_handler;
  guint           attempt_timer;
  GError         *last_error;
} Connect;

/* Ends the current attempt's timer and its link to the caller's
 * cancellable. */
static void
attempt_end (Connect *c)
{
  if (c->attempt_timer != 0)
    {
      g_source_remove (c->attempt_timer);
      c->attempt_timer = 0;
    }
  if (c->outer_handler != 0)
    {
      g_cancellable_disconnect (c->outer, c->outer_handler);
      c->outer_handler = 0;
    }
  g_clear_object (&c->attempt);
}

static void
connect_free (Connect *c)
{
  attempt_end (c);
  g_clear_object (&c->outer);
  if (c->agent != NULL)
    agent_client_close (c->agent);
  g_clear_object (&c->agent);
  g_clear_pointer (&c->info, agent_guest_info_free);
  g_clear_error (&c->last_error);
  g_free (c);
}

static void try_connect (GTask *task);

static gboolean
retry (gpointer user_data)
{
  try_connect (user_data);
  return G_SOURCE_REMOVE;
}

/* Takes @error: the reason of this attempt, reported if none succeeds. */
static void
attempt_failed (GTask  *task,
                GError *error)
{
  Connect *c = g_task_get_task_data (task);

  g_clear_error (&c->last_error);
  c->last_error = error;
  attempt_end (c);
  if (c->agent != NULL)
    {
      agent_client_close (c->agent);
      g_clear_object (&c->agent);
    }
  g_timeout_add (c->interval_ms, retry, task);
  c->interval_ms = MIN (c->interval_ms * 2, RETRY_MAX_MS);
}

static gboolean
on_attempt_timeout (gpointer user_data)
{
  Connect *c = g_task_get_task_data (user_data);

  c->attempt_timer = 0;
  g_cancellable_cancel (c->attempt);
  return G_SOURCE_REMOVE;
}

static void
on_hello (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  GTask *task = user_data;
  Connect *c = g_task_get_task_data (task);
  GError *error = NULL;

  c->info = agent_client_hello_finish (AGENT_CLIENT (source), result, &error);
  if (c->info == NULL)
    return attempt_failed (task, error);
  attempt_end (c);
  g_task_return_pointer (task, g_steal_pointer (&c->agent), g_object_unref);
  g_object_unref (task);
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  Connect *c = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GIOStream) stream = c->instance->driver->agent_connect_finish (result, &error);

  if (stream == NULL)
    return attempt_failed (task, error);
  c->agent = agent_client_new (stream);
  agent_client_hello_async (c->agent, c->attempt, on_hello, task);
}

static void
try_connect (GTask *task)
{
  Connect *c = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);

  if (g_cancellable_is_cancelled (cancellable))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               _("Waiting for the guest agent was cancelled"));
      g_object_unref (task);
      return;
    }
  if (vmm_process_has_exited (c->instance->process))
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                               _("the VMM exited before the guest agent answered; see "
                                 "the VM's console log"));
      g_object_unref (task);
      return;
    }
  if (g_get_monotonic_time () >= c->deadline_us)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                               _("the guest agent did not answer within %u s (last: %s); "
                                 "see the VM's console log"),
                               c->timeout_ms / 1000,
                               c->last_error != NULL ? c->last_error->message : "-");
      g_object_unref (task);
      return;
    }

  c->attempts++;
  /* One cancellable per attempt: the task's own, or the attempt's timer. */
  c->attempt = g_cancellable_new ();
  if (cancellable != NULL)
    {
      g_set_object (&c->outer, cancellable);
      c->outer_handler = g_cancellable_connect (cancellable, G_CALLBACK (g_cancellable_cancel),
                                                g_object_ref (c->attempt), g_object_unref);
    }
  c->attempt_timer = g_timeout_add (HELLO_ATTEMPT_MS, on_attempt_timeout, task);
  c->instance->driver->agent_connect_async (c->instance, c->attempt, on_connected, task);
}

void
vm_agent_connect_async (VmmInstance         *instance,
                        guint                timeout_ms,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  Connect *c = g_new0 (Connect, 1);

  c->instance = instance;
  c->timeout_ms = timeout_ms;
  c->deadline_us = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  c->interval_ms = RETRY_MIN_MS;
  g_task_set_task_data (task, c, (GDestroyNotify) connect_free);
  try_connect (task);
}

AgentClient *
vm_agent_connect_finish (GAsyncResult    *result,
                         AgentGuestInfo **out_info,
                         GError         **error)
{
  Connect *c = g_task_get_task_data (G_TASK (result));
  AgentClient *agent = g_task_propagate_pointer (G_TASK (result), error);

  if (agent != NULL && out_info != NULL)
    *out_info = g_steal_pointer (&c->info);
  return agent;
}

static void
on_agent_closed (AgentClient *agent,
                 GError      *reason,
                 VmObject    *vm)
{
  if (vm->agent != agent)
    return;
  g_message ("VM %s: the guest agent's connection closed: %s", vm->record->name,
             reason != NULL ? reason->message : "-");
  g_signal_handlers_disconnect_by_data (agent, vm);
  g_clear_object (&vm->agent);
}

void
vm_agent_attach (VmObject    *vm,
                 AgentClient *agent)
{
  vm_agent_detach (vm);
  vm->agent = agent;
  g_signal_connect (agent, "closed", G_CALLBACK (on_agent_closed), vm);
}

void
vm_agent_wait_async (VmObject            *vm,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);

  if (vm->agent == NULL && vm->op == VM_OP_RECONCILE)
    {
      g_queue_push_tail (&vm->agent_waiters, task);
      return;
    }
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

gboolean
vm_agent_wait_finish (GAsyncResult  *result,
                      GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
vm_agent_wake_waiters (VmObject *vm)
{
  GTask *task;

  while ((task = g_queue_pop_head (&vm->agent_waiters)) != NULL)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
    }
}

void
vm_agent_detach (VmObject *vm)
{
  AgentClient *agent = g_steal_pointer (&vm->agent);

  if (agent == NULL)
    return;
  g_signal_handlers_disconnect_by_data (agent, vm);
  agent_client_close (agent);
  g_object_unref (agent);
}
