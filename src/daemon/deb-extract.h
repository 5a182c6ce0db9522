/* deb-extract.h: unpacking a Debian package's files (the data.tar.* member
 * of the .deb ar archive) into a directory, safely, without dpkg. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Unpacks @deb_path's data archive into @dest_dir, which must exist. An
 * entry with an absolute path, a ".." component, a hard link leaving the
 * tree, a device node, or a path through a symlink fails the whole call:
 * nothing is ever written outside @dest_dir. Owners are not restored. */
gboolean deb_extract (const char    *deb_path,
                      const char    *dest_dir,
                      GCancellable  *cancellable,
                      GError       **error);

G_END_DECLS
