/* vm-runtime.h: where a VM's files live, and the runtime record that lets a
 * restarted bangerd find the VMM again (pid + start time, never pid alone). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The VM's writable disk in its state dir. */
#define VM_DISK_FILE "disk.ext4"
/* The VM's private copy of its image, when it cannot use the shared one. */
#define VM_ROOT_COPY_FILE "root.ext4"
/* Where the guest agent listens on vsock (the boot config tells it). */
#define BANGER_AGENT_VSOCK_PORT 52

/* $XDG_STATE_HOME/banger/vms/NAME: disk and logs. */
char     *vm_paths_state_dir   (const char *state_root,
                                const char *name);
/* $XDG_RUNTIME_DIR/banger/HASH: sockets, short enough for sun_path. */
char     *vm_paths_runtime_dir (const char *name);

typedef struct {
  char    *driver;
  int      pid;
  guint64  start_time;
  char    *tap;
  gboolean nat;
  gboolean jailed;       /* launched through the helper's jailer */
} VmRuntimeRecord;

void      vm_runtime_record_free (VmRuntimeRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VmRuntimeRecord, vm_runtime_record_free)

gboolean  vm_runtime_write     (const char            *runtime_dir,
                                const VmRuntimeRecord *record,
                                GError               **error);
/* NULL with NOT_FOUND when there is none. */
VmRuntimeRecord *vm_runtime_read (const char          *runtime_dir,
                                  GError             **error);

G_END_DECLS
