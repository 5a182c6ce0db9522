/* test-vm-conf.c: banger-init's strict vm.conf and authorized_keys reader
 * (init/vm-conf.c, compiled here against GLib's test framework) accepts
 * what bangerd writes and refuses everything docs/boot-config.md rules
 * out, and agrees with bangerd's own validator on every case. */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "boot-config.h"
#include "init.h"

#define GOOD \
  "version=1\nhostname=web\nipv4=172.30.0.2/24\ngateway=172.30.0.1\n" \
  "mac=02:bd:00:1e:00:02\nresolver=172.30.0.1\nresolver=9.9.9.9\nagent_vsock_port=52\n"

static gboolean
parse (const char *text, VmConf *conf, char *err, size_t err_size)
{
  return vm_conf_parse (text, strlen (text), conf, err, err_size);
}

static void
test_good (void)
{
  VmConf conf;
  char err[256] = "";

  g_assert_true (parse (GOOD, &conf, err, sizeof err));
  g_assert_cmpstr (conf.hostname, ==, "web");
  g_assert_cmpstr (conf.ipv4, ==, "172.30.0.2");
  g_assert_cmpuint (conf.prefix, ==, 24);
  g_assert_cmpstr (conf.gateway, ==, "172.30.0.1");
  g_assert_cmpstr (conf.mac, ==, "02:bd:00:1e:00:02");
  g_assert_cmpuint (conf.n_resolvers, ==, 2);
  g_assert_cmpstr (conf.resolvers[1], ==, "9.9.9.9");
  g_assert_cmpuint (conf.agent_vsock_port, ==, 52);
}

/* What bangerd serializes, banger-init reads back unchanged. */
static void
test_round_trip (void)
{
  g_autoptr(BootConfig) config = boot_config_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  VmConf conf;
  char err[256] = "";
  gsize len = 0;

  config->hostname = g_strdup ("db-2");
  config->ipv4_address = g_strdup ("10.200.3.254");
  config->ipv4_prefix = 16;
  config->gateway = g_strdup ("10.200.0.1");
  config->mac = g_strdup ("0a:00:00:00:00:ff");
  config->agent_vsock_port = 65535;
  g_assert_true (boot_config_validate (config, &error));
  text = boot_config_serialize (config, &len);
  g_assert_true (vm_conf_parse (text, len, &conf, err, sizeof err));
  g_assert_cmpstr (conf.hostname, ==, "db-2");
  g_assert_cmpstr (conf.ipv4, ==, "10.200.3.254");
  g_assert_cmpuint (conf.prefix, ==, 16);
  g_assert_cmpuint (conf.n_resolvers, ==, 0);
  g_assert_cmpuint (conf.agent_vsock_port, ==, 65535);
}

static void
test_bad (void)
{
  static const struct { const char *from, *to, *message; } cases[] = {
    { "version=1", "version=2", "unsupported version" },
    { "version=1", "version=01", "unsupported version" },
    { "version=1\n", "", "first line must be version=1" },
    { "hostname=web", "hostname=Web", "hostname" },
    { "hostname=web", "hostname=-web", "hostname" },
    { "hostname=web", "hostname=web;reboot", "hostname" },
    { "hostname=web", "hostname=../etc", "hostname" },
    { "hostname=web", "hostname=", "empty value" },
    { "hostname=web\n", "", "\"hostname\" is missing" },
    { "hostname=web", "hostname=web\nhostname=db", "duplicate" },
    { "ipv4=172.30.0.2/24", "ipv4=172.30.0.2", "ADDRESS/PREFIX" },
    { "ipv4=172.30.0.2/24", "ipv4=172.30.0.2/31", "prefix 1-30" },
    { "ipv4=172.30.0.2/24", "ipv4=172.30.0.2/0", "prefix 1-30" },
    { "ipv4=172.30.0.2/24", "ipv4=172.030.0.2/24", "ADDRESS/PREFIX" },
    { "ipv4=172.30.0.2/24", "ipv4=172.30.0.0/24", "network or broadcast" },
    { "ipv4=172.30.0.2/24", "ipv4=172.30.0.255/24", "network or broadcast" },
    { "ipv4=172.30.0.2/24", "ipv4=172.30.0.2/24 ", "ADDRESS/PREFIX" },
    { "gateway=172.30.0.1", "gateway=172.31.0.1", "not another address" },
    { "gateway=172.30.0.1", "gateway=172.30.0.2", "not another address" },
    { "gateway=172.30.0.1", "gateway=224.0.0.1", "unicast" },
    { "mac=02:bd:00:1e:00:02", "mac=03:bd:00:1e:00:02", "unicast" },
    { "mac=02:bd:00:1e:00:02", "mac=02:BD:00:1e:00:02", "lower-case" },
    { "mac=02:bd:00:1e:00:02", "mac=02-bd-00-1e-00-02", "lower-case" },
    { "resolver=9.9.9.9", "resolver=9.9.9", "resolver" },
    { "resolver=9.9.9.9", "resolver=1.1.1.1\nresolver=1.1.1.2\nresolver=1.1.1.3\nresolver=1.1.1.4\n"
                          "resolver=1.1.1.5\nresolver=1.1.1.6\nresolver=1.1.1.7\nresolver=1.1.1.8",
      "more than 8" },
    { "agent_vsock_port=52", "agent_vsock_port=0", "1-65535" },
    { "agent_vsock_port=52", "agent_vsock_port=65536", "1-65535" },
    { "agent_vsock_port=52", "agent_vsock_port=052", "1-65535" },
    { "agent_vsock_port=52", "agent_vsock_port=-1", "1-65535" },
    { "agent_vsock_port=52\n", "agent_vsock_port=52", "newline" },
    { "agent_vsock_port=52", "agent_vsock_port=52\nshell=/bin/sh", "unknown key" },
    { "agent_vsock_port=52", "agent_vsock_port=52\njunk", "not key=value" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GString) text = g_string_new (GOOD);
      VmConf conf;
      char err[256] = "";

      g_assert_cmpuint (g_string_replace (text, cases[i].from, cases[i].to, 1), ==, 1);
      g_test_message ("case %u: %s", i, cases[i].to);
      g_assert_false (vm_conf_parse (text->str, text->len, &conf, err, sizeof err));
      g_assert_nonnull (strstr (err, cases[i].message));
    }
}

static void
test_nul_and_empty (void)
{
  static const char text[] = "version=1\0hostname=web\n";
  VmConf conf;
  char err[256] = "";

  g_assert_false (vm_conf_parse (text, sizeof text - 1, &conf, err, sizeof err));
  g_assert_false (vm_conf_parse ("", 0, &conf, err, sizeof err));
}

static void
test_ssh_key (void)
{
  static const char *const good[] = {
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHq0 alice@laptop\n",
    "ssh-rsa AAAAB3NzaC1yc2E=\n",
    "sk-ssh-ed25519@openssh.com AAAA a comment with spaces\n",
  };
  static const char *const bad[] = {
    "ssh-ed25519 AAAA",                                /* no newline */
    "ssh-ed25519 AAAA\nssh-rsa BBBB\n",                /* two lines */
    "command=\"/bin/sh\" ssh-ed25519 AAAA\n",          /* options */
    "ssh-dss AAAA\n",                                  /* unknown type */
    "ssh-ed25519  AAAA\n",                             /* no key */
    "ssh-ed25519 AA$A\n",                              /* not base64 */
    "ssh-ed25519 AAAA tab\there\n",                    /* control character */
    "\n",
  };
  char err[256];
  g_autofree char *huge = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    g_assert_true (ssh_key_valid (good[i], strlen (good[i]), err, sizeof err));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_false (ssh_key_valid (bad[i], strlen (bad[i]), err, sizeof err));

  huge = g_strdup_printf ("ssh-rsa %0*d\n", SSH_KEY_MAX_BYTES, 0);
  g_assert_false (ssh_key_valid (huge, strlen (huge), err, sizeof err));
}

static void
test_ipv4 (void)
{
  static const char *const bad[] = { "", "1.2.3", "1.2.3.4.5", "01.2.3.4", "256.1.1.1",
                                     "1.2.3.4 ", " 1.2.3.4", "1..3.4", "1.2.3.-4", "1.2.3.4/8" };
  uint32_t value = 0;

  g_assert_true (ipv4_parse ("10.0.2.15", &value));
  g_assert_cmphex (value, ==, 0x0a00020f);
  g_assert_true (ipv4_parse ("0.0.0.0", &value));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_false (ipv4_parse (bad[i], &value));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vm-conf/good", test_good);
  g_test_add_func ("/vm-conf/round-trip", test_round_trip);
  g_test_add_func ("/vm-conf/bad", test_bad);
  g_test_add_func ("/vm-conf/nul-and-empty", test_nul_and_empty);
  g_test_add_func ("/vm-conf/ssh-key", test_ssh_key);
  g_test_add_func ("/vm-conf/ipv4", test_ipv4);
  return g_test_run ();
}
