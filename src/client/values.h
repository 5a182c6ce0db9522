/* values.h: checks of option values (vCPU counts, sizes) before they are
 * sent, so a typo fails fast with a message about the option. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean  banger_parse_vcpus       (const char  *text,
                                    guint       *out_vcpus,
                                    GError     **error);
gboolean  banger_parse_memory_mib  (const char  *text,
                                    guint64     *out_mib,
                                    GError     **error);
gboolean  banger_parse_disk_bytes  (const char  *text,
                                    guint64     *out_bytes,
                                    GError     **error);

G_END_DECLS
