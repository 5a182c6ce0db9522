/* vmlinux-extract.h: the ELF vmlinux inside an x86 bzImage, for VMMs that
 * boot only ELF kernels (Firecracker). Only lz4-compressed payloads. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Decompresses the kernel payload of @data (a bzImage, or anything that
 * holds one legacy lz4 frame) and checks that it is an ELF file. */
GBytes  *vmlinux_extract_bytes (const guint8  *data,
                                gsize          length,
                                GError       **error);

/* Reads @bzimage_path and writes the ELF to @out_path (created, 0644). */
gboolean vmlinux_extract_file  (const char    *bzimage_path,
                                const char    *out_path,
                                GError       **error);

G_END_DECLS
