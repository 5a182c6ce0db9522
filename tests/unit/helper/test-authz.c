/* test-authz.c: pins banger-helper's authorization table to the interface,
 * the built polkit policy and docs/privileges.md, and pins its decisions. */
#include "config.h"

#include <string.h>

#include "banger-error.h"
#include "banger-helper-dbus.h"

#include "authz.h"

/* Paths come from meson (tests/unit/helper/meson.build); NULL: skip. */
static const char *
path_from_env (const char *variable)
{
  const char *path = g_getenv (variable);

  if (path == NULL)
    g_test_skip_printf ("%s is not set; run it through meson test", variable);
  return path;
}

static void
on_policy_element (GMarkupParseContext  *context,
                   const char           *element,
                   const char          **names,
                   const char          **values,
                   gpointer              user_data,
                   GError              **error)
{
  GHashTable *actions = user_data;

  if (!g_str_equal (element, "action"))
    return;
  for (gsize i = 0; names[i] != NULL; i++)
    if (g_str_equal (names[i], "id"))
      g_hash_table_add (actions, g_strdup (values[i]));
}

/* The action ids the built .policy defines. */
static GHashTable *
load_policy_actions (const char *path)
{
  const GMarkupParser parser = { .start_element = on_policy_element };
  g_autoptr(GHashTable) actions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GMarkupParseContext) context = NULL;
  g_autofree char *text = NULL;
  gsize length = 0;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &text, &length, &error);
  g_assert_no_error (error);
  context = g_markup_parse_context_new (&parser, G_MARKUP_DEFAULT_FLAGS, actions, NULL);
  g_markup_parse_context_parse (context, text, (gssize) length, &error);
  g_assert_no_error (error);
  g_markup_parse_context_end_parse (context, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&actions);
}

/* method → action, from the rows of the markdown tables in privileges.md
 * ("| `Ping` | `dev.banger.helper.network` | …"). */
static GHashTable *
load_documented_methods (const char *path)
{
  g_autoptr(GHashTable) methods = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (text, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) cells = NULL;

      if (!g_str_has_prefix (lines[i], "|"))
        continue;
      cells = g_strsplit (lines[i], "|", -1);
      if (g_strv_length (cells) < 4)
        continue;
      for (gsize c = 0; cells[c] != NULL; c++)
        g_strstrip (g_strdelimit (cells[c], "`", ' '));
      g_hash_table_replace (methods, g_strdup (cells[1]), g_strdup (cells[2]));
    }
  return g_steal_pointer (&methods);
}

static void
test_every_method_has_an_action (void)
{
  GDBusInterfaceInfo *info = banger_helper1_interface_info ();

  for (gsize i = 0; info->methods != NULL && info->methods[i] != NULL; i++)
    {
      const char *method = info->methods[i]->name;
      const HelperAuthzRule *rule = helper_authz_lookup (method);

      if (rule == NULL)
        g_test_fail_printf ("%s.%s has no row in src/helper/authz.c; "
                            "every helper method needs a polkit action",
                            info->name, method);
      else
        g_assert_cmpstr (rule->action_id, !=, "");
    }
}

static void
test_every_rule_names_a_method_once (void)
{
  GDBusInterfaceInfo *info = banger_helper1_interface_info ();
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  gsize n_rules = 0;
  const HelperAuthzRule *rules = helper_authz_rules (&n_rules);

  g_assert_cmpuint (n_rules, >, 0);
  for (gsize i = 0; i < n_rules; i++)
    {
      if (g_dbus_interface_info_lookup_method (info, rules[i].method) == NULL)
        g_test_fail_printf ("authz.c has a row for %s, which %s does not have",
                            rules[i].method, info->name);
      if (!g_hash_table_add (seen, (gpointer) rules[i].method))
        g_test_fail_printf ("authz.c lists %s twice", rules[i].method);
    }
}

static void
test_every_action_is_defined_in_the_policy (void)
{
  const char *path = path_from_env ("BANGER_POLKIT_POLICY");
  g_autoptr(GHashTable) actions = NULL;
  gsize n_rules = 0;
  const HelperAuthzRule *rules = helper_authz_rules (&n_rules);

  if (path == NULL)
    return;
  actions = load_policy_actions (path);
  g_assert_cmpuint (g_hash_table_size (actions), >, 0);
  for (gsize i = 0; i < n_rules; i++)
    if (!g_hash_table_contains (actions, rules[i].action_id))
      g_test_fail_printf ("%s needs polkit action %s, which %s does not define",
                          rules[i].method, rules[i].action_id, path);
}

static void
test_unknown_method_is_denied (void)
{
  g_assert_null (helper_authz_lookup ("NoSuchMethod"));
  g_assert_null (helper_authz_lookup ("ping"));   /* names are exact */
  g_assert_null (helper_authz_lookup (""));
  g_assert_null (helper_authz_lookup (NULL));
}

static void
test_every_method_is_documented_with_its_action (void)
{
  const char *path = path_from_env ("BANGER_PRIVILEGES_DOC");
  GDBusInterfaceInfo *info = banger_helper1_interface_info ();
  g_autoptr(GHashTable) documented = NULL;

  if (path == NULL)
    return;
  documented = load_documented_methods (path);
  for (gsize i = 0; info->methods != NULL && info->methods[i] != NULL; i++)
    {
      const char *method = info->methods[i]->name;
      const HelperAuthzRule *rule = helper_authz_lookup (method);
      const char *action = g_hash_table_lookup (documented, method);

      if (action == NULL)
        g_test_fail_printf ("%s has no row in %s", method, path);
      else if (rule != NULL && g_strcmp0 (action, rule->action_id) != 0)
        g_test_fail_printf ("%s documents %s with action %s, authz.c says %s",
                            path, method, action, rule->action_id);
    }
}

/* GDBus does not emit g-authorize-method for property access, so the
 * table cannot guard properties: the interface must not grow any without
 * a separate check. */
static void
test_interface_has_no_properties (void)
{
  GDBusInterfaceInfo *info = banger_helper1_interface_info ();

  if (info->properties != NULL && info->properties[0] != NULL)
    g_test_fail_printf ("%s has property %s: property access bypasses "
                        "authz.c; authorize it before adding it",
                        info->name, info->properties[0]->name);
}

static const HelperAuthzRule interactive_rule = { "Ping", "dev.banger.helper.network", TRUE };
static const HelperAuthzRule no_interaction_rule = { "Ping", "dev.banger.helper.network", FALSE };

static void
decide (const HelperAuthzRule *rule,
        gboolean               authorized,
        gboolean               challenge,
        gboolean               dismissed,
        gboolean               message_allows_interaction,
        GError               **error,
        gboolean              *out_allowed)
{
  g_autoptr(PolkitDetails) details = polkit_details_new ();
  g_autoptr(PolkitAuthorizationResult) result = NULL;

  if (dismissed)
    polkit_details_insert (details, "polkit.dismissed", "true");
  result = polkit_authorization_result_new (authorized, challenge, details);
  *out_allowed = helper_authz_decide (rule, result, message_allows_interaction, error);
}

static void
test_authorized_result_allows (void)
{
  g_autoptr(GError) error = NULL;
  gboolean allowed = FALSE;

  decide (&interactive_rule, TRUE, FALSE, FALSE, FALSE, &error, &allowed);
  g_assert_no_error (error);
  g_assert_true (allowed);
}

static void
test_challenge_without_interaction_requires_interactive_auth (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dbus_name = NULL;
  gboolean allowed = TRUE;

  decide (&interactive_rule, FALSE, TRUE, FALSE, FALSE, &error, &allowed);
  g_assert_false (allowed);
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED);
  g_assert_nonnull (strstr (error->message, "dev.banger.helper.network"));
  g_assert_nonnull (strstr (error->message, "usermod -aG banger"));
  dbus_name = g_dbus_error_encode_gerror (error);
  g_assert_cmpstr (dbus_name, ==, "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired");
}

static void
test_challenge_with_interaction_is_not_authorized (void)
{
  g_autoptr(GError) error = NULL;
  gboolean allowed = TRUE;

  /* Interaction was allowed and polkit still challenges: no agent asked. */
  decide (&interactive_rule, FALSE, TRUE, FALSE, TRUE, &error, &allowed);
  g_assert_false (allowed);
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_AUTHORIZED);
  g_assert_nonnull (strstr (error->message, "agent"));
}

static void
test_challenge_on_non_interactive_rule_is_not_authorized (void)
{
  g_autoptr(GError) error = NULL;
  gboolean allowed = TRUE;

  decide (&no_interaction_rule, FALSE, TRUE, FALSE, FALSE, &error, &allowed);
  g_assert_false (allowed);
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_AUTHORIZED);
}

static void
test_denial_names_the_action (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dbus_name = NULL;
  gboolean allowed = TRUE;

  decide (&interactive_rule, FALSE, FALSE, FALSE, TRUE, &error, &allowed);
  g_assert_false (allowed);
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_AUTHORIZED);
  g_assert_nonnull (strstr (error->message, "dev.banger.helper.network"));
  dbus_name = g_dbus_error_encode_gerror (error);
  g_assert_cmpstr (dbus_name, ==, "dev.banger.Error.NotAuthorized");
}

static void
test_dismissed_is_not_authorized (void)
{
  g_autoptr(GError) error = NULL;
  gboolean allowed = TRUE;

  decide (&interactive_rule, FALSE, FALSE, TRUE, TRUE, &error, &allowed);
  g_assert_false (allowed);
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_AUTHORIZED);
  g_assert_nonnull (strstr (error->message, "dismissed"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/helper/authz/every-method-has-an-action",
                   test_every_method_has_an_action);
  g_test_add_func ("/helper/authz/every-rule-names-a-method-once",
                   test_every_rule_names_a_method_once);
  g_test_add_func ("/helper/authz/every-action-is-defined-in-the-policy",
                   test_every_action_is_defined_in_the_policy);
  g_test_add_func ("/helper/authz/unknown-method-is-denied",
                   test_unknown_method_is_denied);
  g_test_add_func ("/helper/authz/every-method-is-documented-with-its-action",
                   test_every_method_is_documented_with_its_action);
  g_test_add_func ("/helper/authz/interface-has-no-properties",
                   test_interface_has_no_properties);
  g_test_add_func ("/helper/authz/authorized-result-allows",
                   test_authorized_result_allows);
  g_test_add_func ("/helper/authz/challenge-without-interaction-requires-interactive-auth",
                   test_challenge_without_interaction_requires_interactive_auth);
  g_test_add_func ("/helper/authz/challenge-with-interaction-is-not-authorized",
                   test_challenge_with_interaction_is_not_authorized);
  g_test_add_func ("/helper/authz/challenge-on-non-interactive-rule-is-not-authorized",
                   test_challenge_on_non_interactive_rule_is_not_authorized);
  g_test_add_func ("/helper/authz/denial-names-the-action",
                   test_denial_names_the_action);
  g_test_add_func ("/helper/authz/dismissed-is-not-authorized",
                   test_dismissed_is_not_authorized);

  return g_test_run ();
}
