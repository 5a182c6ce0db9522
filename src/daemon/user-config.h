/* user-config.h: the user's config file ($XDG_CONFIG_HOME/banger/config) and the
 * VM defaults it yields, each tagged with where it came from. */
#pragma once

#include <glib.h>

#include "vm-settings.h"

G_BEGIN_DECLS

/* What "auto" defaults are derived from; a struct so tests can vary it. */
typedef struct {
  guint   n_cpus;
  guint64 memory_bytes;
} HostResources;

void     host_resources_read       (HostResources       *out);

gboolean config_load_vm_defaults   (const char          *path,
                                    const HostResources *host,
                                    VmSettings          *out,
                                    GError             **error);

/* Sets @error to "Config file PATH, [GROUP] KEY: <cause>; fix or remove
 * the key", takes @cause, and returns FALSE: every config error reads so. */
gboolean config_key_error          (GError             **error,
                                    GError              *cause,
                                    const char          *path,
                                    const char          *group,
                                    const char          *key);

G_END_DECLS
