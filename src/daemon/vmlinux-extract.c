/* vmlinux-extract.c: what the kernel's scripts/extract-vmlinux does for
 * lz4, in-process: find the payload (from the boot protocol header, else
 * by its magic), decompress the legacy lz4 frame with liblz4, check ELF. */
#define G_LOG_DOMAIN "bangerd-image"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>
#include <lz4.h>

#include "banger-error.h"
#include "vmlinux-extract.h"

#define LZ4_LEGACY_MAGIC      0x184C2102u
#define LZ4_LEGACY_BLOCK_SIZE (8u << 20)
/* x86 boot protocol (Documentation/arch/x86/boot.rst). */
#define BOOT_SETUP_SECTS      0x1f1
#define BOOT_HEADER_MAGIC     0x202
#define BOOT_PAYLOAD_OFFSET   0x248
#define BOOT_PAYLOAD_LENGTH   0x24c
#define ELF_MAGIC             "\177ELF"

static guint32
le32 (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

/* Where the lz4 frame starts and how long the data after it may be. */
static gboolean
find_payload (const guint8  *data,
              gsize          length,
              gsize         *out_start,
              gsize         *out_length)
{
  /* A bzImage says exactly where its payload is (boot protocol 2.08+). */
  if (length > BOOT_PAYLOAD_LENGTH + 4 && memcmp (data + BOOT_HEADER_MAGIC, "HdrS", 4) == 0)
    {
      gsize setup = ((gsize) (data[BOOT_SETUP_SECTS] == 0 ? 4 : data[BOOT_SETUP_SECTS]) + 1) * 512;
      gsize start = setup + le32 (data + BOOT_PAYLOAD_OFFSET);
      gsize size = le32 (data + BOOT_PAYLOAD_LENGTH);

      if (start + 4 <= length && size <= length - start && le32 (data + start) == LZ4_LEGACY_MAGIC)
        {
          *out_start = start;
          *out_length = size;
          return TRUE;
        }
    }
  /* Otherwise search for the magic, as extract-vmlinux does. */
  for (gsize i = 0; i + 4 <= length; i++)
    if (le32 (data + i) == LZ4_LEGACY_MAGIC)
      {
        *out_start = i;
        *out_length = length - i;
        return TRUE;
      }
  return FALSE;
}

GBytes *
vmlinux_extract_bytes (const guint8  *data,
                       gsize          length,
                       GError       **error)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  gsize start, size, pos;

  if (!find_payload (data, length, &start, &size))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                   _("No lz4-compressed kernel found; only kernels built with "
                     "CONFIG_KERNEL_LZ4 can be converted to an ELF vmlinux"));
      return NULL;
    }

  /* Blocks of (le32 compressed size, data) until the data ends; the
   * kernel's build appends the uncompressed size, which is too short to be
   * a block, and concatenated frames repeat the magic. */
  pos = start + 4;
  while (pos + 4 <= start + size)
    {
      guint32 block = le32 (data + pos);
      guint old_len = out->len;
      int n;

      if (block == LZ4_LEGACY_MAGIC)
        {
          pos += 4;
          continue;
        }
      if (block == 0 || block > LZ4_COMPRESSBOUND (LZ4_LEGACY_BLOCK_SIZE) ||
          block > start + size - pos - 4)
        break;
      g_byte_array_set_size (out, old_len + LZ4_LEGACY_BLOCK_SIZE);
      n = LZ4_decompress_safe ((const char *) data + pos + 4, (char *) out->data + old_len,
                               (int) block, LZ4_LEGACY_BLOCK_SIZE);
      if (n < 0)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_CORRUPT,
                       _("The kernel's lz4 payload is damaged (block at offset %zu)"), pos);
          return NULL;
        }
      g_byte_array_set_size (out, old_len + (guint) n);
      pos += 4 + block;
    }

  if (out->len < 4 || memcmp (out->data, ELF_MAGIC, 4) != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_CORRUPT,
                   _("The kernel's decompressed payload is not an ELF file"));
      return NULL;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

gboolean
vmlinux_extract_file (const char  *bzimage_path,
                      const char  *out_path,
                      GError     **error)
{
  g_autoptr(GMappedFile) mapped = g_mapped_file_new (bzimage_path, FALSE, error);
  g_autoptr(GBytes) elf = NULL;
  gsize size;
  const guint8 *data;

  if (mapped == NULL)
    return FALSE;
  elf = vmlinux_extract_bytes ((const guint8 *) g_mapped_file_get_contents (mapped),
                               g_mapped_file_get_length (mapped), error);
  if (elf == NULL)
    {
      g_prefix_error (error, "%s: ", bzimage_path);
      return FALSE;
    }
  data = g_bytes_get_data (elf, &size);
  return g_file_set_contents_full (out_path, (const char *) data, size,
                                   G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
}
