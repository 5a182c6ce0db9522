/* banger-size.h: sizes as people type them ("512M", "8G") and back. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean  banger_size_parse  (const char  *text,
                              guint64     *out_bytes,
                              GError     **error);
char     *banger_size_format (guint64      bytes);

G_END_DECLS
