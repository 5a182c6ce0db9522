/* bridge.c: banger's bridge: created from the helper's configuration,
 * given its address and brought up; EnsureBridge and CreateTap use it. */
#define G_LOG_DOMAIN "banger-helper-bridge"

#include "config.h"

#include <errno.h>

#include <glib/gi18n.h>

#include "banger-error.h"

#include "net-ops.h"
#include "net-private.h"

gboolean
net_bridge_ensure_locked (const HelperConfig  *config,
                          guint32             *out_index,
                          GError             **error)
{
  g_autoptr(GError) local = NULL;
  NetLink link;

  if (!netlink_get_link (config->bridge, &link, &local))
    {
      if (!g_error_matches (local, NET_ERRNO_ERROR, ENODEV))
        return net_failed (error, local, _("Could not look up bridge “%s”"), config->bridge);
      g_clear_error (&local);
      /* EEXIST: made by someone else since we looked; checked below. */
      if (!netlink_create_bridge (config->bridge, &local) &&
          !g_error_matches (local, NET_ERRNO_ERROR, EEXIST))
        return net_failed (error, local, _("Could not create bridge “%s”"), config->bridge);
      g_clear_error (&local);
      if (!netlink_get_link (config->bridge, &link, &local))
        return net_failed (error, local, _("Could not look up bridge “%s”"), config->bridge);
      g_message ("created bridge %s", config->bridge);
    }

  if (!g_str_equal (link.kind, "bridge"))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                   _("Network device “%s” exists and is not a bridge. Remove it, or set "
                     "another name as bridge under [network] in %s."),
                   config->bridge, HELPER_CONFIG_DEFAULT_PATH);
      return FALSE;
    }

  /* Addresses someone else gave the bridge stay: removing them could cut
   * off whatever uses them, and ours works beside them. */
  if (!netlink_add_ipv4 (link.index, config->bridge_ip, config->prefix_len, &local))
    {
      if (!g_error_matches (local, NET_ERRNO_ERROR, EEXIST))
        return net_failed (error, local, _("Could not give bridge “%s” its address"),
                           config->bridge);
      g_clear_error (&local);
    }

  if (!netlink_set_up (link.index, 0, &local))
    return net_failed (error, local, _("Could not bring up bridge “%s”"), config->bridge);

  *out_index = link.index;
  return TRUE;
}

gboolean
net_ensure_bridge (const HelperConfig  *config,
                   GError             **error)
{
  g_autoptr(GRecMutexLocker) locker = net_lock ();
  guint32 index;

  return net_bridge_ensure_locked (config, &index, error);
}
