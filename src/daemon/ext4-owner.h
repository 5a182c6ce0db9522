/* ext4-owner.h: making every file of an ext4 image root's, without root:
 * mkfs.ext4 -d copies the building user's uid and gid into the image. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Sets uid and gid 0 on every in-use inode of the unmounted ext4 file
 * @image_path, through libext2fs. */
gboolean ext4_reset_owners (const char  *image_path,
                            GError     **error);

G_END_DECLS
