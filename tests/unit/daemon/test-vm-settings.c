/* test-vm-settings.c: options from D-Bus are typed, ranged and applied
 * all or nothing, with the source recorded as "user". */
#include "config.h"

#include "banger-error.h"
#include "vm-settings.h"

#define ALL (VM_SETTING_VCPUS | VM_SETTING_MEMORY_MIB | VM_SETTING_DISK_BYTES)

static VmSettings
defaults (void)
{
  return (VmSettings) {
    { 2, SETTING_SOURCE_AUTO }, { 1024, SETTING_SOURCE_AUTO },
    { G_GUINT64_CONSTANT (8) << 30, SETTING_SOURCE_BUILTIN } };
}

static void
test_valid_options_applied (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) options = g_variant_ref_sink (
    g_variant_new_parsed ("{'VCPUs': <uint32 4>, 'DiskBytes': <uint64 1073741824>}"));
  VmSettings s = defaults ();
  VmSettingMask changed = 0;

  g_assert_true (vm_settings_apply_options (&s, options, ALL, &changed, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (changed, ==, VM_SETTING_VCPUS | VM_SETTING_DISK_BYTES);
  g_assert_cmpuint (s.vcpus.value, ==, 4);
  g_assert_cmpint (s.vcpus.source, ==, SETTING_SOURCE_USER);
  g_assert_cmpuint (s.memory_mib.value, ==, 1024);
  g_assert_cmpint (s.memory_mib.source, ==, SETTING_SOURCE_AUTO);
  g_assert_cmpuint (s.disk_bytes.value, ==, 1073741824);
}

static void
assert_rejected (const char    *text,
                 VmSettingMask  allowed,
                 const char    *message_part)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) options = g_variant_ref_sink (g_variant_new_parsed (text));
  VmSettings s = defaults ();
  VmSettings before = s;

  g_assert_false (vm_settings_apply_options (&s, options, allowed, NULL, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
  if (strstr (error->message, message_part) == NULL)
    g_error ("message for %s lacks “%s”: %s", text, message_part, error->message);
  g_assert_cmpmem (&s, sizeof s, &before, sizeof before);
}

static void
test_bad_options_change_nothing (void)
{
  /* A valid key first proves nothing is half-applied. */
  assert_rejected ("{'VCPUs': <uint32 4>, 'Colour': <'red'>}", ALL, "“Colour”");
  assert_rejected ("{'VCPUs': <uint32 4>, 'MemoryMiB': <int32 5>}", ALL, "type “t”");
  assert_rejected ("{'VCPUs': <uint32 0>}", ALL, "out of range");
  assert_rejected ("{'VCPUs': <uint32 33>}", ALL, "out of range");
  assert_rejected ("{'MemoryMiB': <uint64 63>}", ALL, "out of range");
  assert_rejected ("{'MemoryMiB': <uint64 18446744073709551615>}", ALL, "out of range");
  assert_rejected ("{'DiskBytes': <uint64 1000000000>}", ALL, "whole number of MiB");
  assert_rejected ("{'DiskBytes': <uint64 1048576>}", ALL, "out of range");
  assert_rejected ("{'DiskBytes': <uint64 1073741824>}", VM_SETTING_VCPUS, "“DiskBytes”");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vm-settings/valid-options-applied-as-user", test_valid_options_applied);
  g_test_add_func ("/vm-settings/bad-options-change-nothing", test_bad_options_change_nothing);
  return g_test_run ();
}
