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

G_END_DECLS
