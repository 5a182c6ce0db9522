/* vm-object.h: one VM as bangerd holds it: its stored record, its bus
 * object, the running VMM if any, and the operation under way (one at a
 * time per VM; different VMs never wait for each other). */
#pragma once

#include "daemon.h"
#include "agent-client.h"
#include "job.h"
#include "vmm-driver.h"

G_BEGIN_DECLS

typedef enum {
  VM_OP_NONE,
  VM_OP_CREATE,
  VM_OP_START,
  VM_OP_STOP,
  VM_OP_DELETE,
  VM_OP_RECONCILE,
  VM_OP_SET,
} VmOperation;

typedef void (*VmAfterOpFunc) (VmObject *vm, gpointer user_data);

struct _VmObject {
  Daemon               *daemon;      /* not owned */
  VmRecord             *record;
  BangerObjectSkeleton *object;
  BangerVM1            *iface;
  VmmInstance          *instance;    /* while a VMM process exists */
  /* The guest agent's connection, while the VM runs and its agent answered
   * (NULL otherwise, e.g. after the agent went away); owned. */
  AgentClient          *agent;
  /* Calls waiting for the agent while a restarted bangerd reconnects it. */
  GQueue                agent_waiters;
  VmOperation           op;
  Job                  *job;         /* the start's job, while it runs */
  /* One follow-up waiting for the current operation (a Stop or forced
   * Delete arriving during a start). */
  VmAfterOpFunc         after_op;
  gpointer              after_op_data;
};

/* Stores, then mirrors into the bus properties. */
gboolean  vm_object_set_state  (VmObject    *vm,
                                const char  *state,
                                const char  *last_error,
                                gint64       started_at_us,
                                GError     **error);
void      vm_object_sync       (VmObject    *vm);
gboolean  vm_object_is_busy    (VmObject    *vm,
                                GError     **error);
/* Marks @op as under way; vm_object_end_op runs the queued follow-up. */
void      vm_object_begin_op   (VmObject    *vm,
                                VmOperation  op);
void      vm_object_end_op     (VmObject    *vm);
char     *vm_object_state_dir  (VmObject    *vm);
char     *vm_object_runtime_dir (VmObject   *vm);

/* vm-lifecycle.c. Each completes @invocation itself (NULL: nobody waits). */
void      vm_lifecycle_start     (VmObject              *vm,
                                  GDBusMethodInvocation *invocation);
void      vm_lifecycle_stop      (VmObject              *vm,
                                  guint                  timeout_ms,
                                  gboolean               force,
                                  gboolean               then_start,
                                  GDBusMethodInvocation *invocation);
void      vm_lifecycle_set_nat   (VmObject              *vm,
                                  gboolean               nat,
                                  GDBusMethodInvocation *invocation);
/* On start-up: re-adopt a VM recorded as running, or clean it up. */
void      vm_lifecycle_reconcile (VmObject              *vm);
/* Watches the VMM of a running VM for an unexpected exit. */
void      vm_lifecycle_watch     (VmObject              *vm);

/* vm-delete.c */
void      vm_delete              (VmObject              *vm,
                                  gboolean               force,
                                  GDBusMethodInvocation *invocation);

G_END_DECLS
