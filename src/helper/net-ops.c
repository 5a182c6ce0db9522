/* net-ops.c: what the network operations share (their lock, the ownership
 * check read from the kernel) and ReleaseAll's network half. */
#define G_LOG_DOMAIN "banger-helper-net"

#include "config.h"

#include <errno.h>
#include <linux/if_tun.h>

#include <glib/gi18n.h>

#include "banger-error.h"

#include "net-names.h"
#include "net-ops.h"
#include "net-private.h"

static GRecMutex net_mutex;

GRecMutexLocker *
net_lock (void)
{
  return g_rec_mutex_locker_new (&net_mutex);
}

gboolean
net_failed (GError       **error,
            const GError  *cause,
            const char    *format,
            ...)
{
  g_autofree char *message = NULL;
  va_list args;

  if (cause->domain == BANGER_ERROR)
    {
      g_propagate_error (error, g_error_copy (cause));
      return FALSE;
    }
  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_message ("%s: %s", message, cause->message);
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "%s: %s", message, cause->message);
  return FALSE;
}

gboolean
net_link_is_tap (const NetLink *link)
{
  return g_str_equal (link->kind, "tun") && link->tun_info &&
         link->tun_type == IFF_TAP && !link->tun_multi_queue;
}

/* Ownership comes from the kernel's own record (the tun driver's owner,
 * read through netlink), never from a file or an argument, so it is
 * right after the helper's idle exit and restart. Not from sysfs either:
 * /sys/class/net shows the namespace sysfs was mounted in, not the
 * caller's. */
gboolean
net_get_own_tap (guint32      uid,
                 const char  *name,
                 NetLink     *out,
                 GError     **error)
{
  g_autoptr(GError) local = NULL;

  if (!netlink_get_link (name, out, &local))
    {
      if (g_error_matches (local, NET_ERRNO_ERROR, ENODEV))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                       _("There is no tap “%s”; create it with CreateTap first."), name);
          return FALSE;
        }
      return net_failed (error, local, _("Could not look up network device “%s”"), name);
    }
  if (!net_link_is_tap (out))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_OWNER,
                   _("Network device “%s” is not a tap made by banger (its kind is “%s”), "
                     "so banger-helper leaves it alone. Use another name, or ask an "
                     "administrator to remove the device."),
                   name, out->kind[0] != '\0' ? out->kind : "?");
      return FALSE;
    }
  if (!out->tun_has_owner)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_OWNER,
                   _("Tap “%s” has no owner, so it was not made by banger and "
                     "banger-helper leaves it alone. Use another name."),
                   name);
      return FALSE;
    }
  if (out->tun_owner != uid)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_OWNER,
                   _("Tap “%s” belongs to uid %u, not to you (uid %u); use another name."),
                   name, out->tun_owner, uid);
      return FALSE;
    }
  return TRUE;
}

/* NAT rules first: a rule outliving its tap is harmless, and deleting the
 * rules first keeps "nat:" entries meaningful even if a tap then fails. */
gboolean
net_release_all (guint32     uid,
                 GPtrArray  *released,
                 GError    **error)
{
  g_autoptr(GRecMutexLocker) locker = net_lock ();
  g_autoptr(GError) first = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(GArray) links = NULL;

  if (!net_nat_remove_locked (uid, NULL, released, NULL, &local))
    first = g_steal_pointer (&local);

  links = netlink_list_links (&local);
  if (links == NULL)
    {
      if (first == NULL)
        net_failed (&first, local, _("Could not list network devices"));
      g_clear_error (&local);
    }
  for (guint i = 0; links != NULL && i < links->len; i++)
    {
      const NetLink *link = &g_array_index (links, NetLink, i);

      /* Only banger's taps: the uid may own taps of its own for other
       * purposes, made by an administrator. */
      if (!net_link_is_tap (link) || !link->tun_has_owner || link->tun_owner != uid ||
          !net_validate_ifname (link->name, NET_TAP_PREFIX, NULL))
        continue;
      if (!netlink_delete_link (link->index, &local))
        {
          if (!g_error_matches (local, NET_ERRNO_ERROR, ENODEV) && first == NULL)
            net_failed (&first, local, _("Could not delete tap “%s”"), link->name);
          g_clear_error (&local);
          continue;
        }
      g_message ("released tap %s of uid %u", link->name, uid);
      g_ptr_array_add (released, g_strdup_printf ("tap:%s", link->name));
    }

  if (first != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&first));
      return FALSE;
    }
  return TRUE;
}
