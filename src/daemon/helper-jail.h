/* helper-jail.h: a VMM started by the helper's jailer (Helper1.Launch):
 * the launch, finding the VMM's process, and giving the jail back. */
#pragma once

#include <gio/gio.h>

#include "vmm-process.h"

G_BEGIN_DECLS

/* A drive for the jail: the helper links it in under its base name. */
typedef struct {
  const char *path;
  gboolean    read_only;
} HelperJailDrive;

/* Calls Helper1.Launch for @vm_name with @kernel, @initrd (or NULL) and
 * @drives, links @runtime_dir/jail to the jail root, waits for the VMM the
 * jailer leaves in the VM's cgroup and takes over that process. On any failure after Launch, the jail is given
 * back (helper_jail_release) before the error is reported. */
void        helper_jail_launch_async  (const char            *vm_name,
                                       const char            *runtime_dir,
                                       const char            *kernel,
                                       const char            *initrd,
                                       const HelperJailDrive *drives,
                                       guint                  n_drives,
                                       GCancellable          *cancellable,
                                       GAsyncReadyCallback    callback,
                                       gpointer               user_data);
VmmProcess *helper_jail_launch_finish (GAsyncResult          *result,
                                       GError               **error);

/* Kills what is left in the VM's cgroup and removes the jail. A VM the
 * helper holds nothing for is no error. */
void        helper_jail_release_async  (const char          *vm_name,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
gboolean    helper_jail_release_finish (GAsyncResult        *result,
                                        GError             **error);

/* The jail's path for a file the VMM should see: "/" + its base name. */
char       *helper_jail_path          (const char            *host_path);

/* The name of the link in a VM's runtime dir that points at its jail root. */
#define HELPER_JAIL_LINK "jail"

G_END_DECLS
