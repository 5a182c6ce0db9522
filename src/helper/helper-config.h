/* helper-config.h: banger-helper's own configuration, read from a root-owned
 * file at start-up. Callers never choose bridge, addresses or programs. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HELPER_CONFIG_DEFAULT_PATH BANGER_SYSCONFDIR "/banger/helper.conf"

typedef struct {
  char    *bridge;        /* [network] bridge: the bridge's name */
  guint32  bridge_ip;     /* [network] address: host byte order */
  guint    prefix_len;    /*   and its prefix length (8-30) */
  char    *jailer;        /* [launch] jailer: absolute path, or NULL: no Launch */
  char    *firecracker;   /* [launch] firecracker: absolute path */
  char    *jail_base;     /* [launch] jail-base: where jails live */
  char    *cgroup_root;   /* [launch] cgroup-root: the cgroup2 mount, autodetected */
} HelperConfig;

HelperConfig *helper_config_load (const char  *path,
                                  GError     **error);
void          helper_config_free (HelperConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HelperConfig, helper_config_free)

/* The process-wide configuration, set once by main() before the bus. */
void                 helper_config_set_global (HelperConfig *config);
const HelperConfig  *helper_config_get        (void);

G_END_DECLS
