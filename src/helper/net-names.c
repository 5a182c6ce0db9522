/* net-names.c: validators for interface names and VM addresses. They see
 * hostile input first, so they are strict (a small allowlist) and total. */
#define G_LOG_DOMAIN "banger-helper-net"

#include "config.h"

#include <arpa/inet.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <net/if.h>

#include "banger-error.h"
#include "net-names.h"

gboolean
net_validate_ifname (const char  *name,
                     const char  *prefix,
                     GError     **error)
{
  size_t len = name != NULL ? strlen (name) : 0;

  if (len == 0 || len >= IFNAMSIZ)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("An interface name has 1-%d characters; “%s” has %zu"),
                   IFNAMSIZ - 1, name != NULL ? name : "", len);
      return FALSE;
    }
  for (size_t i = 0; i < len; i++)
    if (!g_ascii_islower (name[i]) && !g_ascii_isdigit (name[i]) && name[i] != '-')
      {
        g_autofree char *shown = g_strescape (name, NULL);
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                     _("Interface name “%s” may only contain a-z, 0-9 and '-'"), shown);
        return FALSE;
      }
  if (prefix != NULL && (!g_str_has_prefix (name, prefix) || len == strlen (prefix)))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a banger tap: its name must start with “%s” and go on"),
                   name, prefix);
      return FALSE;
    }
  return TRUE;
}

gboolean
net_validate_vm_address (const char  *text,
                         guint32      bridge_ip,
                         guint        prefix_len,
                         guint32     *out_ip,
                         GError     **error)
{
  struct in_addr addr;
  guint32 ip, mask = 0xffffffffu << (32 - prefix_len);
  char canonical[INET_ADDRSTRLEN];

  /* inet_pton accepts only dotted-quad; compare with the canonical form
   * to refuse leading zeros ("010.0.0.1") that other parsers read as octal. */
  if (text == NULL || inet_pton (AF_INET, text, &addr) != 1 ||
      inet_ntop (AF_INET, &addr, canonical, sizeof canonical) == NULL ||
      strcmp (canonical, text) != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not an IPv4 address like 172.30.0.2"), text != NULL ? text : "");
      return FALSE;
    }
  ip = ntohl (addr.s_addr);
  if ((ip & mask) != (bridge_ip & mask) || (ip & ~mask) == 0 || (ip & ~mask) == ~mask ||
      ip == bridge_ip)
    {
      struct in_addr net = { htonl (bridge_ip & mask) };
      char net_text[INET_ADDRSTRLEN];

      inet_ntop (AF_INET, &net, net_text, sizeof net_text);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("%s is not a VM address of banger's subnet %s/%u (not the network, "
                     "broadcast or bridge address)"),
                   text, net_text, prefix_len);
      return FALSE;
    }
  *out_ip = ip;
  return TRUE;
}
