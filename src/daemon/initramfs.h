/* initramfs.h: builds the initramfs a VM boots with: banger-init as /init,
 * the agent, and the kernel modules banger needs for one kernel version
 * (docs/guest-boot.md). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* What initramfs_build writes, as a number: part of the name a built
 * initramfs is kept under, so a bangerd that packs differently never
 * boots one an older bangerd left. Bump it with any change of layout. */
#define INITRAMFS_LAYOUT "2"

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

/* The sets of modules banger-init loads: the base set always, then the
 * one of the agent channel the kernel command line names. */
typedef enum {
  INITRAMFS_MODULES_BASE,
  INITRAMFS_MODULES_VSOCK,   /* banger.agent=vsock:PORT */
  INITRAMFS_MODULES_VPORT,   /* banger.agent=vport:NAME */
  INITRAMFS_N_MODULE_SETS,
} InitramfsModuleSet;

/* Fills @sets with each set's modules in load order (dependencies first),
 * as paths relative to lib/modules/@kernel_version; built-in ones and,
 * in a channel's set, those of the base set are left out. */
gboolean initramfs_resolve_modules (const char  *modules_dir,
                                    GPtrArray   *sets[INITRAMFS_N_MODULE_SETS],
                                    GError     **error);

G_END_DECLS
