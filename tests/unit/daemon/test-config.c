/* test-config.c: VM defaults come from the config file, else from the
 * host's resources, else builtin, and each value says which. */
#include "config.h"

#include <glib/gstdio.h>

#include "banger-error.h"
#include "user-config.h"

static const HostResources small_host = { 1, G_GUINT64_CONSTANT (512) << 20 };
static const HostResources big_host = { 16, G_GUINT64_CONSTANT (64) << 30 };

static char *
write_config (const char *contents)
{
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp ("banger-config-XXXXXX", &path, &error);

  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (path, contents, -1, &error));
  return path;
}

static void
test_missing_file_gives_auto_and_builtin (void)
{
  g_autoptr(GError) error = NULL;
  VmSettings s;

  g_assert_true (config_load_vm_defaults ("/nonexistent/banger/config", &big_host, &s, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (s.vcpus.value, ==, 2);
  g_assert_cmpint (s.vcpus.source, ==, SETTING_SOURCE_AUTO);
  g_assert_cmpuint (s.memory_mib.value, ==, 1024);
  g_assert_cmpint (s.memory_mib.source, ==, SETTING_SOURCE_AUTO);
  g_assert_cmpuint (s.disk_bytes.value, ==, G_GUINT64_CONSTANT (8) << 30);
  g_assert_cmpint (s.disk_bytes.source, ==, SETTING_SOURCE_BUILTIN);
}

static void
test_auto_follows_small_host (void)
{
  g_autoptr(GError) error = NULL;
  VmSettings s;

  g_assert_true (config_load_vm_defaults ("/nonexistent/banger/config", &small_host, &s, &error));
  g_assert_cmpuint (s.vcpus.value, ==, 1);
  g_assert_cmpuint (s.memory_mib.value, ==, 128);   /* a quarter of 512 MiB */
  g_assert_cmpint (s.memory_mib.source, ==, SETTING_SOURCE_AUTO);
}

static void
test_config_values_win (void)
{
  g_autofree char *path = write_config ("[vm-defaults]\nvcpus = 4\nmemory = 2G\ndisk=20G\n");
  g_autoptr(GError) error = NULL;
  VmSettings s;

  g_assert_true (config_load_vm_defaults (path, &small_host, &s, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (s.vcpus.value, ==, 4);
  g_assert_cmpint (s.vcpus.source, ==, SETTING_SOURCE_CONFIG);
  g_assert_cmpuint (s.memory_mib.value, ==, 2048);
  g_assert_cmpint (s.memory_mib.source, ==, SETTING_SOURCE_CONFIG);
  g_assert_cmpuint (s.disk_bytes.value, ==, G_GUINT64_CONSTANT (20) << 30);
  g_assert_cmpint (s.disk_bytes.source, ==, SETTING_SOURCE_CONFIG);
  g_unlink (path);
}

static void
test_partial_config_mixes_sources (void)
{
  g_autofree char *path = write_config ("# mine\n[vm-defaults]\nmemory=512M\n[other]\nx=y\n");
  g_autoptr(GError) error = NULL;
  VmSettings s;

  g_assert_true (config_load_vm_defaults (path, &big_host, &s, &error));
  g_assert_cmpint (s.vcpus.source, ==, SETTING_SOURCE_AUTO);
  g_assert_cmpuint (s.memory_mib.value, ==, 512);
  g_assert_cmpint (s.memory_mib.source, ==, SETTING_SOURCE_CONFIG);
  g_assert_cmpint (s.disk_bytes.source, ==, SETTING_SOURCE_BUILTIN);
  g_unlink (path);
}

static void
assert_config_rejected (const char *contents,
                        const char *message_part)
{
  g_autofree char *path = write_config (contents);
  g_autoptr(GError) error = NULL;
  VmSettings s = { { 7, SETTING_SOURCE_UNKNOWN } };

  g_assert_false (config_load_vm_defaults (path, &big_host, &s, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, path));
  if (strstr (error->message, message_part) == NULL)
    g_error ("message lacks “%s”: %s", message_part, error->message);
  g_assert_cmpuint (s.vcpus.value, ==, 7);   /* untouched on error */
  g_unlink (path);
}

static void
test_bad_values_name_file_and_key (void)
{
  assert_config_rejected ("[vm-defaults]\nmemory=lots\n", "[vm-defaults] memory");
  assert_config_rejected ("[vm-defaults]\nmemory=1500K\n", "whole number of MiB");
  assert_config_rejected ("[vm-defaults]\nmemory=32M\n", "out of range");
  assert_config_rejected ("[vm-defaults]\nvcpus=0\n", "[vm-defaults] vcpus");
  assert_config_rejected ("[vm-defaults]\nvcpus=two\n", "[vm-defaults] vcpus");
  assert_config_rejected ("[vm-defaults]\nvcpus=-1\n", "[vm-defaults] vcpus");
  assert_config_rejected ("[vm-defaults]\ndisk=1M\n", "[vm-defaults] disk");
  assert_config_rejected ("this is not a key file\n", "Cannot read config file");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/config/missing-file-gives-auto-and-builtin", test_missing_file_gives_auto_and_builtin);
  g_test_add_func ("/config/auto-follows-small-host", test_auto_follows_small_host);
  g_test_add_func ("/config/config-values-win", test_config_values_win);
  g_test_add_func ("/config/partial-config-mixes-sources", test_partial_config_mixes_sources);
  g_test_add_func ("/config/bad-values-name-file-and-key", test_bad_values_name_file_and_key);
  return g_test_run ();
}
