/* vm-release.h: giving back what a VM held while it ran, once its VMM is
 * gone: the helper's jail, the runtime dir, the tap (and its NAT rule).
 * One path for a stop, an unexpected exit, a failed start and reconcile. */
#pragma once

#include <gio/gio.h>

#include "vm-object.h"
#include "vmm-driver.h"

G_BEGIN_DECLS

typedef enum {
  VM_RELEASE_TAP  = 1 << 0,   /* the VM's tap (DeleteTap also drops NAT) */
  VM_RELEASE_JAIL = 1 << 1,   /* the helper's jail and cgroup */
} VmReleaseFlags;

/* Everything is attempted even when a part fails; the error names the
 * first part that could not be given back. @driver (or NULL) removes the
 * sockets its VMM leaves behind. */
void     vm_release_async  (VmObject            *vm,
                            const VmmDriver     *driver,
                            VmReleaseFlags       flags,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data);
gboolean vm_release_finish (GAsyncResult        *result,
                            GError             **error);

/* What a VM may hold according to its runtime record (for a VM with no
 * live VMM instance): the tap if it has one, the jail if the record says
 * so, or if there is no record at all while the VM was @starting, since
 * bangerd may have died between the launch and writing the record. */
VmReleaseFlags vm_release_flags_for (VmObject *vm,
                                     gboolean  starting);

G_END_DECLS
