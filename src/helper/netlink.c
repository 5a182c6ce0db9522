/* netlink.c: rtnetlink (links, addresses) and one nfnetlink query through
 * libmnl: one socket per request, so every call sees the caller's netns. */
#define G_LOG_DOMAIN "banger-helper-netlink"

#include "config.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <time.h>


#include "netlink.h"

/* Big enough for one link dump message with statistics. */
#define NL_RECV_SIZE 32768
#define NL_SEND_SIZE 1024

G_DEFINE_QUARK (banger-net-errno-error-quark, net_errno_error)

static gboolean
set_errno_error (GError    **error,
                 int         errsv,
                 const char *what)
{
  g_set_error (error, NET_ERRNO_ERROR, errsv, "%s: %s", what, g_strerror (errsv));
  return FALSE;
}

typedef struct mnl_socket MnlSocket;
static void
close_socket (MnlSocket *nl)
{
  mnl_socket_close (nl);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MnlSocket, close_socket)

/* Sends @nlh on a fresh socket of @bus and feeds every reply to @cb until
 * the kernel's ACK, NLMSG_DONE or error. @what names the request in
 * errors. */
static gboolean
nl_transact (int              bus,
             struct nlmsghdr *nlh,
             mnl_cb_t         cb,
             void            *data,
             const char      *what,
             GError         **error)
{
  g_autoptr(MnlSocket) nl = NULL;
  g_autofree char *buf = NULL;
  unsigned int portid, seq;
  int ret;

  nl = mnl_socket_open2 (bus, SOCK_CLOEXEC);
  if (nl == NULL || mnl_socket_bind (nl, 0, MNL_SOCKET_AUTOPID) < 0)
    return set_errno_error (error, errno, what);
  portid = mnl_socket_get_portid (nl);

  seq = (unsigned int) time (NULL);
  nlh->nlmsg_seq = seq;
  if ((nlh->nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP)
    nlh->nlmsg_flags |= NLM_F_ACK;
  if (mnl_socket_sendto (nl, nlh, nlh->nlmsg_len) < 0)
    return set_errno_error (error, errno, what);

  buf = g_malloc (NL_RECV_SIZE);
  do
    {
      ssize_t n = mnl_socket_recvfrom (nl, buf, NL_RECV_SIZE);

      if (n < 0)
        return set_errno_error (error, errno, what);
      ret = mnl_cb_run (buf, (size_t) n, seq, portid, cb, data);
    }
  while (ret > MNL_CB_STOP);

  if (ret < 0)
    return set_errno_error (error, errno, what);
  return TRUE;
}

static struct nlmsghdr *
rtm_header (char   *buf,
            guint16 type,
            guint16 flags)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);

  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  return nlh;
}

/* Fills @table[type] with the attributes of @nest up to @max; later ones
 * are ignored, so a newer kernel's additions do no harm. */
static void
collect_nested (const struct nlattr  *nest,
                const struct nlattr **table,
                guint16               max)
{
  const struct nlattr *attr;

  mnl_attr_for_each_nested (attr, nest)
    {
      guint16 type = mnl_attr_get_type (attr);

      if (type <= max)
        table[type] = attr;
    }
}

static gboolean
attr_u8 (const struct nlattr *attr,
         guint8              *out)
{
  if (attr == NULL || mnl_attr_validate (attr, MNL_TYPE_U8) < 0)
    return FALSE;
  *out = mnl_attr_get_u8 (attr);
  return TRUE;
}

static void
parse_tun_info (const struct nlattr *data,
                NetLink             *link)
{
  const struct nlattr *tun[IFLA_TUN_MAX + 1] = { NULL };
  guint8 type = 0, pi = 0, persist = 0, mq = 0;

  collect_nested (data, tun, IFLA_TUN_MAX);
  if (!attr_u8 (tun[IFLA_TUN_TYPE], &type) || !attr_u8 (tun[IFLA_TUN_PI], &pi) ||
      !attr_u8 (tun[IFLA_TUN_PERSIST], &persist) ||
      !attr_u8 (tun[IFLA_TUN_MULTI_QUEUE], &mq))
    return;
  link->tun_info = TRUE;
  link->tun_type = type;
  link->tun_pi = pi != 0;
  link->tun_persist = persist != 0;
  link->tun_multi_queue = mq != 0;
  /* The kernel leaves the owner out when none was set (INVALID_UID). */
  if (tun[IFLA_TUN_OWNER] != NULL &&
      mnl_attr_validate (tun[IFLA_TUN_OWNER], MNL_TYPE_U32) >= 0)
    {
      link->tun_has_owner = TRUE;
      link->tun_owner = mnl_attr_get_u32 (tun[IFLA_TUN_OWNER]);
    }
}

static gboolean
parse_link (const struct nlmsghdr *nlh,
            NetLink               *link)
{
  const struct ifinfomsg *ifi = mnl_nlmsg_get_payload (nlh);
  const struct nlattr *attr;
  const struct nlattr *info[IFLA_INFO_MAX + 1] = { NULL };

  if (nlh->nlmsg_type != RTM_NEWLINK ||
      mnl_nlmsg_get_payload_len (nlh) < sizeof *ifi)
    return FALSE;

  memset (link, 0, sizeof *link);
  link->index = (guint32) ifi->ifi_index;
  link->flags = ifi->ifi_flags;
  mnl_attr_for_each (attr, nlh, sizeof *ifi)
    {
      switch (mnl_attr_get_type (attr))
        {
        case IFLA_IFNAME:
          if (mnl_attr_validate (attr, MNL_TYPE_NUL_STRING) >= 0)
            g_strlcpy (link->name, mnl_attr_get_str (attr), sizeof link->name);
          break;
        case IFLA_MASTER:
          if (mnl_attr_validate (attr, MNL_TYPE_U32) >= 0)
            link->master = mnl_attr_get_u32 (attr);
          break;
        case IFLA_LINKINFO:
          if (mnl_attr_validate (attr, MNL_TYPE_NESTED) >= 0)
            collect_nested (attr, info, IFLA_INFO_MAX);
          break;
        default:
          break;
        }
    }
  if (info[IFLA_INFO_KIND] != NULL &&
      mnl_attr_validate (info[IFLA_INFO_KIND], MNL_TYPE_NUL_STRING) >= 0)
    g_strlcpy (link->kind, mnl_attr_get_str (info[IFLA_INFO_KIND]), sizeof link->kind);
  if (g_str_equal (link->kind, "tun") && info[IFLA_INFO_DATA] != NULL &&
      mnl_attr_validate (info[IFLA_INFO_DATA], MNL_TYPE_NESTED) >= 0)
    parse_tun_info (info[IFLA_INFO_DATA], link);
  return link->name[0] != '\0';
}

typedef struct {
  NetLink  *link;
  gboolean  found;
} GetLinkData;

static int
on_get_link (const struct nlmsghdr *nlh,
             void                  *user_data)
{
  GetLinkData *data = user_data;

  if (parse_link (nlh, data->link))
    data->found = TRUE;
  return MNL_CB_OK;
}

gboolean
netlink_get_link (const char  *name,
                  NetLink     *out,
                  GError     **error)
{
  char buf[NL_SEND_SIZE];
  struct nlmsghdr *nlh = rtm_header (buf, RTM_GETLINK, 0);
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header (nlh, sizeof *ifi);
  GetLinkData data = { out, FALSE };

  ifi->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz (nlh, IFLA_IFNAME, name);
  mnl_attr_put_u32 (nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  if (!nl_transact (NETLINK_ROUTE, nlh, on_get_link, &data, name, error))
    return FALSE;
  /* Asked by name, the kernel answers with that link or ENODEV. */
  if (!data.found || !g_str_equal (out->name, name))
    return set_errno_error (error, ENODEV, name);
  return TRUE;
}

static int
on_list_link (const struct nlmsghdr *nlh,
              void                  *user_data)
{
  GArray *links = user_data;
  NetLink link;

  if (parse_link (nlh, &link))
    g_array_append_val (links, link);
  return MNL_CB_OK;
}

GArray *
netlink_list_links (GError **error)
{
  char buf[NL_SEND_SIZE];
  struct nlmsghdr *nlh = rtm_header (buf, RTM_GETLINK, NLM_F_DUMP);
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header (nlh, sizeof *ifi);
  g_autoptr(GArray) links = g_array_new (FALSE, FALSE, sizeof (NetLink));

  ifi->ifi_family = AF_UNSPEC;
  mnl_attr_put_u32 (nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  /* A dump that raced with a change is flagged (libmnl: EINTR); the
   * listing may then be incomplete, so it is taken again. */
  for (int attempt = 0;; attempt++)
    {
      g_autoptr(GError) local = NULL;

      g_array_set_size (links, 0);
      if (nl_transact (NETLINK_ROUTE, nlh, on_list_link, links, "RTM_GETLINK", &local))
        return g_steal_pointer (&links);
      if (attempt == 4 || !g_error_matches (local, NET_ERRNO_ERROR, EINTR))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
    }
}

gboolean
netlink_create_bridge (const char  *name,
                       GError     **error)
{
  char buf[NL_SEND_SIZE];
  struct nlmsghdr *nlh = rtm_header (buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header (nlh, sizeof *ifi);
  struct nlattr *linkinfo;

  ifi->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz (nlh, IFLA_IFNAME, name);
  linkinfo = mnl_attr_nest_start (nlh, IFLA_LINKINFO);
  mnl_attr_put_strz (nlh, IFLA_INFO_KIND, "bridge");
  mnl_attr_nest_end (nlh, linkinfo);
  return nl_transact (NETLINK_ROUTE, nlh, NULL, NULL, name, error);
}

gboolean
netlink_set_up (guint32   index,
                guint32   master,
                GError  **error)
{
  char buf[NL_SEND_SIZE];
  struct nlmsghdr *nlh = rtm_header (buf, RTM_NEWLINK, 0);
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header (nlh, sizeof *ifi);

  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = (int) index;
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  if (master != 0)
    mnl_attr_put_u32 (nlh, IFLA_MASTER, master);
  return nl_transact (NETLINK_ROUTE, nlh, NULL, NULL, "RTM_NEWLINK", error);
}

gboolean
netlink_add_ipv4 (guint32   index,
                  guint32   ip,
                  guint     prefix_len,
                  GError  **error)
{
  char buf[NL_SEND_SIZE];
  struct nlmsghdr *nlh = rtm_header (buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header (nlh, sizeof *ifa);
  guint32 mask = 0xffffffffu << (32 - prefix_len);

  g_return_val_if_fail (prefix_len >= 1 && prefix_len <= 32, FALSE);
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = (unsigned char) prefix_len;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = index;
  /* As `ip address add A/N brd +` does: local, peer and broadcast. */
  mnl_attr_put_u32 (nlh, IFA_LOCAL, g_htonl (ip));
  mnl_attr_put_u32 (nlh, IFA_ADDRESS, g_htonl (ip));
  mnl_attr_put_u32 (nlh, IFA_BROADCAST, g_htonl (ip | ~mask));
  return nl_transact (NETLINK_ROUTE, nlh, NULL, NULL, "RTM_NEWADDR", error);
}

gboolean
netlink_delete_link (guint32   index,
                     GError  **error)
{
  char buf[NL_SEND_SIZE];
  struct nlmsghdr *nlh = rtm_header (buf, RTM_DELLINK, 0);
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header (nlh, sizeof *ifi);

  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = (int) index;
  return nl_transact (NETLINK_ROUTE, nlh, NULL, NULL, "RTM_DELLINK", error);
}

gboolean
netlink_nft_table_exists (guint8       family,
                          const char  *name,
                          gboolean    *out_exists,
                          GError     **error)
{
  char buf[NL_SEND_SIZE];
  struct nlmsghdr *nlh = rtm_header (buf,
                                     (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE,
                                     0);
  struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header (nlh, sizeof *nfg);
  g_autoptr(GError) local = NULL;

  nfg->nfgen_family = family;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = 0;
  mnl_attr_put_strz (nlh, NFTA_TABLE_NAME, name);
  if (nl_transact (NETLINK_NETFILTER, nlh, NULL, NULL, name, &local))
    {
      *out_exists = TRUE;
      return TRUE;
    }
  if (g_error_matches (local, NET_ERRNO_ERROR, ENOENT))
    {
      *out_exists = FALSE;
      return TRUE;
    }
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}
