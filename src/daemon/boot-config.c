/* boot-config.c: validates a VM's boot config as if every field were hostile,
 * and writes the vm.conf text that banger-init reads (docs/boot-config.md). */
#define G_LOG_DOMAIN "bangerd-boot-config"

#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>

#include "banger-error.h"
#include "banger-names.h"
#include "boot-config.h"

#define SHOWN_MAX 64

/* Anchored with G_REGEX_DOLLAR_ENDONLY: a plain '$' would also match before
 * a trailing newline, which is exactly what a hostile value would carry. */
#define MAC_PATTERN "^[0-9a-f]{2}(:[0-9a-f]{2}){5}$"
#define SSH_KEY_PATTERN \
  "^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|" \
  "sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) " \
  "[A-Za-z0-9+/=]+( [[:print:]]*)?$"

BootConfig *
boot_config_new (void)
{
  return g_new0 (BootConfig, 1);
}

void
boot_config_free (BootConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->hostname);
  g_free (config->ipv4_address);
  g_free (config->gateway);
  g_free (config->mac);
  g_strfreev (config->resolvers);
  g_free (config->ssh_authorized_key);
  g_free (config);
}

/* A hostile value quoted in an error: escaped and cut short, so a message
 * never carries control characters or kilobytes of junk. */
static char *
shown (const char *value)
{
  g_autofree char *escaped = g_strescape (value, NULL);

  if (strlen (escaped) <= SHOWN_MAX)
    return g_steal_pointer (&escaped);
  return g_strdup_printf ("%.*s…", SHOWN_MAX, escaped);
}

static gboolean
fail (GError     **error,
      const char  *format,
      ...) G_GNUC_PRINTF (2, 3);

static gboolean
fail (GError     **error,
      const char  *format,
      ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                                                format, args));
  va_end (args);
  return FALSE;
}

/* Parses @text as IPv4 in the one canonical spelling inet_ntop gives back,
 * so "010.0.0.1", "10.1" or "10.0.0.1 " never reach the guest. */
static gboolean
parse_ipv4 (const char  *what,
            const char  *text,
            guint32     *out,
            GError     **error)
{
  g_autoptr(GInetAddress) address = NULL;
  g_autofree char *printed = NULL;
  const guint8 *bytes;

  if (text == NULL || *text == '\0')
    return fail (error, _("The %s is missing; give an IPv4 address such as 172.30.0.2"), what);
  address = g_inet_address_new_from_string (text);
  if (address == NULL || g_inet_address_get_family (address) != G_SOCKET_FAMILY_IPV4)
    {
      g_autofree char *value = shown (text);
      return fail (error, _("The %s “%s” is not an IPv4 address; use dotted-quad form such as 172.30.0.2"),
                   what, value);
    }
  printed = g_inet_address_to_string (address);
  if (g_strcmp0 (printed, text) != 0)
    {
      g_autofree char *value = shown (text);
      return fail (error, _("The %s “%s” is not written canonically; write it as “%s”"),
                   what, value, printed);
    }
  if (g_inet_address_get_is_any (address) || g_inet_address_get_is_multicast (address)
      || g_strcmp0 (printed, "255.255.255.255") == 0)
    return fail (error, _("The %s %s cannot be used; give a unicast IPv4 address"), what, printed);

  bytes = g_inet_address_to_bytes (address);
  *out = ((guint32) bytes[0] << 24) | ((guint32) bytes[1] << 16)
         | ((guint32) bytes[2] << 8) | (guint32) bytes[3];
  return TRUE;
}

static gboolean
validate_network (const BootConfig  *config,
                  GError           **error)
{
  guint32 address, gateway, mask;

  if (config->ipv4_prefix < 1 || config->ipv4_prefix > 30)
    return fail (error, _("IPv4 prefix /%u is out of range; use /1 to /30 (a /30 or wider leaves room for a gateway)"),
                 config->ipv4_prefix);
  if (!parse_ipv4 (_("VM address"), config->ipv4_address, &address, error)
      || !parse_ipv4 (_("gateway address"), config->gateway, &gateway, error))
    return FALSE;

  mask = G_MAXUINT32 << (32 - config->ipv4_prefix);
  if ((address & ~mask) == 0 || (address & ~mask) == ~mask)
    return fail (error, _("VM address %s is the network or broadcast address of its /%u; pick a host address"),
                 config->ipv4_address, config->ipv4_prefix);
  if ((gateway & mask) != (address & mask))
    return fail (error, _("Gateway %s is outside the VM's network %s/%u; use an address in the same subnet"),
                 config->gateway, config->ipv4_address, config->ipv4_prefix);
  if (gateway == address)
    return fail (error, _("Gateway %s is the VM's own address; the gateway is the host side of the link"),
                 config->gateway);

  if (config->resolvers != NULL)
    {
      guint n = g_strv_length (config->resolvers);

      if (n > BOOT_CONFIG_RESOLVERS_MAX)
        return fail (error, _("%u DNS resolvers given; at most %d are used, drop the rest"),
                     n, BOOT_CONFIG_RESOLVERS_MAX);
      for (guint i = 0; i < n; i++)
        {
          guint32 ignored;

          if (!parse_ipv4 (_("DNS resolver"), config->resolvers[i], &ignored, error))
            return FALSE;
        }
    }
  return TRUE;
}

static gboolean
validate_mac (const char  *mac,
              GError     **error)
{
  guint first;

  if (mac == NULL || !g_regex_match_simple (MAC_PATTERN, mac, G_REGEX_DOLLAR_ENDONLY, 0))
    {
      g_autofree char *value = shown (mac != NULL ? mac : "");
      return fail (error, _("MAC address “%s” is not of the form xx:xx:xx:xx:xx:xx in lower-case hex"),
                   value);
    }
  first = (guint) g_ascii_xdigit_value (mac[0]) * 16 + (guint) g_ascii_xdigit_value (mac[1]);
  if (first & 1)
    return fail (error, _("MAC address %s is a multicast address; a NIC needs a unicast one (even first octet)"),
                 mac);
  return TRUE;
}

static gboolean
validate_ssh_key (const char  *key,
                  GError     **error)
{
  size_t len = strlen (key);

  if (len > BOOT_CONFIG_SSH_KEY_MAX)
    return fail (error, _("SSH public key is %zu bytes long; at most %d are accepted, use an ed25519 key"),
                 len, BOOT_CONFIG_SSH_KEY_MAX);
  for (size_t i = 0; i < len; i++)
    {
      unsigned char c = (unsigned char) key[i];

      if (c < 0x20 || c > 0x7e)
        return fail (error, _("SSH public key has a line break, control or non-ASCII character at byte %zu; "
                              "give exactly one line of a .pub file"), i + 1);
    }
  if (!g_regex_match_simple (SSH_KEY_PATTERN, key, G_REGEX_DOLLAR_ENDONLY, 0))
    {
      g_autofree char *value = shown (key);
      return fail (error, _("SSH public key “%s” is not an OpenSSH public key line "
                            "(TYPE BASE64 [COMMENT], e.g. from ~/.ssh/id_ed25519.pub)"), value);
    }
  return TRUE;
}

gboolean
boot_config_validate (const BootConfig  *config,
                      GError           **error)
{
  g_return_val_if_fail (config != NULL, FALSE);

  if (!banger_vm_name_validate (config->hostname, error))
    return FALSE;
  if (!validate_network (config, error))
    return FALSE;
  if (!validate_mac (config->mac, error))
    return FALSE;
  if (config->ssh_authorized_key != NULL && !validate_ssh_key (config->ssh_authorized_key, error))
    return FALSE;
  if (config->agent_vsock_port < 1 || config->agent_vsock_port > 65535)
    return fail (error, _("Agent vsock port %u is out of range; use 1 to 65535"),
                 config->agent_vsock_port);
  return TRUE;
}

/* Every value was validated, so none can hold a newline or anything a
 * line-based reader could misparse; the key order is fixed. */
char *
boot_config_serialize (const BootConfig *config,
                       gsize            *out_len)
{
  GString *text = g_string_new (NULL);

  g_string_append_printf (text, "version=%d\n", BOOT_CONFIG_VERSION);
  g_string_append_printf (text, "hostname=%s\n", config->hostname);
  g_string_append_printf (text, "ipv4=%s/%u\n", config->ipv4_address, config->ipv4_prefix);
  g_string_append_printf (text, "gateway=%s\n", config->gateway);
  g_string_append_printf (text, "mac=%s\n", config->mac);
  for (guint i = 0; config->resolvers != NULL && config->resolvers[i] != NULL; i++)
    g_string_append_printf (text, "resolver=%s\n", config->resolvers[i]);
  g_string_append_printf (text, "agent_vsock_port=%u\n", config->agent_vsock_port);

  if (out_len != NULL)
    *out_len = text->len;
  return g_string_free (text, FALSE);
}
