/* ext4-owner.c: one pass over the inode table with libext2fs. Only inodes
 * the bitmap marks as used are touched: with lazy_itable_init the rest of
 * the table may hold stale bytes. Nothing here reads the clock, so the
 * same image in gives the same bytes out. */
#define G_LOG_DOMAIN "bangerd-image"

#include "config.h"

#include <stddef.h>
#include <string.h>

#include <ext2fs/ext2fs.h>
#include <glib/gi18n.h>

#include "banger-error.h"
#include "ext4-owner.h"

static gboolean
fail (GError     **error,
      const char  *image_path,
      const char  *doing,
      errcode_t    code)
{
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
               _("Cannot change owners in %s: %s: %s"), image_path, doing, error_message (code));
  return FALSE;
}

/* Whether the inode's extra space holds @field (of struct ext2_inode_large). */
#define HAS_EXTRA(inode, size, field) \
  ((size) > EXT2_GOOD_OLD_INODE_SIZE && \
   (gsize) EXT2_GOOD_OLD_INODE_SIZE + (inode)->i_extra_isize >= \
     offsetof (struct ext2_inode_large, field) + sizeof ((inode)->field))

static void
reset_inode (struct ext2_inode_large *inode,
             int                      inode_size,
             guint32                  when)
{
  inode->i_uid = 0;
  inode->i_gid = 0;
  ext2fs_set_i_uid_high (*inode, 0);
  ext2fs_set_i_gid_high (*inode, 0);
  inode->i_atime = inode->i_ctime = inode->i_mtime = when;
  /* Nanoseconds and epoch bits 0: whole seconds before 2038. */
  if (HAS_EXTRA (inode, inode_size, i_ctime_extra))
    inode->i_ctime_extra = 0;
  if (HAS_EXTRA (inode, inode_size, i_mtime_extra))
    inode->i_mtime_extra = 0;
  if (HAS_EXTRA (inode, inode_size, i_atime_extra))
    inode->i_atime_extra = 0;
  if (HAS_EXTRA (inode, inode_size, i_crtime))
    inode->i_crtime = when;
  if (HAS_EXTRA (inode, inode_size, i_crtime_extra))
    inode->i_crtime_extra = 0;
}

static gboolean
reset_all (ext2_filsys   fs,
           const char   *image_path,
           guint32       when,
           GError      **error)
{
  int inode_size = EXT2_INODE_SIZE (fs->super);
  g_autofree struct ext2_inode_large *inode = g_malloc0 (inode_size);
  g_autofree struct ext2_inode_large *before = g_malloc0 (inode_size);
  ext2_inode_scan scan = NULL;
  ext2_ino_t ino;
  errcode_t code;
  gboolean ok = TRUE;

  code = ext2fs_open_inode_scan (fs, 0, &scan);
  if (code != 0)
    return fail (error, image_path, "ext2fs_open_inode_scan", code);
  while (ok)
    {
      code = ext2fs_get_next_inode_full (scan, &ino, (struct ext2_inode *) inode, inode_size);
      if (code == EXT2_ET_BAD_BLOCK_IN_INODE_TABLE)
        continue;
      if (code != 0)
        {
          ok = fail (error, image_path, "ext2fs_get_next_inode_full", code);
          break;
        }
      if (ino == 0)
        break;
      if (!ext2fs_test_inode_bitmap2 (fs->inode_map, ino) || inode->i_links_count == 0)
        continue;
      memcpy (before, inode, inode_size);
      reset_inode (inode, inode_size, when);
      if (memcmp (before, inode, inode_size) == 0)
        continue;
      code = ext2fs_write_inode_full (fs, ino, (struct ext2_inode *) inode, inode_size);
      if (code != 0)
        ok = fail (error, image_path, "ext2fs_write_inode_full", code);
    }
  ext2fs_close_inode_scan (scan);
  return ok;
}

gboolean
ext4_reset_owners_and_times (const char  *image_path,
                             gint64       timestamp,
                             GError     **error)
{
  ext2_filsys fs = NULL;
  errcode_t code;
  gboolean ok;
  guint32 when;

  g_return_val_if_fail (timestamp >= 0 && timestamp <= EXT4_TIMESTAMP_MAX, FALSE);
  when = (guint32) timestamp;
  code = ext2fs_open (image_path, EXT2_FLAG_RW | EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &fs);
  if (code != 0)
    return fail (error, image_path, "ext2fs_open", code);
  code = ext2fs_read_inode_bitmap (fs);
  ok = code == 0 ? reset_all (fs, image_path, when, error)
                 : fail (error, image_path, "ext2fs_read_inode_bitmap", code);
  if (ok)
    {
      /* ext2fs_flush stamps s_wtime with fs->now, else with time(). */
      fs->now = when;
      fs->super->s_wtime = fs->super->s_mkfs_time = fs->super->s_lastcheck = when;
      fs->super->s_wtime_hi = fs->super->s_mkfs_time_hi = fs->super->s_lastcheck_hi = 0;
      ext2fs_mark_super_dirty (fs);
    }
  code = ext2fs_close_free (&fs);
  if (ok && code != 0)
    ok = fail (error, image_path, "ext2fs_close", code);
  return ok;
}
