/* test-client-output.c: the CLI's option checks and output formats, which
 * docs/cli.md promises to keep stable. */
#include "config.h"

#include <math.h>

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
  /* As banger_vm_info_from_proxy() fills them: "" for none. */
  vm->vmm = g_strdup ("firecracker");
  vm->vmm_reason = g_strdup ("firecracker, as requested");
  vm->ipv4 = g_strdup ("172.30.0.2/24");
  vm->mac = g_strdup ("06:00:ac:1e:00:02");
  vm->tap = g_strdup ("");
  vm->image = g_strdup ("/srv/images/debian.ext4");
  vm->kernel = g_strdup ("");
  vm->disk_strategy = g_strdup ("overlay");
  vm->last_error = g_strdup ("");
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

  g_assert_cmpstr (text, ==,
                   "name:           web\n"
                   "state:          stopped\n"
                   "vcpus:          2 (auto: from host resources)\n"
                   "memory:         1 GiB (config)\n"
                   "disk:           8 GiB (builtin)\n"
                   "ipv4:           172.30.0.2/24\n"
                   "mac:            06:00:ac:1e:00:02\n"
                   "nat:            off\n"
                   "vmm:            firecracker (firecracker, as requested)\n"
                   "kernel:         (not set)\n"
                   "image:          /srv/images/debian.ext4\n"
                   "disk strategy:  overlay\n"
                   "created:        2026-11-23 09:04:36 UTC\n");
}

/* A failed VM says why right under its state; a running one its tap and
 * when it started. */
static void
test_show_failed_and_running (void)
{
  g_autoptr(BangerVmInfo) failed = make_vm ("web", 2);
  g_autoptr(BangerVmInfo) running = make_vm ("web", 2);
  g_autofree char *failed_text = NULL;
  g_autofree char *running_text = NULL;

  g_free (failed->state);
  failed->state = g_strdup ("failed");
  g_free (failed->last_error);
  failed->last_error = g_strdup ("launch: firecracker exited with status 1");
  failed_text = banger_vm_info_render_show (failed);
  g_assert_true (g_str_has_prefix (failed_text,
                                   "name:           web\n"
                                   "state:          failed\n"
                                   "error:          launch: firecracker exited with status 1\n"
                                   "vcpus:"));

  g_free (running->state);
  running->state = g_strdup ("running");
  g_free (running->tap);
  running->tap = g_strdup ("bgtap0");
  running->nat = TRUE;
  running->started_at_usec = G_GUINT64_CONSTANT (1795424700) * G_USEC_PER_SEC;
  running_text = banger_vm_info_render_show (running);
  g_assert_null (strstr (running_text, "error:"));
  g_assert_nonnull (strstr (running_text, "\nnat:            on\ntap:            bgtap0\n"));
  g_assert_true (g_str_has_suffix (running_text, "\nstarted:        2026-11-23 09:05:00 UTC\n"));
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
                   "NAME  STATE    IP          VCPUS  MEMORY  DISK   CREATED\n"
                   "db    stopped  172.30.0.2  16     1 GiB   8 GiB  2026-11-23 09:04\n"
                   "web   stopped  172.30.0.2  2      1 GiB   8 GiB  2026-11-23 09:04\n");
}

static void
test_list_without_address (void)
{
  g_autoptr(GPtrArray) vms = g_ptr_array_new_with_free_func ((GDestroyNotify) banger_vm_info_free);
  BangerVmInfo *vm = make_vm ("web", 2);
  g_autofree char *text = NULL;

  g_free (vm->ipv4);
  vm->ipv4 = g_strdup ("");
  g_ptr_array_add (vms, vm);
  text = banger_vm_info_render_list (vms);
  g_assert_cmpstr (text, ==,
                   "NAME  STATE    IP  VCPUS  MEMORY  DISK   CREATED\n"
                   "web   stopped  -   2      1 GiB   8 GiB  2026-11-23 09:04\n");
}

static void
test_ipv4_address_drops_prefix (void)
{
  g_autofree char *a = banger_ipv4_address ("172.30.0.2/24");
  g_autofree char *b = banger_ipv4_address ("10.0.0.1");
  g_autofree char *c = banger_ipv4_address ("");
  g_autofree char *d = banger_ipv4_address (NULL);

  g_assert_cmpstr (a, ==, "172.30.0.2");
  g_assert_cmpstr (b, ==, "10.0.0.1");
  g_assert_cmpstr (c, ==, "");
  g_assert_cmpstr (d, ==, "");
}

static void
test_describe_mentions_nat (void)
{
  g_autoptr(BangerVmInfo) vm = make_vm ("web", 2);
  g_autofree char *plain = banger_vm_info_describe (vm);
  g_autofree char *nat = NULL;

  g_assert_cmpstr (plain, ==, "2 vCPUs, 1 GiB memory, 8 GiB disk");
  vm->nat = TRUE;
  vm->vcpus = 1;
  nat = banger_vm_info_describe (vm);
  g_assert_cmpstr (nat, ==, "1 vCPU, 1 GiB memory, 8 GiB disk, NAT");
}

static void
test_progress_line (void)
{
  g_autofree char *sixty = banger_format_progress ("Starting web", 0.6, "Configuring the VM", 0);
  g_autofree char *zero = banger_format_progress ("Starting web", -1.0, NULL, 0);
  g_autofree char *done = banger_format_progress ("Starting web", 1.5, "", 0);
  g_autofree char *almost = banger_format_progress ("Starting web", 0.999, "Booting", 0);
  g_autofree char *cut = banger_format_progress ("Starting web", 0.6, "Configuring the VM", 20);
  g_autofree char *nan = banger_format_progress ("Starting web", NAN, "x", 0);

  g_assert_cmpstr (sixty, ==, "Starting web: [######....]  60% Configuring the VM");
  g_assert_cmpstr (zero, ==, "Starting web: [..........]   0%");
  g_assert_cmpstr (done, ==, "Starting web: [##########] 100%");
  /* The bar is full only when the job is. */
  g_assert_cmpstr (almost, ==, "Starting web: [#########.] 100% Booting");
  g_assert_cmpstr (cut, ==, "Starting web: [#####");
  g_assert_cmpstr (nan, ==, "Starting web: [..........]   0% x");
}

static void
test_on_off (void)
{
  g_autoptr(GError) error = NULL;
  gboolean value = FALSE;

  g_assert_true (banger_parse_on_off ("--nat", "on", &value, NULL));
  g_assert_true (value);
  g_assert_true (banger_parse_on_off ("--nat", "OFF", &value, NULL));
  g_assert_false (value);
  g_assert_false (banger_parse_on_off ("--nat", "yes please", &value, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "--nat"));
}

static void
test_timeout (void)
{
  g_autoptr(GError) error = NULL;
  guint seconds = 7;

  g_assert_true (banger_parse_timeout ("0", &seconds, NULL));
  g_assert_cmpuint (seconds, ==, 0);
  g_assert_true (banger_parse_timeout ("3600", &seconds, NULL));
  g_assert_cmpuint (seconds, ==, 3600);
  g_assert_false (banger_parse_timeout ("-1", &seconds, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "--timeout"));
  g_clear_error (&error);
  g_assert_false (banger_parse_timeout ("10s", &seconds, &error));
  g_assert_cmpuint (seconds, ==, 3600);
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
  g_assert_cmpuint (json_object_get_size (o), ==, 18);
  g_assert_cmpstr (json_object_get_string_member (o, "name"), ==, "web");
  g_assert_cmpstr (json_object_get_string_member (o, "state"), ==, "stopped");
  g_assert_cmpint (json_object_get_int_member (o, "vcpus"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (o, "memory_mib"), ==, 1024);
  g_assert_cmpint (json_object_get_int_member (o, "disk_bytes"), ==, G_GINT64_CONSTANT (8) << 30);
  g_assert_cmpstr (json_object_get_string_member (o, "created_at"), ==, "2026-11-23T09:04:36Z");
  g_assert_cmpstr (json_object_get_string_member (o, "vmm"), ==, "firecracker");
  g_assert_cmpstr (json_object_get_string_member (o, "vmm_reason"), ==, "firecracker, as requested");
  g_assert_cmpstr (json_object_get_string_member (o, "ipv4"), ==, "172.30.0.2/24");
  g_assert_cmpstr (json_object_get_string_member (o, "mac"), ==, "06:00:ac:1e:00:02");
  g_assert_true (json_object_get_null_member (o, "tap"));
  g_assert_false (json_object_get_boolean_member (o, "nat"));
  g_assert_cmpstr (json_object_get_string_member (o, "image"), ==, "/srv/images/debian.ext4");
  g_assert_true (json_object_get_null_member (o, "kernel"));
  g_assert_cmpstr (json_object_get_string_member (o, "disk_strategy"), ==, "overlay");
  g_assert_true (json_object_get_null_member (o, "started_at"));
  g_assert_true (json_object_get_null_member (o, "last_error"));
  sources = json_object_get_object_member (o, "settings_source");
  g_assert_cmpstr (json_object_get_string_member (sources, "vcpus"), ==, "auto");
  g_assert_cmpstr (json_object_get_string_member (sources, "memory_mib"), ==, "config");
  g_assert_cmpstr (json_object_get_string_member (sources, "disk_bytes"), ==, "builtin");
}

static void
test_vm_json_running_and_failed (void)
{
  g_autoptr(BangerVmInfo) vm = make_vm ("web", 2);
  g_autoptr(JsonNode) node = NULL;
  JsonObject *o;

  g_free (vm->state);
  vm->state = g_strdup ("failed");
  g_free (vm->last_error);
  vm->last_error = g_strdup ("boot: the guest did not come up");
  vm->started_at_usec = G_GUINT64_CONSTANT (1795424700) * G_USEC_PER_SEC + 5;
  vm->nat = TRUE;
  node = banger_vm_info_to_json (vm);
  o = json_node_get_object (node);
  g_assert_cmpstr (json_object_get_string_member (o, "started_at"), ==, "2026-11-23T09:05:00Z");
  g_assert_cmpstr (json_object_get_string_member (o, "last_error"), ==, "boot: the guest did not come up");
  g_assert_true (json_object_get_boolean_member (o, "nat"));
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

static JsonNode *
sample_object (void)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, "web");
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* The child prints; the parent checks that only the asked-for form, and
 * exactly it, reached stdout. */
static void
test_print_text_without_json (void)
{
  if (g_test_subprocess ())
    {
      banger_print_json_or_text (FALSE, sample_object (), g_strdup ("NAME  STATE\nweb   stopped\n"));
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("NAME  STATE\nweb   stopped\n");
}

static void
test_print_json_with_json (void)
{
  g_autoptr(JsonNode) expected_node = sample_object ();
  g_autofree char *expected = banger_json_to_string (expected_node);

  if (g_test_subprocess ())
    {
      banger_print_json_or_text (TRUE, sample_object (), g_strdup ("NAME  STATE\nweb   stopped\n"));
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout (expected);
  g_assert_cmpstr (expected, ==, "{\n  \"name\" : \"web\"\n}\n");
}

static void
test_text_tail (void)
{
  struct {
    const char *text;
    gboolean    cut_start;
    guint       max_lines;
    const char *expected;
  } cases[] = {
    { "a\nb\nc\n", FALSE, 2, "b\nc" },
    { "a\nb\nc", FALSE, 3, "a\nb\nc" },
    { "a\nb\nc\n\n\r\n", FALSE, 10, "a\nb\nc" },   /* fewer than asked */
    { "a\nb\nc", FALSE, 1, "c" },
    { "a\nb\nc", FALSE, 0, "" },
    { "", FALSE, 5, "" },
    { "partial\nwhole\n", TRUE, 5, "whole" },          /* read from mid-file */
    { "no newline at all", TRUE, 5, "" },
    { "x\r\ny\r\n", FALSE, 5, "x\ny" },             /* serial line ends */
    { "t\tab \033]0;title\007 \033[2J.", FALSE, 5, "t\tab ?]0;title? ?[2J." },
    { "c1 \302\233 bad \377 ok", FALSE, 5, "c1 ? bad \357\277\275 ok" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *tail = banger_text_tail (cases[i].text, cases[i].cut_start,
                                                cases[i].max_lines);
      g_assert_cmpstr (tail, ==, cases[i].expected);
    }
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
  g_test_add_func ("/client/values/on-off", test_on_off);
  g_test_add_func ("/client/values/timeout-whole-seconds", test_timeout);
  g_test_add_func ("/client/output/show-lists-sources", test_show_lists_sources);
  g_test_add_func ("/client/output/show-failed-error-under-state", test_show_failed_and_running);
  g_test_add_func ("/client/output/list-ip-dash-when-none", test_list_without_address);
  g_test_add_func ("/client/output/ipv4-address-drops-prefix", test_ipv4_address_drops_prefix);
  g_test_add_func ("/client/output/describe-mentions-nat", test_describe_mentions_nat);
  g_test_add_func ("/client/output/progress-line", test_progress_line);
  g_test_add_func ("/client/output/vm-json-running-failed", test_vm_json_running_and_failed);
  g_test_add_func ("/client/output/list-empty-and-sorted", test_list_empty_and_full);
  g_test_add_func ("/client/output/vm-json-schema", test_vm_json_schema);
  g_test_add_func ("/client/output/list-json-array", test_list_json_is_array);
  g_test_add_func ("/client/output/print-text-without-json", test_print_text_without_json);
  g_test_add_func ("/client/output/print-json-with-json", test_print_json_with_json);
  g_test_add_func ("/client/output/text-tail", test_text_tail);
  return g_test_run ();
}
