/* ext4-owner.h: making every file of an ext4 image root's and every time
 * in it fixed, without root: mkfs.ext4 -d copies the building user's uid
 * and gid and the staging tree's times (ctime too, which no one can set)
 * into the image. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The latest @timestamp the pass can write: ext4's 32-bit times, with the
 * extra epoch bits left 0. */
#define EXT4_TIMESTAMP_MAX G_GINT64_CONSTANT (0x7fffffff)

/* Sets uid and gid 0 and atime, ctime, mtime and crtime @timestamp (whole
 * seconds, 0 to EXT4_TIMESTAMP_MAX) on every in-use inode of the unmounted
 * ext4 file @image_path, and the superblock's write, check and creation
 * times to @timestamp, through libext2fs. */
gboolean ext4_reset_owners_and_times (const char  *image_path,
                                      gint64       timestamp,
                                      GError     **error);

G_END_DECLS
