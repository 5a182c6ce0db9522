/* tap.c: per-VM tap devices: created through /dev/net/tun owned by the
 * caller's uid, attached to banger's bridge; opened for and deleted by
 * that uid only. */
#define G_LOG_DOMAIN "banger-helper-tap"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>

#include <glib/gi18n.h>

#include "banger-error.h"

#include "net-ops.h"
#include "net-private.h"

#define TUN_DEVICE "/dev/net/tun"

static int
open_tun (GError **error)
{
  int fd = open (TUN_DEVICE, O_RDWR | O_CLOEXEC);

  if (fd < 0)
    {
      int errsv = errno;
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("Could not open %s: %s. Check that the tun driver is available "
                     "and that banger-helper may use the device."),
                   TUN_DEVICE, g_strerror (errsv));
    }
  return fd;
}

/* TUNSETIFF for @name on @fd; returns the errno, 0 on success. */
static int
tun_set_iff (int         fd,
             const char *name,
             short       flags)
{
  struct ifreq ifr = { 0 };

  g_strlcpy (ifr.ifr_name, name, sizeof ifr.ifr_name);
  ifr.ifr_flags = flags;
  return ioctl (fd, TUNSETIFF, &ifr) < 0 ? errno : 0;
}

/* While @fd is open and the device not yet persistent, closing @fd
 * removes it; after TUNSETPERSIST, clearing it again does the same. So
 * every failure below leaves no device behind. */
static gboolean
create_tap_locked (guint32      uid,
                   const char  *name,
                   guint32      bridge_index,
                   GError     **error)
{
  g_auto(NetFd) fd = -1;
  g_autoptr(GError) local = NULL;
  NetLink link;
  int errsv;

  fd = open_tun (error);
  if (fd < 0)
    return FALSE;

  /* IFF_TUN_EXCL: create, never attach to a device that appeared since
   * we looked (TUNSETOWNER would then take over someone else's tap). */
  errsv = tun_set_iff (fd, name, IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL);
  if (errsv == EBUSY)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                   _("A network device “%s” appeared while creating the tap; call again."),
                   name);
      return FALSE;
    }
  if (errsv != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("Could not create tap “%s”: %s"), name, g_strerror (errsv));
      return FALSE;
    }
  if (ioctl (fd, TUNSETOWNER, (unsigned long) uid) < 0 ||
      ioctl (fd, TUNSETPERSIST, 1UL) < 0)
    {
      errsv = errno;
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("Could not make tap “%s” persistent and yours: %s"), name,
                   g_strerror (errsv));
      return FALSE;
    }

  if (!netlink_get_link (name, &link, &local) ||
      !netlink_set_up (link.index, bridge_index, &local))
    {
      /* Roll back: not persistent any more, so the close removes it. */
      if (ioctl (fd, TUNSETPERSIST, 0UL) < 0)
        g_warning ("could not undo tap %s: %s", name, g_strerror (errno));
      return net_failed (error, local, _("Could not attach tap “%s” to the bridge"), name);
    }
  g_message ("created tap %s for uid %u", name, uid);
  return TRUE;
}

gboolean
net_create_tap (const HelperConfig  *config,
                guint32              uid,
                const char          *name,
                GError             **error)
{
  g_autoptr(GRecMutexLocker) locker = net_lock ();
  g_autoptr(GError) local = NULL;
  guint32 bridge_index;
  NetLink link;

  if (!net_bridge_ensure_locked (config, &bridge_index, error))
    return FALSE;

  if (!net_get_own_tap (uid, name, &link, &local))
    {
      if (!g_error_matches (local, BANGER_ERROR, BANGER_ERROR_NOT_FOUND))
        {
          /* CreateTap's documented error for a device that is no tap. */
          if (g_error_matches (local, BANGER_ERROR, BANGER_ERROR_NOT_OWNER) &&
              !net_link_is_tap (&link))
            local->code = BANGER_ERROR_ALREADY_EXISTS;
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      return create_tap_locked (uid, name, bridge_index, error);
    }

  /* The caller's own tap: make sure it is on the bridge and up. */
  if (!netlink_set_up (link.index, bridge_index, &local))
    return net_failed (error, local, _("Could not attach tap “%s” to the bridge"), name);
  return TRUE;
}

int
net_open_tap (guint32      uid,
              const char  *name,
              GError     **error)
{
  g_autoptr(GRecMutexLocker) locker = net_lock ();
  g_autoptr(GError) local = NULL;
  g_auto(NetFd) fd = -1;
  NetLink before, after;
  int errsv;

  /* Ownership first: TUNSETIFF as root would attach to anyone's tap. */
  if (!net_get_own_tap (uid, name, &before, error))
    return -1;

  fd = open_tun (error);
  if (fd < 0)
    return -1;
  /* The flags CreateTap used; without IFF_MULTI_QUEUE only one fd can be
   * attached at a time. */
  errsv = tun_set_iff (fd, name, IFF_TAP | IFF_NO_PI);
  if (errsv == EBUSY)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY,
                   _("Tap “%s” is already open in another process (a running VM?); "
                     "stop that first."), name);
      return -1;
    }
  if (errsv != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("Could not open tap “%s”: %s"), name, g_strerror (errsv));
      return -1;
    }

  /* Without IFF_TUN_EXCL, TUNSETIFF creates a device if the name is free:
   * if ours vanished meanwhile (not through the helper: it holds the
   * lock), this fd is on a new, unowned one. Closing it removes that. */
  if (!netlink_get_link (name, &after, &local))
    {
      net_failed (error, local, _("Could not look up network device “%s”"), name);
      return -1;
    }
  if (after.index != before.index || !after.tun_has_owner || after.tun_owner != uid)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                   _("Tap “%s” was removed while opening it; create it again."), name);
      return -1;
    }
  return g_steal_fd (&fd);
}

gboolean
net_delete_tap (guint32      uid,
                const char  *name,
                GError     **error)
{
  g_autoptr(GRecMutexLocker) locker = net_lock ();
  g_autoptr(GError) local = NULL;
  guint removed = 0;
  NetLink link;

  if (!net_get_own_tap (uid, name, &link, &local))
    {
      if (!g_error_matches (local, BANGER_ERROR, BANGER_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      /* The tap is gone but its rule may not be (the helper died between
       * the two): that is still the caller's to remove. */
      if (!net_nat_remove_locked (uid, name, NULL, &removed, error))
        return FALSE;
      if (removed == 0)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      return TRUE;
    }

  if (!net_nat_remove_locked (uid, name, NULL, NULL, error))
    return FALSE;
  if (!netlink_delete_link (link.index, &local))
    return net_failed (error, local, _("Could not delete tap “%s”"), name);
  g_message ("deleted tap %s of uid %u", name, uid);
  return TRUE;
}
