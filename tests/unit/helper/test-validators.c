/* test-validators.c: the helper's network validators and config parser fed
 * hostile input. Every case must be refused with InvalidArgument, and the
 * allowlist must still accept what banger itself produces. */
#include "config.h"

#include <glib/gstdio.h>

#include "banger-error.h"
#include "helper-config.h"
#include "net-names.h"

#define BRIDGE_IP 0xac1e0001u   /* 172.30.0.1 */

static void
test_ifname_accepts_banger_names (void)
{
  const char *tap_ok[] = { "bg-web", "bg-a", "bg-0123456789ab" /* 15 */, "bg-db-1", "bg--" };
  const char *bridge_ok[] = { "banger0", "b", "br-0", "abcdefghijklmno" };

  for (guint i = 0; i < G_N_ELEMENTS (tap_ok); i++)
    {
      g_autoptr(GError) error = NULL;
      g_assert_true (net_validate_ifname (tap_ok[i], NET_TAP_PREFIX, &error));
      g_assert_no_error (error);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bridge_ok); i++)
    g_assert_true (net_validate_ifname (bridge_ok[i], NULL, NULL));
}

static void
test_ifname_refuses_hostile_names (void)
{
  const char *hostile[] = {
    NULL, "", "bg-", "bg", "bg-0123456789abc" /* 16 */, "bg-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "eth0", "lo", "banger0", "docker0", "xbg-a", "BG-A", "bg-A",
    "bg-a/b", "bg-../x", "bg-a:1", "bg-a b", "bg-a\tb", "bg-a\nb", "bg-é", "bg-a.b",
    "bg-a;rm", "bg-$(id)", "bg-a\\b", "bg-*", "bg-%d", ".", "..", "bg-\x01",
  };

  for (guint i = 0; i < G_N_ELEMENTS (hostile); i++)
    {
      g_autoptr(GError) error = NULL;

      if (net_validate_ifname (hostile[i], NET_TAP_PREFIX, &error))
        g_error ("accepted hostile tap name “%s”", hostile[i]);
      g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
    }
}

static void
test_ifname_with_embedded_nul_stops_at_nul (void)
{
  /* A C string ends at NUL: "bg-a\0/evil" is "bg-a", never more. D-Bus
   * strings cannot carry NUL at all; this pins that nothing reads past. */
  const char with_nul[] = "bg-a\0/../../etc";
  g_assert_true (net_validate_ifname (with_nul, NET_TAP_PREFIX, NULL));
  g_assert_cmpuint (strlen (with_nul), ==, 4);
}

static void
test_vm_address_accepts_hosts_of_the_subnet (void)
{
  const char *ok[] = { "172.30.0.2", "172.30.0.254", "172.30.0.100" };

  for (guint i = 0; i < G_N_ELEMENTS (ok); i++)
    {
      g_autoptr(GError) error = NULL;
      guint32 ip = 0;

      g_assert_true (net_validate_vm_address (ok[i], BRIDGE_IP, 24, &ip, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (ip >> 8, ==, BRIDGE_IP >> 8);
    }
}

static void
test_vm_address_refuses_hostile_addresses (void)
{
  const char *hostile[] = {
    NULL, "", "172.30.0.1" /* bridge */, "172.30.0.0" /* network */,
    "172.30.0.255" /* broadcast */, "172.30.1.2", "10.0.0.2", "0.0.0.0",
    "255.255.255.255", "127.0.0.1", "172.30.0.02", "0172.30.0.2", "172.030.0.2",
    "172.30.0.2 ", " 172.30.0.2", "172.30.0.2/32", "172.30.0", "172.30.0.2.1",
    "0xac.30.0.2", "2886598658", "::1", "::ffff:172.30.0.2", "172.30.0.-2",
    "172.30.0.256", "172.30.0.2\n", "172.30.0.2;", "any", "0/0",
  };

  for (guint i = 0; i < G_N_ELEMENTS (hostile); i++)
    {
      g_autoptr(GError) error = NULL;
      guint32 ip = 42;

      if (net_validate_vm_address (hostile[i], BRIDGE_IP, 24, &ip, &error))
        g_error ("accepted hostile address “%s”", hostile[i]);
      g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
      g_assert_cmpuint (ip, ==, 42);
    }
}

static char *
write_config (const char *contents)
{
  char *path = NULL;
  int fd = g_file_open_tmp ("banger-helper-conf-XXXXXX", &path, NULL);

  g_assert_cmpint (fd, >=, 0);
  close (fd);
  g_assert_true (g_file_set_contents (path, contents, -1, NULL));
  return path;
}

static void
test_config_defaults_without_a_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HelperConfig) config = helper_config_load ("/nonexistent/helper.conf", &error);

  g_assert_no_error (error);
  g_assert_cmpstr (config->bridge, ==, "banger0");
  g_assert_cmphex (config->bridge_ip, ==, BRIDGE_IP);
  g_assert_cmpuint (config->prefix_len, ==, 24);
  g_assert_null (config->jailer);
  g_assert_null (config->firecracker);
  g_assert_true (g_path_is_absolute (config->jail_base));
}

static void
test_config_values_read (void)
{
  g_autofree char *path = write_config ("[network]\nbridge = bgbr\naddress = 10.99.0.1/16\n"
                                        "[launch]\njailer=/usr/bin/jailer\nfirecracker=/usr/bin/firecracker\n"
                                        "jail-base=/srv/banger\ncgroup-root=/sys/fs/cgroup\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(HelperConfig) config = helper_config_load (path, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (config->bridge, ==, "bgbr");
  g_assert_cmphex (config->bridge_ip, ==, 0x0a630001u);
  g_assert_cmpuint (config->prefix_len, ==, 16);
  g_assert_cmpstr (config->jailer, ==, "/usr/bin/jailer");
  g_assert_cmpstr (config->firecracker, ==, "/usr/bin/firecracker");
  g_assert_cmpstr (config->jail_base, ==, "/srv/banger");
  g_assert_cmpstr (config->cgroup_root, ==, "/sys/fs/cgroup");
  g_unlink (path);
}

static void
test_config_refuses_bad_values (void)
{
  const struct { const char *contents; const char *part; } bad[] = {
    { "[network]\nbridge = eth0/x\n", "[network] bridge" },
    { "[network]\nbridge = aaaaaaaaaaaaaaaa\n", "[network] bridge" },
    { "[network]\naddress = 172.30.0.0/24\n", "network or broadcast" },
    { "[network]\naddress = 172.30.0.255/24\n", "network or broadcast" },
    { "[network]\naddress = 172.30.0.1/31\n", "[network] address" },
    { "[network]\naddress = 172.30.0.1/4\n", "[network] address" },
    { "[network]\naddress = 172.30.0.1\n", "[network] address" },
    { "[network]\naddress = fe80::1/64\n", "[network] address" },
    { "[launch]\njailer = jailer\nfirecracker = /usr/bin/firecracker\n", "absolute path" },
    { "[launch]\njailer = /usr/bin/../../tmp/jailer\nfirecracker = /f\n", "absolute path" },
    { "[launch]\njailer = /usr/bin/jailer\n", "both jailer and firecracker" },
    { "[launch]\njail-base = /srv/..\n", "absolute path" },
    { "not a key file", "Cannot read" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *path = write_config (bad[i].contents);
      g_autoptr(GError) error = NULL;
      g_autoptr(HelperConfig) config = helper_config_load (path, &error);

      if (config != NULL)
        g_error ("accepted config: %s", bad[i].contents);
      g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, path));
      if (strstr (error->message, bad[i].part) == NULL)
        g_error ("message lacks “%s”: %s", bad[i].part, error->message);
      g_unlink (path);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/helper/validators/ifname-accepts-banger-names", test_ifname_accepts_banger_names);
  g_test_add_func ("/helper/validators/ifname-refuses-hostile-names", test_ifname_refuses_hostile_names);
  g_test_add_func ("/helper/validators/ifname-embedded-nul-reads-nothing-past", test_ifname_with_embedded_nul_stops_at_nul);
  g_test_add_func ("/helper/validators/vm-address-accepts-subnet-hosts", test_vm_address_accepts_hosts_of_the_subnet);
  g_test_add_func ("/helper/validators/vm-address-refuses-hostile-addresses", test_vm_address_refuses_hostile_addresses);
  g_test_add_func ("/helper/config/defaults-without-a-file", test_config_defaults_without_a_file);
  g_test_add_func ("/helper/config/values-read", test_config_values_read);
  g_test_add_func ("/helper/config/bad-values-refused-naming-file-and-key", test_config_refuses_bad_values);
  return g_test_run ();
}
