/* test-names.c: VM names are DNS labels, rejected with a reason otherwise,
 * and object paths map back to exactly the name they came from. */
#include "config.h"

#include "banger-error.h"
#include "banger-names.h"

static void
test_valid_names_accepted (void)
{
  const char *valid[] = { "a", "web", "db-1", "0", "9lives",
                          "abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefgh" };

  for (guint i = 0; i < G_N_ELEMENTS (valid); i++)
    {
      g_autoptr(GError) error = NULL;
      g_assert_true (banger_vm_name_validate (valid[i], &error));
      g_assert_no_error (error);
    }
}

static void
assert_rejected (const char *name,
                 const char *message_part)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (banger_vm_name_validate (name, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
  if (strstr (error->message, message_part) == NULL)
    g_error ("message for “%s” lacks “%s”: %s", name, message_part, error->message);
}

static void
test_invalid_names_rejected_with_reason (void)
{
  g_autofree char *long_name = g_strnfill (64, 'a');

  assert_rejected ("", "empty");
  assert_rejected (NULL, "empty");
  assert_rejected (long_name, "64 characters");
  assert_rejected ("Web", "try “web”");
  assert_rejected ("-web", "starts or ends");
  assert_rejected ("web-", "starts or ends");
  assert_rejected ("web.vm", "position 4");
  assert_rejected ("a b", "position 2");
  assert_rejected ("../etc", "position 1");
  assert_rejected ("we_b", "position 3");
  assert_rejected ("wéb", "position 2");
  assert_rejected ("a\nb", "position 2");
  assert_rejected ("a;rm -rf", "position 2");
}

static void
test_object_path_round_trip (void)
{
  const char *names[] = { "web", "db-1", "a", "x_y", "ünïcode", "with space", "" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = banger_object_path_for ("/dev/banger/Daemon1/vm", names[i]);
      g_autofree char *back = banger_name_from_object_path ("/dev/banger/Daemon1/vm", path);

      g_assert_true (g_variant_is_object_path (path));
      g_assert_cmpstr (back, ==, names[i]);
    }
}

static void
test_object_path_of_other_subtree_rejected (void)
{
  g_assert_null (banger_name_from_object_path ("/dev/banger/Daemon1/vm", "/dev/banger/Daemon1"));
  g_assert_null (banger_name_from_object_path ("/dev/banger/Daemon1/vm", "/dev/banger/Daemon1/vmx/a"));
  g_assert_null (banger_name_from_object_path ("/dev/banger/Daemon1/vm", "/dev/banger/Daemon1/vm/a/b"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/names/valid-names-accepted", test_valid_names_accepted);
  g_test_add_func ("/names/invalid-names-rejected-with-reason", test_invalid_names_rejected_with_reason);
  g_test_add_func ("/names/object-path-round-trip", test_object_path_round_trip);
  g_test_add_func ("/names/object-path-of-other-subtree-rejected", test_object_path_of_other_subtree_rejected);
  return g_test_run ();
}
