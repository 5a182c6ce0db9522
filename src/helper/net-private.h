/* net-private.h: what bridge.c, tap.c, nat.c and net-ops.c share: the one
 * lock, error conversion and the "is this the caller's tap?" check. */
#pragma once

#include <unistd.h>

#include <glib.h>

#include "helper-config.h"
#include "netlink.h"

G_BEGIN_DECLS

/* A file descriptor closed when it goes out of scope (g_autofd is newer
 * than the GLib banger builds against). */
typedef int NetFd;
static inline void
net_fd_close (NetFd fd)
{
  close (fd);
}
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (NetFd, net_fd_close, -1)

/* Serializes every network operation of the helper: a check ("this tap is
 * uid 1000's") stays true until the change it allows is made. Recursive,
 * since one operation may call another's locked half. */
GRecMutexLocker *net_lock (void);

/* Sets BANGER_ERROR_FAILED: "<@format...>: <@cause's message>". A
 * BANGER_ERROR @cause is passed on unchanged. Returns FALSE. */
gboolean net_failed (GError      **error,
                     const GError *cause,
                     const char   *format,
                     ...) G_GNUC_PRINTF (3, 4);

/* TRUE if @link is a tun device in tap mode with one queue: the kind of
 * device CreateTap makes and OpenTap can attach to. */
gboolean net_link_is_tap (const NetLink *link);

/* Looks @name up; succeeds only for a tap whose kernel owner is @uid.
 * NOT_FOUND when no device has that name, NOT_OWNER for another uid's tap
 * or for a device that is not a tap. */
gboolean net_get_own_tap (guint32       uid,
                          const char   *name,
                          NetLink      *out,
                          GError      **error);

/* Locked halves used across files; the caller holds net_lock(). */
gboolean net_bridge_ensure_locked (const HelperConfig  *config,
                                   guint32             *out_index,
                                   GError             **error);
/* Deletes @uid's rules, all of them or only @tap's (when not NULL), in one
 * transaction; appends "nat:TAP" to @released (may be NULL) and counts
 * them in @out_removed (may be NULL). */
gboolean net_nat_remove_locked    (guint32              uid,
                                   const char          *tap,
                                   GPtrArray           *released,
                                   guint               *out_removed,
                                   GError             **error);

G_END_DECLS
