/* vm-network.c: address allocation for VMs. Uniqueness comes from the
 * caller's set of taken addresses, backed by a UNIQUE index in the store. */
#define G_LOG_DOMAIN "bangerd-network"

#include "config.h"

#include <glib/gi18n.h>

#include "banger-error.h"
#include "vm-network.h"

/* Narrower than /16 keeps tap names short; wider than /29 leaves room. */
#define SUBNET_PREFIX_MIN 16
#define SUBNET_PREFIX_MAX 29

gboolean
ipv4_parse (const char  *text,
            guint32     *out,
            GError     **error)
{
  g_auto(GStrv) parts = g_strsplit (text, ".", -1);
  guint32 value = 0;

  if (g_strv_length (parts) != 4)
    goto bad;
  for (guint i = 0; i < 4; i++)
    {
      guint64 octet;

      /* Decimal only, no leading zeros, so every address has one spelling. */
      if (parts[i][0] == '\0' || (parts[i][0] == '0' && parts[i][1] != '\0') ||
          !g_ascii_string_to_unsigned (parts[i], 10, 0, 255, &octet, NULL))
        goto bad;
      value = (value << 8) | (guint32) octet;
    }
  *out = value;
  return TRUE;

bad:
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
               _("“%s” is not an IPv4 address like 172.30.0.2"), text);
  return FALSE;
}

char *
ipv4_to_string (guint32 address)
{
  return g_strdup_printf ("%u.%u.%u.%u", address >> 24, (address >> 16) & 0xff,
                          (address >> 8) & 0xff, address & 0xff);
}

static guint32
prefix_mask (guint prefix)
{
  return prefix == 0 ? 0 : G_MAXUINT32 << (32 - prefix);
}

gboolean
subnet_parse (const char  *text,
              Subnet      *out,
              GError     **error)
{
  const char *slash = strchr (text, '/');
  g_autofree char *address_text = NULL;
  guint64 prefix;
  guint32 address;

  if (slash == NULL ||
      !g_ascii_string_to_unsigned (slash + 1, 10, SUBNET_PREFIX_MIN, SUBNET_PREFIX_MAX,
                                   &prefix, NULL))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a subnet like 172.30.0.0/24 (prefix length %d to %d)"),
                   text, SUBNET_PREFIX_MIN, SUBNET_PREFIX_MAX);
      return FALSE;
    }
  address_text = g_strndup (text, slash - text);
  if (!ipv4_parse (address_text, &address, error))
    return FALSE;
  if ((address & ~prefix_mask (prefix)) != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("“%s” has host bits set; the subnet's network address is meant"), text);
      return FALSE;
    }
  out->network = address;
  out->prefix = prefix;
  return TRUE;
}

guint32
subnet_gateway (const Subnet *subnet)
{
  return subnet->network + 1;
}

gboolean
subnet_contains (const Subnet *subnet,
                 guint32       address)
{
  return (address & prefix_mask (subnet->prefix)) == subnet->network;
}

gboolean
subnet_allocate (const Subnet  *subnet,
                 GHashTable    *taken,
                 guint32       *out_address,
                 GError       **error)
{
  guint32 broadcast = subnet->network | ~prefix_mask (subnet->prefix);

  for (guint32 a = subnet_gateway (subnet) + 1; a < broadcast; a++)
    if (!g_hash_table_contains (taken, GUINT_TO_POINTER (a)))
      {
        *out_address = a;
        return TRUE;
      }

  g_autofree char *net = ipv4_to_string (subnet->network);
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY,
               _("Every address of subnet %s/%u is in use; delete a VM or configure a larger "
                 "subnet ([network] subnet in the config file)"), net, subnet->prefix);
  return FALSE;
}

char *
vm_network_mac_for (guint32 address)
{
  return g_strdup_printf ("06:00:%02x:%02x:%02x:%02x", address >> 24, (address >> 16) & 0xff,
                          (address >> 8) & 0xff, address & 0xff);
}

static void
append_base36 (GString *out,
               guint32  value)
{
  char digits[8];
  int n = 0;

  do
    {
      digits[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[value % 36];
      value /= 36;
    }
  while (value != 0);
  while (n > 0)
    g_string_append_c (out, digits[--n]);
}

char *
vm_network_tap_for (guint32       uid,
                    const Subnet *subnet,
                    guint32       address)
{
  GString *name = g_string_new ("bg-");

  /* uid ≤ 7 digits, host part of a /16 ≤ 4: "bg-" + 7 + "-" + 4 = 15.
   * The separator is outside the digits' alphabet, so names never collide. */
  append_base36 (name, uid);
  g_string_append_c (name, '-');
  append_base36 (name, address - subnet->network);
  return g_string_free (name, FALSE);
}
