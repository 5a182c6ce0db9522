/* test-errors.c: every banger error survives the trip to a D-Bus error
 * name and back as the same domain, code and message. */
#include "config.h"

#include "banger-error.h"

static void
test_error_names_round_trip (void)
{
  for (int code = 0; code < BANGER_ERROR_N_CODES; code++)
    {
      g_autoptr(GError) original = g_error_new (BANGER_ERROR, code, "message %d", code);
      g_autofree char *name = g_dbus_error_encode_gerror (original);
      g_autoptr(GError) decoded = g_dbus_error_new_for_dbus_error (name, "message");

      g_assert_cmpstr (name, ==, banger_error_dbus_name (code));
      g_assert_error (decoded, BANGER_ERROR, code);
      g_dbus_error_strip_remote_error (decoded);
      g_assert_cmpstr (decoded->message, ==, "message");
    }
}

static void
test_names_are_banger_or_freedesktop (void)
{
  GHashTable *seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (int code = 0; code < BANGER_ERROR_N_CODES; code++)
    {
      const char *name = banger_error_dbus_name (code);

      g_assert_true (g_str_has_prefix (name, "dev.banger.Error.") ||
                     g_str_equal (name, "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"));
      g_assert_false (g_hash_table_contains (seen, name));
      g_hash_table_add (seen, (gpointer) name);
    }
  g_assert_cmpstr (banger_error_dbus_name (BANGER_ERROR_NOT_FOUND), ==, "dev.banger.Error.NotFound");
  g_assert_cmpstr (banger_error_dbus_name (BANGER_ERROR_ALREADY_EXISTS), ==, "dev.banger.Error.AlreadyExists");
  g_assert_cmpstr (banger_error_dbus_name (BANGER_ERROR_NOT_AUTHORIZED), ==, "dev.banger.Error.NotAuthorized");
  g_hash_table_unref (seen);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/errors/names-round-trip", test_error_names_round_trip);
  g_test_add_func ("/errors/names-are-banger-or-freedesktop", test_names_are_banger_or_freedesktop);
  return g_test_run ();
}
