/* net-ops.h: banger-helper's network operations (bridge, taps, NAT), the
 * domain half of the network methods: no D-Bus here, uids come in checked. */
#pragma once

#include <glib.h>

#include "helper-config.h"

G_BEGIN_DECLS

/* Every function below takes one process-wide lock, so the "is it the
 * caller's?" check and the change it guards are one step for every
 * caller of the helper. They act in the calling thread's network
 * namespace. Errors are BANGER_ERROR: NOT_FOUND, NOT_OWNER (a device or
 * rule of another uid, or a device banger did not make), ALREADY_EXISTS,
 * BUSY, FAILED (the kernel refused). */

/* Creates @config's bridge if missing, adds its address (other addresses
 * it has are left alone) and brings it up. Idempotent. */
gboolean net_ensure_bridge (const HelperConfig  *config,
                            GError             **error);

/* Ensures the bridge, then creates persistent tap @name owned by @uid
 * (TUNSETOWNER), attached to the bridge and up. For @uid's existing tap
 * it only re-attaches and brings it up. A tap created here is removed
 * again if a later step fails. */
gboolean net_create_tap    (const HelperConfig  *config,
                            guint32              uid,
                            const char          *name,
                            GError             **error);

/* An fd of /dev/net/tun attached to @uid's tap @name (IFF_TAP |
 * IFF_NO_PI, O_CLOEXEC), or -1. BUSY when something else has it open. */
int      net_open_tap      (guint32              uid,
                            const char          *name,
                            GError             **error);

/* Deletes @uid's tap @name and @uid's NAT rules for it. */
gboolean net_delete_tap    (guint32              uid,
                            const char          *name,
                            GError             **error);

/* Makes sure @uid's tap @tap has exactly one masquerade rule, for @vm_ip
 * (host order, already checked to be in the bridge's subnet), in table
 * `ip banger`; enables IPv4 forwarding. One nft transaction. */
gboolean net_enable_nat    (const HelperConfig  *config,
                            guint32              uid,
                            const char          *tap,
                            guint32              vm_ip,
                            GError             **error);

/* Removes @uid's NAT rule of @tap; nothing to remove is no error. The
 * table goes with its last rule. */
gboolean net_disable_nat   (guint32              uid,
                            const char          *tap,
                            GError             **error);

/* Removes every NAT rule whose comment names @uid and every banger tap
 * (name with the "bg-" prefix) whose kernel owner is @uid, in that order.
 * Appends one newly allocated string per removed resource to @released
 * (give it g_free as free function): "nat:TAP", "tap:NAME". Goes on past
 * a failure and returns the first one; @released then still lists what
 * was removed. */
gboolean net_release_all   (guint32              uid,
                            GPtrArray           *released,
                            GError             **error);

G_END_DECLS
