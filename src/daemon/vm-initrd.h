/* vm-initrd.h: the initramfs a VM boots with, built once per kernel and
 * banger-init/agent build and kept under $XDG_DATA_HOME/banger/initramfs. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The programs packed into every initramfs: $BANGER_INIT_PATH and
 * $BANGER_AGENT_PATH when set (a build tree, tests), else the installed
 * ones in libexecdir. */
const char *vm_initrd_init_path  (void);
const char *vm_initrd_agent_path (void);

/* For a kernel from the registry (a modules/lib/modules/RELEASE tree beside
 * @kernel_path): the path of its initramfs, built if needed. NULL without
 * an error for a kernel that has no modules tree (a plain vmlinux given by
 * path boots without banger's initramfs). */
void  vm_initrd_ensure_async  (const char          *kernel_path,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data);
char *vm_initrd_ensure_finish (GAsyncResult        *result,
                               GError             **error);

G_END_DECLS
