/* vm-agent.h: reaching a VM's guest agent through its VMM driver: connect
 * (retrying while the guest boots), HELLO, and keeping the connection on
 * the VM while it runs. */
#pragma once

#include <gio/gio.h>

#include "agent-client.h"
#include "vm-object.h"

G_BEGIN_DECLS

/* How long a booting guest may take to answer; TCG guests on a busy host
 * are the slow case. */
#define VM_AGENT_TIMEOUT_MS 120000

/* Connects to the agent of @instance and says HELLO, retrying until it
 * answers, @timeout_ms pass, the VMM exits or @cancellable fires. */
void         vm_agent_connect_async  (VmmInstance         *instance,
                                      guint                timeout_ms,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data);
AgentClient *vm_agent_connect_finish (GAsyncResult        *result,
                                      AgentGuestInfo     **out_info,
                                      GError             **error);

/* Makes @agent (taken) the VM's connection; it is dropped when it closes. */
void         vm_agent_attach         (VmObject            *vm,
                                      AgentClient         *agent);
/* Completes once the VM's agent connection is settled: at once, unless a
 * restarted bangerd is still reconnecting it. vm->agent then says whether
 * there is one. */
void         vm_agent_wait_async     (VmObject            *vm,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data);
gboolean     vm_agent_wait_finish    (GAsyncResult        *result,
                                      GError             **error);
/* Completes everything vm_agent_wait_async() queued. */
void         vm_agent_wake_waiters   (VmObject            *vm);

/* Closes and drops the VM's connection, if any. */
void         vm_agent_detach         (VmObject            *vm);

G_END_DECLS
