/* test-client-output.c: the CLI's option checks and output formats, which
 * docs/cli.md promises to keep stable. */
#include "config.h"

#include <json-glib/json-glib.h>

#include "banger-error.h"
#include "output.h"
#include "values.h"

static void
test_vcpus_accepts_positive_integers (void)
{
  const char *bad[] = { "", "0", "-1", "abc", "2.5", " 2", "4294967296", NULL };
  guint vcpus = 0;

  g_assert_true (banger_parse_vcpus ("1", &vcpus, NULL));
  g_assert_cmpuint (vcpus, ==, 1);
  g_assert_true (banger_parse_vcpus ("32", &vcpus, NULL));
  g_assert_cmpuint (vcpus, ==, 32);

  for (guint i = 0; bad[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;

      vcpus = 7;
      g_assert_false (banger_parse_vcpus (bad[i], &vcpus, &error));
      g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "--vcpus"));
      g_assert_cmpuint (vcpus, ==, 7);
    }
}

static void
test_memory_must_be_whole_mib (void)
{
  g_autoptr(GError) error = NULL;
  guint64 mib = 0;

  g_assert_true (banger_parse_memory_mib ("512M", &mib, NULL));
  g_assert_cmpuint (mib, ==, 512);
  g_assert_true (banger_parse_memory_mib ("2G", &mib, NULL));
  g_assert_cmpuint (mib, ==, 2048);
  g_assert_true (banger_parse_memory_mib ("1024K", &mib, NULL));
  g_assert_cmpuint (mib, ==, 1);

  g_assert_false (banger_parse_memory_mib ("1000K", &mib, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
  /* Says what it understood, so "512" (bytes) is no mystery. */
  g_assert_nonnull (strstr (error->message, "1000 KiB"));
  g_clear_error (&error);

  g_assert_false (banger_parse_memory_mib ("512", &mib, &error));
  g_assert_nonnull (strstr (error->message, "512 B"));
  g_clear_error (&error);

  g_assert_false (banger_parse_memory_mib ("0", &mib, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_false (banger_parse_memory_mib ("1.5G", &mib, &error));
  g_assert_nonnull (strstr (error->message, "--memory"));
}

static void
test_disk_sizes (void)
{
  g_autoptr(GError) error = NULL;
  guint64 bytes = 0;

  g_assert_true (banger_parse_disk_bytes ("8G", &bytes, NULL));
  g_assert_cmpuint (bytes, ==, G_GUINT64_CONSTANT (8) << 30);
  g_assert_false (banger_parse_disk_bytes ("0", &bytes, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (banger_parse_disk_bytes ("8X", &bytes, &error));
  g_assert_nonnull (strstr (error->message, "--disk"));
}

static void
test_time_iso_is_utc_seconds (void)
{
  g_autofree char *t = banger_format_time_iso (G_GUINT64_CONSTANT (1795424676) * G_USEC_PER_SEC + 999999);
  g_autofree char *epoch = banger_format_time_iso (0);

  g_assert_cmpstr (t, ==, "2026-11-23T09:04:36Z");
  g_assert_cmpstr (epoch, ==, "1970-01-01T00:00:00Z");
}

static BangerVmInfo *
make_vm (const char *name,
         guint       vcpus)
{
  BangerVmInfo *vm = g_new0 (BangerVmInfo, 1);

  vm->name = g_strdup (name);
  vm->state = g_strdup ("stopped");
  vm->vcpus = vcpus;
  vm->memory_mib = 1024;
  vm->disk_bytes = G_GUINT64_CONSTANT (8) << 30;
  vm->created_at_usec = G_GUINT64_CONSTANT (1795424676) * G_USEC_PER_SEC;
  vm->vcpus_source = g_strdup ("auto");
  vm->memory_source = g_strdup ("config");
  vm->disk_source = g_strdup ("builtin");
  return vm;
}

static void
test_table_aligns_without_trailing_blanks (void)
{
  g_autoptr(BangerTable) table = banger_table_new (3, "NAME", "STATE", "X");
  g_autofree char *text = NULL;

  banger_table_add_row (table, "a-long-name", "running", "1");
  banger_table_add_row (table, "b", "stopped", "22");
  text = banger_table_render (table);
  g_assert_cmpstr (text, ==,
                   "NAME         STATE    X\n"
                   "a-long-name  running  1\n"
                   "b            stopped  22\n");
}

static void
test_show_lists_sources (void)
{
  g_autoptr(BangerVmInfo) vm = make_vm ("web", 2);
  g_autofree char *text = banger_vm_info_render_show (vm);

  g_assert_true (g_str_has_prefix (text,
                                   "name:     web\n"
                                   "state:    stopped\n"
                                   "vcpus:    2 (auto: from host resources)\n"
                                   "memory:   1 GiB (config)\n"
                                   "disk:     8 GiB (builtin)\n"
                                   "created:  2026-11-23 09:04:36 UTC\n"));
}

static void
test_list_empty_and_full (void)
{
  g_autoptr(GPtrArray) vms = g_ptr_array_new_with_free_func ((GDestroyNotify) banger_vm_info_free);
  g_autofree char *empty = banger_vm_info_render_list (vms);
  g_autofree char *full = NULL;

  g_assert_cmpstr (empty, ==, "No VMs. Create one with 'banger vm create NAME'.\n");

  g_ptr_array_add (vms, make_vm ("web", 2));
  g_ptr_array_add (vms, make_vm ("db", 16));
  g_ptr_array_sort (vms, banger_vm_info_compare);
  full = banger_vm_info_render_list (vms);
  g_assert_cmpstr (full, ==,
                   "NAME  STATE    VCPUS  MEMORY  DISK   CREATED\n"
                   "db    stopped  16     1 GiB   8 GiB  2026-11-23 09:04\n"
                   "web   stopped  2      1 GiB   8 GiB  2026-11-23 09:04\n");
}

/* The schema of docs/cli.md, member by member. */
static void
test_vm_json_schema (void)
{
  g_autoptr(BangerVmInfo) vm = make_vm ("web", 2);
  g_autoptr(JsonNode) node = banger_vm_info_to_json (vm);
  g_autofree char *text = banger_json_to_string (node);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *o, *sources;

  g_assert_true (g_str_has_suffix (text, "}\n"));
  g_assert_true (json_parser_load_from_data (parser, text, -1, NULL));
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpuint (json_object_get_size (o), ==, 7);
  g_assert_cmpstr (json_object_get_string_member (o, "name"), ==, "web");
  g_assert_cmpstr (json_object_get_string_member (o, "state"), ==, "stopped");
  g_assert_cmpint (json_object_get_int_member (o, "vcpus"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (o, "memory_mib"), ==, 1024);
  g_assert_cmpint (json_object_get_int_member (o, "disk_bytes"), ==, G_GINT64_CONSTANT (8) << 30);
  g_assert_cmpstr (json_object_get_string_member (o, "created_at"), ==, "2026-11-23T09:04:36Z");
  sources = json_object_get_object_member (o, "settings_source");
  g_assert_cmpstr (json_object_get_string_member (sources, "vcpus"), ==, "auto");
  g_assert_cmpstr (json_object_get_string_member (sources, "memory_mib"), ==, "config");
  g_assert_cmpstr (json_object_get_string_member (sources, "disk_bytes"), ==, "builtin");
}

static void
test_list_json_is_array (void)
{
  g_autoptr(GPtrArray) vms = g_ptr_array_new_with_free_func ((GDestroyNotify) banger_vm_info_free);
  g_autoptr(JsonNode) empty = banger_vm_list_to_json (vms);
  g_autofree char *empty_text = banger_json_to_string (empty);
  g_autoptr(JsonNode) full = NULL;

  g_assert_cmpstr (empty_text, ==, "[]\n");

  g_ptr_array_add (vms, make_vm ("a", 1));
  g_ptr_array_add (vms, make_vm ("b", 1));
  full = banger_vm_list_to_json (vms);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (full)), ==, 2);
}

int
main (int argc, char **argv)
{
  /* Local times in the human formats: pin the zone. */
  g_setenv ("TZ", "UTC", TRUE);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/client/values/vcpus-positive-integer", test_vcpus_accepts_positive_integers);
  g_test_add_func ("/client/values/memory-whole-mib", test_memory_must_be_whole_mib);
  g_test_add_func ("/client/values/disk-size", test_disk_sizes);
  g_test_add_func ("/client/output/time-iso-utc-seconds", test_time_iso_is_utc_seconds);
  g_test_add_func ("/client/output/table-aligned-no-trailing-blanks", test_table_aligns_without_trailing_blanks);
  g_test_add_func ("/client/output/show-lists-sources", test_show_lists_sources);
  g_test_add_func ("/client/output/list-empty-and-sorted", test_list_empty_and_full);
  g_test_add_func ("/client/output/vm-json-schema", test_vm_json_schema);
  g_test_add_func ("/client/output/list-json-array", test_list_json_is_array);
  return g_test_run ();
}
