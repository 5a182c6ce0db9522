/* test-firecracker-config.c: the boot-sequence bodies are exactly the JSON
 * Firecracker 1.14 expects, and `--version` output parses or is refused. */
#include "config.h"

#include <string.h>

#include "banger-error.h"
#include "firecracker-config.h"
#include "firecracker-version.h"

static void
assert_json (JsonNode *node, const char *expected)
{
  g_autofree char *text = NULL;

  g_assert_nonnull (node);
  text = json_to_string (node, FALSE);
  g_assert_cmpstr (text, ==, expected);
  json_node_unref (node);
}

static void
test_bodies_exact_json (void)
{
  assert_json (firecracker_config_logger ("/run/vm/fc.log", TRUE, FALSE),
               "{\"log_path\":\"/run/vm/fc.log\",\"level\":\"Info\","
               "\"show_level\":true,\"show_log_origin\":false}");
  assert_json (firecracker_config_metrics ("/run/vm/metrics.fifo"),
               "{\"metrics_path\":\"/run/vm/metrics.fifo\"}");
  assert_json (firecracker_config_machine (2, 1024),
               "{\"vcpu_count\":2,\"mem_size_mib\":1024,\"smt\":false}");
  assert_json (firecracker_config_boot_source ("/k/vmlinux", "console=ttyS0 reboot=k", NULL),
               "{\"kernel_image_path\":\"/k/vmlinux\","
               "\"boot_args\":\"console=ttyS0 reboot=k\"}");
  assert_json (firecracker_config_boot_source ("/k/vmlinux", NULL, "/k/initrd"),
               "{\"kernel_image_path\":\"/k/vmlinux\",\"initrd_path\":\"/k/initrd\"}");
  assert_json (firecracker_config_drive ("rootfs", "/v/root.ext4", TRUE, FALSE),
               "{\"drive_id\":\"rootfs\",\"path_on_host\":\"/v/root.ext4\","
               "\"is_root_device\":true,\"is_read_only\":false}");
  assert_json (firecracker_config_network_interface ("eth0", "bg-tap0", "06:00:ac:10:00:02"),
               "{\"iface_id\":\"eth0\",\"host_dev_name\":\"bg-tap0\","
               "\"guest_mac\":\"06:00:ac:10:00:02\"}");
  assert_json (firecracker_config_network_interface ("eth0", "bg-tap0", NULL),
               "{\"iface_id\":\"eth0\",\"host_dev_name\":\"bg-tap0\"}");
  assert_json (firecracker_config_vsock (3, "/run/vm/v.sock"),
               "{\"guest_cid\":3,\"uds_path\":\"/run/vm/v.sock\"}");
  assert_json (firecracker_config_action ("InstanceStart"),
               "{\"action_type\":\"InstanceStart\"}");
}

static void
test_bodies_strings_escaped (void)
{
  assert_json (firecracker_config_boot_source ("/k/a\"b", "init=/x\\y", NULL),
               "{\"kernel_image_path\":\"/k/a\\\"b\",\"boot_args\":\"init=/x\\\\y\"}");
}

static void
test_paths (void)
{
  g_autofree char *drive = firecracker_config_drive_path ("rootfs");
  g_autofree char *net = firecracker_config_network_path ("eth0");

  g_assert_cmpstr (drive, ==, "/drives/rootfs");
  g_assert_cmpstr (net, ==, "/network-interfaces/eth0");
}

static void
assert_parses (const char *output, guint major, guint minor, guint patch)
{
  g_autoptr(GError) error = NULL;
  guint a = 0, b = 0, c = 0;

  g_assert_true (firecracker_version_parse (output, &a, &b, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (a, ==, major);
  g_assert_cmpuint (b, ==, minor);
  g_assert_cmpuint (c, ==, patch);
}

static void
assert_refused (const char *output)
{
  g_autoptr(GError) error = NULL;
  guint a = 0, b = 0, c = 0;

  g_assert_false (firecracker_version_parse (output, &a, &b, &c, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_FAILED);
}

static void
test_version_parse_good (void)
{
  assert_parses ("Firecracker v1.14.4\n", 1, 14, 4);
  assert_parses ("Firecracker v1.14.4", 1, 14, 4);
  assert_parses ("Firecracker v1.5.0\n", 1, 5, 0);
  assert_parses ("Firecracker v1.16.1-dev\n", 1, 16, 1);
}

static void
test_version_parse_real_output_with_log_line (void)
{
  assert_parses ("Firecracker v1.14.4\n\n2026-04-07T16:01:52.123456789 "
                 "[anonymous-instance:main] Firecracker exiting successfully. exit_code=0\n",
                 1, 14, 4);
}

static void
test_version_parse_garbage (void)
{
  g_autoptr(GError) error = NULL;
  guint a, b, c;

  assert_refused ("");
  assert_refused ("\n\nFirecracker v1.14.4\n");
  assert_refused ("firecracker 1.14.4\n");
  assert_refused ("Firecracker v1.14\n");
  assert_refused ("cloud-hypervisor v40.0.0\n");
  assert_refused ("Firecracker v99999999999.1.1\n");
  assert_refused (NULL);

  g_assert_false (firecracker_version_parse ("Usage: foo", &a, &b, &c, &error));
  g_assert_nonnull (strstr (error->message, "Usage: foo"));
}

static void
assert_supported (guint major, guint minor, guint patch, gboolean tested)
{
  FirecrackerVersion v = { major, minor, patch };
  g_autoptr(GError) error = NULL;
  gboolean is_tested = !tested;

  g_assert_true (firecracker_version_check_supported ("/usr/bin/firecracker", &v,
                                                      &is_tested, &error));
  g_assert_no_error (error);
  g_assert_cmpint (is_tested, ==, tested);
}

static void
test_version_old_refused (void)
{
  FirecrackerVersion v = { 1, 4, 1 };
  g_autoptr(GError) error = NULL;

  g_assert_false (firecracker_version_check_supported ("/usr/bin/firecracker", &v,
                                                       NULL, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED);
  g_assert_cmpstr (error->message, ==,
                   "Firecracker 1.4.1 at /usr/bin/firecracker is too old; banger needs "
                   "1.5.0 or newer (tested with 1.14)");
  g_clear_error (&error);

  v = (FirecrackerVersion) { 0, 25, 0 };
  g_assert_false (firecracker_version_check_supported ("fc", &v, NULL, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED);
}

static void
test_version_newer_accepted_tested_flag (void)
{
  assert_supported (1, 5, 0, FALSE);
  assert_supported (1, 14, 0, TRUE);
  assert_supported (1, 14, 4, TRUE);
  assert_supported (1, 16, 1, FALSE);
  assert_supported (2, 0, 0, FALSE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/firecracker/config/bodies-are-exact-json", test_bodies_exact_json);
  g_test_add_func ("/firecracker/config/strings-are-escaped", test_bodies_strings_escaped);
  g_test_add_func ("/firecracker/config/device-paths", test_paths);
  g_test_add_func ("/firecracker/version/parses-release-lines", test_version_parse_good);
  g_test_add_func ("/firecracker/version/parses-first-line-before-log-line",
                   test_version_parse_real_output_with_log_line);
  g_test_add_func ("/firecracker/version/refuses-garbage-and-empty", test_version_parse_garbage);
  g_test_add_func ("/firecracker/version/refuses-older-than-1.5", test_version_old_refused);
  g_test_add_func ("/firecracker/version/accepts-newer-flags-tested-1.14",
                   test_version_newer_accepted_tested_flag);
  return g_test_run ();
}
