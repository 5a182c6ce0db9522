/* image-store.h: the rows of the image and kernel registry (the images and
 * kernels tables of state.db). Files are image-registry.c's business. */
#pragma once

#include <glib.h>

#include "store.h"

G_BEGIN_DECLS

typedef struct {
  gint64  id;
  char   *name;            /* the first 16 hex digits of sha256 */
  char   *sha256;          /* of the bzImage */
  char   *release;         /* e.g. 6.1.0-56-cloud-amd64 */
  char   *path;            /* .../kernels/<sha256>/vmlinuz */
  char   *vmlinux_path;    /* .../kernels/<sha256>/vmlinux (ELF) */
  char   *modules_path;    /* .../kernels/<sha256>/modules, holds lib/modules/<release> */
  gint64  created_at_us;
} KernelRecord;

typedef struct {
  gint64    id;
  char     *name;
  char     *sha256;        /* of the ext4 file */
  char     *path;          /* .../images/<sha256>.ext4 */
  guint64   size;
  gint64    kernel_id;     /* 0 when none */
  gboolean  overlay_capable;
  char     *source;
  gint64    created_at_us;
} ImageRecord;

KernelRecord *kernel_record_copy (const KernelRecord *record);
void          kernel_record_free (KernelRecord       *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KernelRecord, kernel_record_free)
ImageRecord  *image_record_copy  (const ImageRecord  *record);
void          image_record_free  (ImageRecord        *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImageRecord, image_record_free)

GPtrArray *image_store_list_kernels (Store         *store,
                                     GError       **error);
GPtrArray *image_store_list_images  (Store         *store,
                                     GError       **error);

/* In one transaction: inserts @kernel unless a kernel with its sha256 is
 * stored (then @kernel->id is that row's), then @image pointing at it.
 * Sets the new ids; *out_kernel_added says whether the kernel row is new. */
gboolean   image_store_register     (Store         *store,
                                     KernelRecord  *kernel,
                                     ImageRecord   *image,
                                     gboolean      *out_kernel_added,
                                     GError       **error);

/* In one transaction: deletes image @name, and its kernel when no other
 * image uses it. *out_file_unused is TRUE when no other image row shares
 * the image's file; *out_kernel_deleted is TRUE when the kernel row went. */
gboolean   image_store_delete_image (Store         *store,
                                     const char    *name,
                                     gboolean      *out_file_unused,
                                     gboolean      *out_kernel_deleted,
                                     GError       **error);

G_END_DECLS
