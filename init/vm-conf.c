/* vm-conf.c: the strict reader of the disk's banger/vm.conf and
 * authorized_keys (docs/boot-config.md). It applies the same value checks
 * bangerd applies before writing, so a hand-edited or corrupted disk is
 * refused rather than half-applied. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init.h"

/* "BEFORE<value>AFTER" into @err; the value cut short and made printable. */
static bool
fail_at (char *err, size_t err_size, const char *before, const char *value, const char *after)
{
  char shown[48];
  size_t j = 0;

  /* Quote at most a little of the value, without control characters. */
  for (size_t i = 0; value[i] != '\0' && j + 1 < sizeof shown; i++)
    shown[j++] = (value[i] >= ' ' && value[i] <= '~') ? value[i] : '?';
  shown[j] = '\0';
  snprintf (err, err_size, "%s%s%s", before, shown, after);
  return false;
}

/* Canonical dotted quad only: no leading zeros, no missing parts, no
 * spaces, each part 0..255 — what inet_ntop would print back. */
bool
ipv4_parse (const char *text, uint32_t *out)
{
  uint32_t value = 0;
  const char *p = text;

  for (int part = 0; part < 4; part++)
    {
      unsigned n = 0;
      int digits = 0;

      if (part > 0 && *p++ != '.')
        return false;
      while (*p >= '0' && *p <= '9')
        {
          if (digits > 0 && n == 0)
            return false;             /* leading zero */
          n = n * 10 + (unsigned) (*p - '0');
          digits++;
          p++;
          if (digits > 3 || n > 255)
            return false;
        }
      if (digits == 0)
        return false;
      value = (value << 8) | n;
    }
  if (*p != '\0')
    return false;
  *out = value;
  return true;
}

/* A unicast address, as bangerd requires of every address it writes. */
static bool
ipv4_unicast (const char *text, uint32_t *out)
{
  if (!ipv4_parse (text, out))
    return false;
  return *out != 0 && (*out >> 28) != 0xe && *out != 0xffffffffu;
}

static bool
hostname_valid (const char *text)
{
  size_t len = strlen (text);

  if (len < 1 || len > 63 || text[0] == '-' || text[len - 1] == '-')
    return false;
  for (size_t i = 0; i < len; i++)
    if (!((text[i] >= 'a' && text[i] <= 'z') || (text[i] >= '0' && text[i] <= '9') || text[i] == '-'))
      return false;
  return true;
}

static bool
mac_valid (const char *text)
{
  static const char hex[] = "0123456789abcdef";

  if (strlen (text) != 17)
    return false;
  for (int i = 0; i < 17; i++)
    {
      if (i % 3 == 2)
        {
          if (text[i] != ':')
            return false;
        }
      else if (text[i] == '\0' || strchr (hex, text[i]) == NULL)
        return false;
    }
  /* Unicast: the low bit of the first octet is clear. */
  return ((strchr (hex, text[1]) - hex) & 1) == 0;
}

static bool
number_parse (const char *text, unsigned max, unsigned *out)
{
  unsigned long value = 0;

  if (*text == '\0' || (text[0] == '0' && text[1] != '\0') || strlen (text) > 10)
    return false;
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p < '0' || *p > '9')
        return false;
      value = value * 10 + (unsigned long) (*p - '0');
    }
  if (value > max)
    return false;
  *out = (unsigned) value;
  return true;
}

enum { SEEN_VERSION = 1, SEEN_HOSTNAME = 2, SEEN_IPV4 = 4, SEEN_GATEWAY = 8,
       SEEN_MAC = 16, SEEN_PORT = 32, SEEN_ALL = 63 };

bool
vm_conf_parse (const char *text, size_t len, VmConf *out, char *err, size_t err_size)
{
  unsigned seen = 0;
  size_t pos = 0;
  uint32_t address = 0, gateway = 0, mask;

  memset (out, 0, sizeof *out);
  if (len == 0)
    return fail_at (err, err_size, "vm.conf is empty", "", "");
  if (memchr (text, '\0', len) != NULL)
    return fail_at (err, err_size, "vm.conf contains a NUL byte", "", "");

  while (pos < len)
    {
      char line[128];
      const char *end = memchr (text + pos, '\n', len - pos);
      size_t line_len;
      char *key, *value, *eq;

      if (end == NULL)
        return fail_at (err, err_size, "vm.conf: last line \"", text + pos, "\" does not end with a newline");
      line_len = (size_t) (end - (text + pos));
      if (line_len >= sizeof line)
        return fail_at (err, err_size, "vm.conf: line too long: \"", "", "\"");
      memcpy (line, text + pos, line_len);
      line[line_len] = '\0';
      pos += line_len + 1;

      eq = strchr (line, '=');
      if (eq == NULL)
        return fail_at (err, err_size, "vm.conf: line \"", line, "\" is not key=value");
      *eq = '\0';
      key = line;
      value = eq + 1;
      if (*value == '\0')
        return fail_at (err, err_size, "vm.conf: key \"", key, "\" has an empty value");

      if (seen == 0 && strcmp (key, "version") != 0)
        return fail_at (err, err_size, "vm.conf: first line must be version=1, not key \"", key, "\"");

      if (strcmp (key, "version") == 0)
        {
          if (seen & SEEN_VERSION)
            return fail_at (err, err_size, "vm.conf: duplicate key \"", key, "\"");
          if (strcmp (value, "1") != 0)
            return fail_at (err, err_size, "vm.conf: unsupported version \"", value, "\" (this banger-init reads version 1)");
          seen |= SEEN_VERSION;
        }
      else if (strcmp (key, "hostname") == 0)
        {
          if (seen & SEEN_HOSTNAME)
            return fail_at (err, err_size, "vm.conf: duplicate key \"", key, "\"");
          if (!hostname_valid (value))
            return fail_at (err, err_size, "vm.conf: hostname \"", value, "\" is not a DNS label of a-z, 0-9, '-'");
          strcpy (out->hostname, value);
          seen |= SEEN_HOSTNAME;
        }
      else if (strcmp (key, "ipv4") == 0)
        {
          char *slash = strchr (value, '/');

          if (seen & SEEN_IPV4)
            return fail_at (err, err_size, "vm.conf: duplicate key \"", key, "\"");
          if (slash == NULL)
            return fail_at (err, err_size, "vm.conf: ipv4 \"", value, "\" is not ADDRESS/PREFIX");
          *slash = '\0';
          if (!ipv4_unicast (value, &address) || !number_parse (slash + 1, 30, &out->prefix)
              || out->prefix < 1)
            {
              *slash = '/';
              return fail_at (err, err_size, "vm.conf: ipv4 \"", value, "\" is not a unicast ADDRESS/PREFIX with prefix 1-30");
            }
          strcpy (out->ipv4, value);
          seen |= SEEN_IPV4;
        }
      else if (strcmp (key, "gateway") == 0)
        {
          if (seen & SEEN_GATEWAY)
            return fail_at (err, err_size, "vm.conf: duplicate key \"", key, "\"");
          if (!ipv4_unicast (value, &gateway))
            return fail_at (err, err_size, "vm.conf: gateway \"", value, "\" is not a unicast IPv4 address");
          strcpy (out->gateway, value);
          seen |= SEEN_GATEWAY;
        }
      else if (strcmp (key, "mac") == 0)
        {
          if (seen & SEEN_MAC)
            return fail_at (err, err_size, "vm.conf: duplicate key \"", key, "\"");
          if (!mac_valid (value))
            return fail_at (err, err_size, "vm.conf: mac \"", value, "\" is not a lower-case unicast xx:xx:xx:xx:xx:xx");
          strcpy (out->mac, value);
          seen |= SEEN_MAC;
        }
      else if (strcmp (key, "resolver") == 0)
        {
          uint32_t ignored;

          if (out->n_resolvers >= VM_CONF_RESOLVERS_MAX)
            return fail_at (err, err_size, "vm.conf: more than 8 resolvers", "", "");
          if (!ipv4_unicast (value, &ignored))
            return fail_at (err, err_size, "vm.conf: resolver \"", value, "\" is not a unicast IPv4 address");
          strcpy (out->resolvers[out->n_resolvers++], value);
        }
      else if (strcmp (key, "agent_vsock_port") == 0)
        {
          if (seen & SEEN_PORT)
            return fail_at (err, err_size, "vm.conf: duplicate key \"", key, "\"");
          if (!number_parse (value, 65535, &out->agent_vsock_port) || out->agent_vsock_port < 1)
            return fail_at (err, err_size, "vm.conf: agent_vsock_port \"", value, "\" is not 1-65535");
          seen |= SEEN_PORT;
        }
      else
        return fail_at (err, err_size, "vm.conf: unknown key \"", key, "\"");
    }

  if (seen != SEEN_ALL)
    {
      static const char *const names[] = { "version", "hostname", "ipv4", "gateway", "mac", "agent_vsock_port" };

      for (int i = 0; i < 6; i++)
        if (!(seen & (1u << i)))
          return fail_at (err, err_size, "vm.conf: key \"", names[i], "\" is missing");
    }

  mask = 0xffffffffu << (32 - out->prefix);
  if ((address & ~mask) == 0 || (address & ~mask) == ~mask)
    return fail_at (err, err_size, "vm.conf: ipv4 ", out->ipv4, " is its subnet's network or broadcast address");
  if ((gateway & mask) != (address & mask) || gateway == address)
    return fail_at (err, err_size, "vm.conf: gateway ", out->gateway, " is not another address of the VM's subnet");
  return true;
}

bool
ssh_key_valid (const char *text, size_t len, char *err, size_t err_size)
{
  static const char *const types[] = {
    "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
  };
  const char *p = text;
  bool typed = false;

  if (len < 2 || len > SSH_KEY_MAX_BYTES + 1 || text[len - 1] != '\n')
    return fail_at (err, err_size, "authorized_keys is not one line ending in a newline", "", "");
  for (size_t i = 0; i + 1 < len; i++)
    if (text[i] < 0x20 || text[i] > 0x7e)
      return fail_at (err, err_size, "authorized_keys has a control or non-ASCII character", "", "");

  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    {
      size_t n = strlen (types[i]);

      if (strncmp (p, types[i], n) == 0 && p[n] == ' ')
        {
          p += n + 1;
          typed = true;
          break;
        }
    }
  if (!typed)
    return fail_at (err, err_size, "authorized_keys does not start with a known key type", "", "");
  if (*p == ' ' || *p == '\n')
    return fail_at (err, err_size, "authorized_keys lacks the base64 key", "", "");
  while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
         || *p == '+' || *p == '/' || *p == '=')
    p++;
  if (*p != ' ' && *p != '\n')
    return fail_at (err, err_size, "authorized_keys: the key is not base64", "", "");
  return true;
}
