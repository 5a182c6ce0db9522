/* test-size.c: sizes as users type them, binary units, overflow refused. */
#include "config.h"

#include "banger-error.h"
#include "banger-size.h"

static void
test_sizes_parsed (void)
{
  const struct { const char *text; guint64 bytes; } cases[] = {
    { "0", 0 }, { "512", 512 }, { "1K", 1024 }, { "1k", 1024 },
    { "512M", G_GUINT64_CONSTANT (512) << 20 }, { "2G", G_GUINT64_CONSTANT (2) << 30 },
    { "8GiB", G_GUINT64_CONSTANT (8) << 30 }, { "8 GB", G_GUINT64_CONSTANT (8) << 30 },
    { " 1T ", G_GUINT64_CONSTANT (1) << 40 }, { "100B", 100 },
    { "16777215T", G_GUINT64_CONSTANT (16777215) << 40 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      guint64 bytes = 1;

      g_assert_true (banger_size_parse (cases[i].text, &bytes, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (bytes, ==, cases[i].bytes);
    }
}

static void
test_bad_sizes_rejected (void)
{
  const char *bad[] = { "", "G", "-1", "1.5G", "1X", "1GiBs", "12 34", "0x10",
                        "18446744073709551616", "16777216T", NULL };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      guint64 bytes = 42;

      g_assert_false (banger_size_parse (bad[i], &bytes, &error));
      g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
      g_assert_cmpuint (bytes, ==, 42);
    }
}

static void
test_format_is_exact (void)
{
  const struct { guint64 bytes; const char *text; } cases[] = {
    { 0, "0 B" }, { 1000, "1000 B" }, { 1024, "1 KiB" }, { 1536 << 20, "1536 MiB" },
    { G_GUINT64_CONSTANT (8) << 30, "8 GiB" }, { G_GUINT64_CONSTANT (3) << 40, "3 TiB" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = banger_size_format (cases[i].bytes);
      g_assert_cmpstr (text, ==, cases[i].text);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/size/sizes-parsed", test_sizes_parsed);
  g_test_add_func ("/size/bad-sizes-rejected", test_bad_sizes_rejected);
  g_test_add_func ("/size/format-is-exact", test_format_is_exact);
  return g_test_run ();
}
