/* helper-config.c: parses /etc/banger/helper.conf (GKeyFile). Every value
 * is checked here once, so handlers can rely on it. A missing file means
 * the defaults. */
#define G_LOG_DOMAIN "banger-helper-config"

#include "config.h"

#include <arpa/inet.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "banger-error.h"
#include "helper-config.h"
#include "net-names.h"

#define DEFAULT_BRIDGE     "banger0"
#define DEFAULT_ADDRESS    "172.30.0.1/24"
#define DEFAULT_JAIL_BASE  BANGER_LOCALSTATEDIR "/lib/banger-helper/jail"

static HelperConfig *global_config;

void
helper_config_free (HelperConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->bridge);
  g_free (config->jailer);
  g_free (config->firecracker);
  g_free (config->jail_base);
  g_free (config->cgroup_root);
  g_free (config);
}

void
helper_config_set_global (HelperConfig *config)
{
  g_clear_pointer (&global_config, helper_config_free);
  global_config = config;
}

const HelperConfig *
helper_config_get (void)
{
  return global_config;
}

/* "a.b.c.d/N" with a host address (not the network or broadcast one). */
static gboolean
parse_cidr (const char  *text,
            guint32     *out_ip,
            guint       *out_prefix,
            GError     **error)
{
  g_auto(GStrv) parts = g_strsplit (text, "/", -1);
  struct in_addr addr;
  guint64 prefix;
  guint32 ip, mask;

  if (g_strv_length (parts) != 2 || inet_pton (AF_INET, parts[0], &addr) != 1 ||
      !g_ascii_string_to_unsigned (parts[1], 10, 8, 30, &prefix, NULL))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not an IPv4 address with a prefix length of 8-30, like 172.30.0.1/24"),
                   text);
      return FALSE;
    }
  ip = ntohl (addr.s_addr);
  mask = 0xffffffffu << (32 - prefix);
  if ((ip & ~mask) == 0 || (ip & ~mask) == ~mask)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("“%s” is the network or broadcast address of its subnet; use a host address"),
                   text);
      return FALSE;
    }
  *out_ip = ip;
  *out_prefix = (guint) prefix;
  return TRUE;
}

static gboolean
is_cgroup2 (const char *path)
{
  struct statfs st;

  return statfs (path, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

/* cgroup2 is at /sys/fs/cgroup on unified hosts and at
 * /sys/fs/cgroup/unified on hybrid ones. */
static char *
detect_cgroup_root (void)
{
  if (is_cgroup2 ("/sys/fs/cgroup"))
    return g_strdup ("/sys/fs/cgroup");
  if (is_cgroup2 ("/sys/fs/cgroup/unified"))
    return g_strdup ("/sys/fs/cgroup/unified");
  return NULL;
}

static gboolean
read_absolute_path (GKeyFile    *keyfile,
                    const char  *path,
                    const char  *key,
                    char       **out,
                    GError     **error)
{
  g_autofree char *value = g_key_file_get_string (keyfile, "launch", key, NULL);

  if (value == NULL)
    return TRUE;
  g_strstrip (value);
  if (!g_path_is_absolute (value) || strstr (value, "/../") != NULL ||
      g_str_has_suffix (value, "/.."))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("%s: [launch] %s must be an absolute path without “..”, not “%s”"),
                   path, key, value);
      return FALSE;
    }
  g_free (*out);
  *out = g_steal_pointer (&value);
  return TRUE;
}

HelperConfig *
helper_config_load (const char  *path,
                    GError     **error)
{
  g_autoptr(HelperConfig) config = g_new0 (HelperConfig, 1);
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) local = NULL;
  g_autofree char *address = NULL;
  g_autofree char *bridge = NULL;

  config->bridge = g_strdup (DEFAULT_BRIDGE);
  config->jail_base = g_strdup (DEFAULT_JAIL_BASE);
  config->cgroup_root = detect_cgroup_root ();
  address = g_strdup (DEFAULT_ADDRESS);

  if (!g_key_file_load_from_file (keyfile, path, G_KEY_FILE_NONE, &local))
    {
      if (!g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       _("Cannot read %s: %s"), path, local->message);
          return NULL;
        }
      g_clear_error (&local);
    }
  else
    {
      bridge = g_key_file_get_string (keyfile, "network", "bridge", NULL);
      if (bridge != NULL)
        {
          g_free (config->bridge);
          config->bridge = g_strstrip (g_steal_pointer (&bridge));
        }
      if (g_key_file_has_key (keyfile, "network", "address", NULL))
        {
          g_free (address);
          address = g_strstrip (g_key_file_get_string (keyfile, "network", "address", NULL));
        }
      if (!read_absolute_path (keyfile, path, "jailer", &config->jailer, error) ||
          !read_absolute_path (keyfile, path, "firecracker", &config->firecracker, error) ||
          !read_absolute_path (keyfile, path, "jail-base", &config->jail_base, error) ||
          !read_absolute_path (keyfile, path, "cgroup-root", &config->cgroup_root, error))
        return NULL;
    }

  if (!net_validate_ifname (config->bridge, NULL, &local))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("%s: [network] bridge: %s"), path, local->message);
      return NULL;
    }
  if (!parse_cidr (address, &config->bridge_ip, &config->prefix_len, &local))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("%s: [network] address: %s"), path, local->message);
      return NULL;
    }
  if ((config->jailer == NULL) != (config->firecracker == NULL))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("%s: [launch] needs both jailer and firecracker, or neither"), path);
      return NULL;
    }
  return g_steal_pointer (&config);
}
