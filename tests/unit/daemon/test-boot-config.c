/* test-boot-config.c: a VM's boot config is refused when any field could
 * smuggle a line, a shell word or a path into the guest, and serializes exactly. */
#include "config.h"

#include <string.h>

#include "banger-error.h"
#include "boot-config.h"

#define KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHq0Vx3lV9n7b1C1f8oQd2nZs0m0P5w4oT2b0kq7b3Qy alice@laptop"

static BootConfig *
valid_config (void)
{
  BootConfig *c = boot_config_new ();
  const char *resolvers[] = { "172.30.0.1", "9.9.9.9", NULL };

  c->hostname = g_strdup ("web-1");
  c->ipv4_address = g_strdup ("172.30.0.2");
  c->ipv4_prefix = 24;
  c->gateway = g_strdup ("172.30.0.1");
  c->mac = g_strdup ("02:bd:00:1e:00:02");
  c->resolvers = g_strdupv ((char **) resolvers);
  c->ssh_authorized_key = g_strdup (KEY);
  c->agent_vsock_port = 52;
  return c;
}

static void
test_valid_config_serializes_exactly (void)
{
  g_autoptr(BootConfig) c = valid_config ();
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  gsize len = 0;

  g_assert_true (boot_config_validate (c, &error));
  g_assert_no_error (error);
  text = boot_config_serialize (c, &len);
  g_assert_cmpstr (text, ==,
                   "version=1\n"
                   "hostname=web-1\n"
                   "ipv4=172.30.0.2/24\n"
                   "gateway=172.30.0.1\n"
                   "mac=02:bd:00:1e:00:02\n"
                   "resolver=172.30.0.1\n"
                   "resolver=9.9.9.9\n"
                   "agent_vsock_port=52\n");
  g_assert_cmpuint (len, ==, strlen (text));
}

static void
test_no_resolvers_no_key_is_valid (void)
{
  g_autoptr(BootConfig) c = valid_config ();
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  g_clear_pointer (&c->resolvers, g_strfreev);
  g_clear_pointer (&c->ssh_authorized_key, g_free);
  g_assert_true (boot_config_validate (c, &error));
  g_assert_no_error (error);
  text = boot_config_serialize (c, NULL);
  g_assert_null (strstr (text, "resolver="));

  c->resolvers = g_new0 (char *, 1);
  g_assert_true (boot_config_validate (c, &error));
}

typedef enum { F_HOSTNAME, F_ADDRESS, F_GATEWAY, F_MAC, F_RESOLVER, F_KEY } Field;

static const struct {
  Field       field;
  const char *value;
} hostile[] = {
  { F_HOSTNAME, "" },
  { F_HOSTNAME, "web\n" },
  { F_HOSTNAME, "web\nip=1.2.3.4" },
  { F_HOSTNAME, "a;reboot" },
  { F_HOSTNAME, "$(reboot)" },
  { F_HOSTNAME, "../../etc" },
  { F_HOSTNAME, "web=1" },
  { F_HOSTNAME, "Web" },
  { F_HOSTNAME, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },  /* 64 */
  { F_ADDRESS, "" },
  { F_ADDRESS, "172.30.0.2\n" },
  { F_ADDRESS, "172.30.0.2;reboot" },
  { F_ADDRESS, " 172.30.0.2" },
  { F_ADDRESS, "172.30.0.2/24" },
  { F_ADDRESS, "172.030.0.2" },
  { F_ADDRESS, "172.30.2" },
  { F_ADDRESS, "$(reboot)" },
  { F_ADDRESS, "::ffff:172.30.0.2" },
  { F_ADDRESS, "fd00::2" },
  { F_ADDRESS, "0.0.0.0" },
  { F_ADDRESS, "224.0.0.1" },
  { F_ADDRESS, "172.30.0.0" },      /* network address of the /24 */
  { F_ADDRESS, "172.30.0.255" },    /* broadcast */
  { F_GATEWAY, "172.31.0.1" },      /* outside the /24 */
  { F_GATEWAY, "172.30.0.2" },      /* the VM itself */
  { F_GATEWAY, "172.30.0.1\n" },
  { F_MAC, "" },
  { F_MAC, "02:BD:00:1E:00:02" },
  { F_MAC, "02:bd:00:1e:00:02\n" },
  { F_MAC, "02-bd-00-1e-00-02" },
  { F_MAC, "02:bd:00:1e:00" },
  { F_MAC, "02:bd:00:1e:00:02:03" },
  { F_MAC, "03:bd:00:1e:00:02" },   /* multicast */
  { F_RESOLVER, "9.9.9.9\nhostname=evil" },
  { F_RESOLVER, "9.9.9.9;" },
  { F_RESOLVER, "dns.example" },
  { F_RESOLVER, "" },
  { F_KEY, "" },
  { F_KEY, "ssh-ed25519" },
  { F_KEY, "ssh-ed25519 AAAA\n" },
  { F_KEY, "ssh-ed25519 AAAA alice\nssh-rsa AAAA mallory" },
  { F_KEY, "ssh-ed25519 AAAA\ralice" },
  { F_KEY, "ssh-ed25519 AAAA\talice" },
  { F_KEY, "ssh-ed25519 AAAA caf\xc3\xa9" },
  { F_KEY, "ssh-ed25519 AAAA$(reboot)" },
  { F_KEY, "command=\"/bin/sh\" ssh-ed25519 AAAA" },
  { F_KEY, "ssh-dss AAAA" },
  { F_KEY, " ssh-ed25519 AAAA" },
};

static void
set_field (BootConfig *c,
           Field       field,
           const char *value)
{
  char **slot = NULL;

  switch (field)
    {
    case F_HOSTNAME: slot = &c->hostname; break;
    case F_ADDRESS:  slot = &c->ipv4_address; break;
    case F_GATEWAY:  slot = &c->gateway; break;
    case F_MAC:      slot = &c->mac; break;
    case F_RESOLVER: slot = &c->resolvers[1]; break;
    case F_KEY:      slot = &c->ssh_authorized_key; break;
    default:         g_assert_not_reached ();
    }
  g_free (*slot);
  *slot = g_strdup (value);
}

static void
test_hostile_fields_are_refused (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (hostile); i++)
    {
      g_autoptr(BootConfig) c = valid_config ();
      g_autoptr(GError) error = NULL;

      set_field (c, hostile[i].field, hostile[i].value);
      g_test_message ("field %d, value “%s”", hostile[i].field, hostile[i].value);
      g_assert_false (boot_config_validate (c, &error));
      g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
      /* The message never echoes a raw control character back. */
      for (const char *p = error->message; *p != '\0'; p++)
        g_assert_cmpint ((unsigned char) *p, >=, 0x20);
    }
}

static void
test_missing_fields_are_refused (void)
{
  for (guint f = F_HOSTNAME; f <= F_MAC; f++)
    {
      g_autoptr(BootConfig) c = valid_config ();
      g_autoptr(GError) error = NULL;

      set_field (c, f, NULL);
      g_assert_false (boot_config_validate (c, &error));
      g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
    }
}

static void
test_numbers_out_of_range_are_refused (void)
{
  static const guint prefixes[] = { 0, 31, 32, 33 };
  static const guint ports[] = { 0, 65536, G_MAXUINT };

  for (guint i = 0; i < G_N_ELEMENTS (prefixes); i++)
    {
      g_autoptr(BootConfig) c = valid_config ();
      g_autoptr(GError) error = NULL;

      c->ipv4_prefix = prefixes[i];
      g_assert_false (boot_config_validate (c, &error));
      g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
    }
  for (guint i = 0; i < G_N_ELEMENTS (ports); i++)
    {
      g_autoptr(BootConfig) c = valid_config ();
      g_autoptr(GError) error = NULL;

      c->agent_vsock_port = ports[i];
      g_assert_false (boot_config_validate (c, &error));
      g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
    }
}

static void
test_too_many_resolvers_and_long_key_are_refused (void)
{
  g_autoptr(BootConfig) c = valid_config ();
  g_autoptr(BootConfig) k = valid_config ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) key = g_string_new ("ssh-rsa ");

  g_strfreev (c->resolvers);
  c->resolvers = g_new0 (char *, BOOT_CONFIG_RESOLVERS_MAX + 2);
  for (guint i = 0; i <= BOOT_CONFIG_RESOLVERS_MAX; i++)
    c->resolvers[i] = g_strdup_printf ("10.0.0.%u", i + 1);
  g_assert_false (boot_config_validate (c, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  while (key->len <= BOOT_CONFIG_SSH_KEY_MAX)
    g_string_append (key, "AAAA");
  g_free (k->ssh_authorized_key);
  k->ssh_authorized_key = g_strdup (key->str);
  g_assert_false (boot_config_validate (k, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
}

static void
test_key_types_and_comments_are_accepted (void)
{
  static const char *const keys[] = {
    "ssh-rsa AAAAB3NzaC1yc2E=",
    "ecdsa-sha2-nistp256 AAAAE2VjZHNh",
    "sk-ssh-ed25519@openssh.com AAAAGnNr bob@yubikey",
    "ssh-ed25519 AAAA a comment with spaces, $signs and ;semicolons",
  };

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autoptr(BootConfig) c = valid_config ();
      g_autoptr(GError) error = NULL;

      g_free (c->ssh_authorized_key);
      c->ssh_authorized_key = g_strdup (keys[i]);
      g_assert_true (boot_config_validate (c, &error));
      g_assert_no_error (error);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/boot-config/valid-config-serializes-exactly", test_valid_config_serializes_exactly);
  g_test_add_func ("/boot-config/no-resolvers-no-key-is-valid", test_no_resolvers_no_key_is_valid);
  g_test_add_func ("/boot-config/hostile-fields-are-refused", test_hostile_fields_are_refused);
  g_test_add_func ("/boot-config/missing-fields-are-refused", test_missing_fields_are_refused);
  g_test_add_func ("/boot-config/numbers-out-of-range-are-refused", test_numbers_out_of_range_are_refused);
  g_test_add_func ("/boot-config/too-many-resolvers-and-long-key-are-refused",
                   test_too_many_resolvers_and_long_key_are_refused);
  g_test_add_func ("/boot-config/key-types-and-comments-are-accepted", test_key_types_and_comments_are_accepted);
  return g_test_run ();
}
