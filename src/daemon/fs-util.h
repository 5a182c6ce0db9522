/* fs-util.h: the few file-system operations bangerd needs on its own
 * directories, done without following symlinks. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Removes @path and everything below it; symlinks are removed, never
 * followed. A missing @path is fine. */
gboolean fs_remove_tree       (const char  *path,
                               GError     **error);

/* mkdir -p with every created component 0700; an existing last component
 * must be a directory owned by us, not a symlink. */
gboolean fs_ensure_private_dir (const char  *path,
                                GError     **error);

/* Sets @error to "<what>: <strerror (@saved_errno)>" in G_IO_ERROR (the
 * errno saved before anything reset it) and returns FALSE. */
gboolean fs_set_errno_error    (GError     **error,
                                int          saved_errno,
                                const char  *format,
                                ...) G_GNUC_PRINTF (3, 4);

/* What identifies a file's contents without reading them: path, device,
 * inode, mtime and size; NULL when it cannot be stat()ed. Replacing or
 * touching the file changes it. */
char    *fs_file_identity      (const char  *path);

G_END_DECLS
