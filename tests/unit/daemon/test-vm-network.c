/* test-vm-network.c: subnets, address allocation and the names derived
 * from an address (MAC, tap) that must be unique and within limits. */
#include "config.h"

#include "banger-error.h"
#include "vm-network.h"

static void
test_subnet_parse (void)
{
  const char *bad[] = { "172.30.0.0", "172.30.0.0/", "172.30.0.0/8", "172.30.0.0/30",
                        "172.30.0.1/24", "172.30.0/24", "172.030.0.0/24", "256.0.0.0/24",
                        "172.30.0.0/24x", " 172.30.0.0/24", "a.b.c.d/24", "" };
  Subnet subnet;

  g_assert_true (subnet_parse ("172.30.0.0/24", &subnet, NULL));
  g_assert_cmpuint (subnet.network, ==, 0xac1e0000);
  g_assert_cmpuint (subnet.prefix, ==, 24);
  g_assert_cmpuint (subnet_gateway (&subnet), ==, 0xac1e0001);
  g_assert_true (subnet_contains (&subnet, 0xac1e00fe));
  g_assert_false (subnet_contains (&subnet, 0xac1e0100));

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;

      g_test_message ("%s", bad[i]);
      g_assert_false (subnet_parse (bad[i], &subnet, &error));
      g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
    }
}

static void
test_allocate_skips_taken_gateway_and_broadcast (void)
{
  g_autoptr(GHashTable) taken = g_hash_table_new (NULL, NULL);
  g_autoptr(GError) error = NULL;
  Subnet subnet;
  guint32 address;
  guint n = 0;

  g_assert_true (subnet_parse ("10.9.0.0/29", &subnet, NULL));
  /* .0 network, .1 gateway, .7 broadcast: .2 to .6 are for VMs. */
  while (subnet_allocate (&subnet, taken, &address, &error))
    {
      g_assert_cmpuint (address, ==, 0x0a090002 + n);
      g_hash_table_add (taken, GUINT_TO_POINTER (address));
      n++;
    }
  g_assert_cmpuint (n, ==, 5);
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_BUSY);

  /* A freed address is handed out again, lowest first. */
  g_hash_table_remove (taken, GUINT_TO_POINTER (0x0a090004));
  g_assert_true (subnet_allocate (&subnet, taken, &address, NULL));
  g_assert_cmpuint (address, ==, 0x0a090004);
}

static void
test_mac_and_tap_names (void)
{
  Subnet subnet;
  g_autofree char *mac = vm_network_mac_for (0xac1e0002);
  g_autofree char *tap = NULL;
  g_autofree char *widest = NULL;
  g_autofree char *address = ipv4_to_string (0xac1e0002);

  g_assert_cmpstr (mac, ==, "06:00:ac:1e:00:02");
  g_assert_cmpstr (address, ==, "172.30.0.2");
  g_assert_true (subnet_parse ("172.30.0.0/24", &subnet, NULL));
  tap = vm_network_tap_for (1000, &subnet, 0xac1e0002);
  g_assert_cmpstr (tap, ==, "bg-rs-2");

  /* The largest uid and host number still fit an interface name. */
  g_assert_true (subnet_parse ("10.0.0.0/16", &subnet, NULL));
  widest = vm_network_tap_for (G_MAXUINT32, &subnet, 0x0a00fffe);
  g_assert_cmpuint (strlen (widest), <=, 15);
  g_assert_true (g_str_has_prefix (widest, "bg-"));
}

static void
test_tap_names_unique (void)
{
  g_autoptr(GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  Subnet subnet;

  /* Distinct per (uid, address), also where the two numbers' digits could
   * run into each other. */
  g_assert_true (subnet_parse ("10.0.0.0/20", &subnet, NULL));
  for (guint32 uid = 0; uid < 1300; uid += 7)
    for (guint32 host = 2; host < 4094; host += 13)
      {
        char *tap = vm_network_tap_for (uid, &subnet, subnet.network + host);

        g_assert_false (g_hash_table_contains (names, tap));
        g_hash_table_add (names, tap);
      }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/network/subnet/parse", test_subnet_parse);
  g_test_add_func ("/network/allocate/skips-taken-gateway-and-broadcast",
                   test_allocate_skips_taken_gateway_and_broadcast);
  g_test_add_func ("/network/names/mac-and-tap", test_mac_and_tap_names);
  g_test_add_func ("/network/names/tap-unique", test_tap_names_unique);
  return g_test_run ();
}
