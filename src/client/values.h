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
/* "on" or "off" (any case) for the option @option_name, e.g. "--nat". */
gboolean  banger_parse_on_off      (const char  *option_name,
                                    const char  *text,
                                    gboolean    *out_value,
                                    GError     **error);
/* --timeout of 'vm stop': whole seconds, 0 or more. */
gboolean  banger_parse_timeout     (const char  *text,
                                    guint       *out_seconds,
                                    GError     **error);

G_END_DECLS
