/* vm-disk.h: a VM's one writable disk (sparse ext4 with its boot config,
 * made by mkfs.ext4 -d without root) and the full-copy root fallback. */
#pragma once

#include <gio/gio.h>

#include "boot-config.h"

G_BEGIN_DECLS

#define VM_DISK_LABEL "banger-disk"

/* Creates @vm_dir/@disk_name (which must not exist) as a sparse ext4 file
 * of @size_bytes holding @config; on any failure nothing is left behind. */
void     vm_disk_create_async     (const char           *vm_dir,
                                   const char           *disk_name,
                                   guint64               size_bytes,
                                   const BootConfig     *config,
                                   GCancellable         *cancellable,
                                   GAsyncReadyCallback   callback,
                                   gpointer              user_data);
gboolean vm_disk_create_finish    (GAsyncResult         *result,
                                   GError              **error);

/* The fallback for images that cannot boot through the overlay: a private
 * full copy of the image, by FICLONE reflink where the filesystem can,
 * else a copy that keeps the image's holes. */
typedef enum {
  VM_ROOT_COPY_REFLINK,
  VM_ROOT_COPY_SPARSE,
} VmRootCopyMethod;

void     vm_disk_copy_root_async  (const char           *image_path,
                                   const char           *dest_path,
                                   GCancellable         *cancellable,
                                   GAsyncReadyCallback   callback,
                                   gpointer              user_data);
gboolean vm_disk_copy_root_finish (GAsyncResult         *result,
                                   VmRootCopyMethod     *out_method,
                                   GError              **error);

G_END_DECLS
