/* netlink.h: the few rtnetlink and nfnetlink requests banger-helper makes,
 * through libmnl, in the network namespace of the calling thread. */
#pragma once

#include <glib.h>
#include <net/if.h>

G_BEGIN_DECLS

/* Kernel failures carry the errno as their code, so callers can tell
 * "exists" (EEXIST) or "no such device" (ENODEV) from real failures. */
#define NET_ERRNO_ERROR (net_errno_error_quark ())
GQuark net_errno_error_quark (void);

/* What the kernel says about one link. */
typedef struct {
  guint32  index;
  char     name[IFNAMSIZ];
  guint32  flags;             /* ifi_flags: IFF_UP, ... */
  guint32  master;            /* ifindex of the master, 0: none */
  char     kind[32];          /* IFLA_INFO_KIND ("bridge", "tun", ...), "" if none */
  /* Only for kind "tun", from the driver's own IFLA_INFO_DATA: */
  gboolean tun_info;          /* the tun attributes below were present */
  guint8   tun_type;          /* IFF_TUN or IFF_TAP */
  gboolean tun_has_owner;     /* the device has an owner uid (TUNSETOWNER) */
  guint32  tun_owner;
  gboolean tun_pi;
  gboolean tun_persist;
  gboolean tun_multi_queue;
} NetLink;

/* @name's link; FALSE with NET_ERRNO_ERROR ENODEV when there is none. */
gboolean netlink_get_link     (const char  *name,
                               NetLink     *out,
                               GError     **error);
/* Every link of the namespace: an array of NetLink. */
GArray  *netlink_list_links   (GError     **error);

/* RTM_NEWLINK kind "bridge", failing with EEXIST if the name is taken. */
gboolean netlink_create_bridge (const char  *name,
                                GError     **error);
/* Sets IFF_UP and, when @master is not 0, attaches the link to it. */
gboolean netlink_set_up        (guint32      index,
                                guint32      master,
                                GError     **error);
/* Adds @ip/@prefix_len (host order) to the link; EEXIST when it has it. */
gboolean netlink_add_ipv4      (guint32      index,
                                guint32      ip,
                                guint        prefix_len,
                                GError     **error);
gboolean netlink_delete_link   (guint32      index,
                                GError     **error);

/* Whether nf_tables has table @name in @family (NFPROTO_*), asked of the
 * kernel directly: libnftables only reports a missing table as text. */
gboolean netlink_nft_table_exists (guint8       family,
                                   const char  *name,
                                   gboolean    *out_exists,
                                   GError     **error);

G_END_DECLS
