/* initramfs.h: builds the initramfs a VM boots with: banger-init as /init,
 * the agent, and the kernel modules banger needs for one kernel version
 * (docs/guest-boot.md). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Writes an uncompressed newc cpio to @output_path (0644, replaced
 * atomically). @modules_root holds lib/modules/@kernel_version with
 * modules.dep (depmod done). The same inputs always give the same bytes.
 * Blocking: run it from a worker thread, or use the async pair. */
gboolean initramfs_build        (const char          *modules_root,
                                 const char          *kernel_version,
                                 const char          *init_path,
                                 const char          *agent_path,
                                 const char          *output_path,
                                 GCancellable        *cancellable,
                                 GError             **error);

void     initramfs_build_async  (const char          *modules_root,
                                 const char          *kernel_version,
                                 const char          *init_path,
                                 const char          *agent_path,
                                 const char          *output_path,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data);
gboolean initramfs_build_finish (GAsyncResult        *result,
                                 GError             **error);

/* The modules banger loads, in load order (dependencies first), as paths
 * relative to lib/modules/@kernel_version; built-in ones are left out. */
GPtrArray *initramfs_resolve_modules (const char  *modules_dir,
                                      GError     **error);

G_END_DECLS
