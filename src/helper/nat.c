/* nat.c: masquerading for VMs through banger's own nftables table,
 * `ip banger`, with libnftables' JSON: no value is ever pasted into nft
 * syntax, and no other table is read or written. */
#define G_LOG_DOMAIN "banger-helper-nat"

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <nftables/libnftables.h>

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "banger-error.h"

#include "net-names.h"
#include "net-ops.h"
#include "net-private.h"

#define NAT_FAMILY   "ip"
#define NAT_TABLE    "banger"
#define NAT_CHAIN    "postrouting"
/* NF_IP_PRI_NAT_SRC, what `priority srcnat` means for family ip. */
#define NAT_PRIORITY 100
/* A rule's comment is its record of ownership: "banger uid=UID tap=TAP". */
#define NAT_COMMENT_UID " uid="
#define NAT_COMMENT_TAP " tap="
#define IP_FORWARD   "/proc/sys/net/ipv4/ip_forward"

typedef struct nft_ctx NftCtx;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NftCtx, nft_ctx_free)

/* One of banger's rules in the table, as read back from the kernel. */
typedef struct {
  gint64   handle;
  guint32  uid;
  char    *tap;
  char    *address;    /* the "ip saddr" it matches; NULL if unreadable */
} NatRule;

static void
nat_rule_free (NatRule *rule)
{
  g_free (rule->tap);
  g_free (rule->address);
  g_free (rule);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatRule, nat_rule_free)

typedef struct {
  GPtrArray *rules;    /* NatRule: rules of our chain with a banger comment */
  guint      n_rules;  /* every rule of the table, banger's or not */
} NatTable;

static void
nat_table_free (NatTable *table)
{
  g_ptr_array_unref (table->rules);
  g_free (table);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatTable, nat_table_free)

/* "banger uid=UID tap=TAP" exactly: UID decimal without leading zeros
 * within 32 bits, TAP a valid banger tap name, nothing else. Any other
 * comment means the rule is not banger's to touch. */
static gboolean
parse_comment (const char  *comment,
               guint32     *out_uid,
               char       **out_tap)
{
  const char *p = comment;
  g_autofree char *digits = NULL;
  guint64 uid;
  size_t n;

  if (!g_str_has_prefix (p, NAT_TABLE NAT_COMMENT_UID))
    return FALSE;
  p += strlen (NAT_TABLE NAT_COMMENT_UID);
  for (n = 0; g_ascii_isdigit (p[n]); n++)
    ;
  if (n == 0 || n > 10 || (n > 1 && p[0] == '0'))
    return FALSE;
  digits = g_strndup (p, n);
  if (!g_ascii_string_to_unsigned (digits, 10, 0, G_MAXUINT32, &uid, NULL))
    return FALSE;
  p += n;
  if (!g_str_has_prefix (p, NAT_COMMENT_TAP))
    return FALSE;
  p += strlen (NAT_COMMENT_TAP);
  if (!net_validate_ifname (p, NET_TAP_PREFIX, NULL))
    return FALSE;
  *out_uid = (guint32) uid;
  *out_tap = g_strdup (p);
  return TRUE;
}

/* Members of the expected type, or NULL/0: the output is the kernel's
 * view and is read as carefully as input. */
static JsonObject *
get_object (JsonObject *object,
            const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static const char *
get_string (JsonObject *object,
            const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* The address of a rule whose first expression is `ip saddr == A`. */
static char *
rule_address (JsonObject *rule)
{
  JsonNode *expr = json_object_get_member (rule, "expr");
  JsonObject *match, *payload;
  const char *right;
  struct in_addr addr;

  if (expr == NULL || !JSON_NODE_HOLDS_ARRAY (expr) ||
      json_array_get_length (json_node_get_array (expr)) == 0)
    return NULL;
  match = json_array_get_object_element (json_node_get_array (expr), 0);
  match = get_object (match, "match");
  payload = get_object (get_object (match, "left"), "payload");
  right = get_string (match, "right");
  if (g_strcmp0 (get_string (match, "op"), "==") != 0 ||
      g_strcmp0 (get_string (payload, "protocol"), "ip") != 0 ||
      g_strcmp0 (get_string (payload, "field"), "saddr") != 0 ||
      right == NULL || inet_pton (AF_INET, right, &addr) != 1)
    return NULL;
  return g_strdup (right);
}

static NatRule *
parse_rule (JsonObject *rule)
{
  g_autoptr(NatRule) parsed = g_new0 (NatRule, 1);
  JsonNode *handle = json_object_get_member (rule, "handle");
  const char *comment = get_string (rule, "comment");

  if (g_strcmp0 (get_string (rule, "family"), NAT_FAMILY) != 0 ||
      g_strcmp0 (get_string (rule, "table"), NAT_TABLE) != 0 ||
      g_strcmp0 (get_string (rule, "chain"), NAT_CHAIN) != 0 ||
      comment == NULL || handle == NULL || !JSON_NODE_HOLDS_VALUE (handle) ||
      json_node_get_value_type (handle) != G_TYPE_INT64 ||
      !parse_comment (comment, &parsed->uid, &parsed->tap))
    return NULL;
  parsed->handle = json_node_get_int (handle);
  parsed->address = rule_address (rule);
  return g_steal_pointer (&parsed);
}

/* A batch: {"nftables": [command, ...]}. */
static JsonBuilder *
batch_new (void)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "nftables");
  json_builder_begin_array (b);
  return b;
}

/* Opens {"VERB": {"WHAT": {"family": "ip", ...}}} with the table named;
 * close it with end_command. */
static void
begin_command (JsonBuilder *b,
               const char  *verb,
               const char  *what)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, verb);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, what);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "family");
  json_builder_add_string_value (b, NAT_FAMILY);
  json_builder_set_member_name (b, g_str_equal (what, "table") ? "name" : "table");
  json_builder_add_string_value (b, NAT_TABLE);
  if (g_str_equal (what, "rule"))
    {
      json_builder_set_member_name (b, "chain");
      json_builder_add_string_value (b, NAT_CHAIN);
    }
}

static void
end_command (JsonBuilder *b)
{
  json_builder_end_object (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
}

static void
add_match (JsonBuilder *b,
           const char  *op,
           const char  *left_kind,
           const char  *key1,
           const char  *value1,
           const char  *key2,
           const char  *value2,
           const char  *right)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "match");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "op");
  json_builder_add_string_value (b, op);
  json_builder_set_member_name (b, "left");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, left_kind);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, key1);
  json_builder_add_string_value (b, value1);
  if (key2 != NULL)
    {
      json_builder_set_member_name (b, key2);
      json_builder_add_string_value (b, value2);
    }
  json_builder_end_object (b);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "right");
  json_builder_add_string_value (b, right);
  json_builder_end_object (b);
  json_builder_end_object (b);
}

/* Table and chain, idempotently ("add", not "create"). */
static void
add_table_and_chain (JsonBuilder *b)
{
  begin_command (b, "add", "table");
  end_command (b);
  begin_command (b, "add", "chain");
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, NAT_CHAIN);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "nat");
  json_builder_set_member_name (b, "hook");
  json_builder_add_string_value (b, "postrouting");
  json_builder_set_member_name (b, "prio");
  json_builder_add_int_value (b, NAT_PRIORITY);
  json_builder_set_member_name (b, "policy");
  json_builder_add_string_value (b, "accept");
  end_command (b);
}

/* ip saddr ADDRESS oifname != BRIDGE masquerade comment "banger uid=UID tap=TAP" */
static void
add_rule (JsonBuilder *b,
          guint32      uid,
          const char  *tap,
          const char  *address,
          const char  *bridge)
{
  g_autofree char *comment = g_strdup_printf (NAT_TABLE NAT_COMMENT_UID "%u" NAT_COMMENT_TAP "%s",
                                              uid, tap);

  begin_command (b, "add", "rule");
  json_builder_set_member_name (b, "comment");
  json_builder_add_string_value (b, comment);
  json_builder_set_member_name (b, "expr");
  json_builder_begin_array (b);
  add_match (b, "==", "payload", "protocol", "ip", "field", "saddr", address);
  add_match (b, "!=", "meta", "key", "oifname", NULL, NULL, bridge);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "masquerade");
  json_builder_add_null_value (b);
  json_builder_end_object (b);
  json_builder_end_array (b);
  end_command (b);
}

static void
delete_rule (JsonBuilder *b,
             gint64       handle)
{
  begin_command (b, "delete", "rule");
  json_builder_set_member_name (b, "handle");
  json_builder_add_int_value (b, handle);
  end_command (b);
}

/* Runs the batch in @b as one transaction: all of it or none. */
static gboolean
batch_run (JsonBuilder  *b,
           char        **out_output,
           GError      **error)
{
  g_autoptr(NftCtx) nft = nft_ctx_new (NFT_CTX_DEFAULT);
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;

  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  text = json_to_string (root, FALSE);

  if (nft == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("Could not set up libnftables; check that nftables is installed."));
      return FALSE;
    }
  /* JSON output also makes libnftables 1.0.6 read JSON input; newer
   * versions have an input flag for it. */
  nft_ctx_output_set_flags (nft, NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
#ifdef HAVE_NFT_CTX_INPUT_SET_FLAGS
  nft_ctx_input_set_flags (nft, NFT_CTX_INPUT_JSON | NFT_CTX_INPUT_NO_DNS);
#endif
  if (nft_ctx_buffer_output (nft) != 0 || nft_ctx_buffer_error (nft) != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("Could not set up libnftables' buffers."));
      return FALSE;
    }
  g_debug ("nft: %s", text);
  if (nft_run_cmd_from_buffer (nft, text) != 0)
    {
      g_autofree char *why = g_strstrip (g_strdup (nft_ctx_get_error_buffer (nft)));

      g_message ("nft failed: %s (input: %s)", why, text);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("nftables refused banger's change to table “ip banger”: %s"), why);
      return FALSE;
    }
  if (out_output != NULL)
    *out_output = g_strdup (nft_ctx_get_output_buffer (nft));
  return TRUE;
}

/* What `ip banger` holds now; empty when the table does not exist. */
static NatTable *
nat_table_read (GError **error)
{
  g_autoptr(NatTable) table = g_new0 (NatTable, 1);
  g_autoptr(JsonBuilder) b = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local = NULL;
  g_autofree char *output = NULL;
  gboolean exists = FALSE;
  JsonNode *root;
  JsonNode *items;

  table->rules = g_ptr_array_new_with_free_func ((GDestroyNotify) nat_rule_free);
  if (!netlink_nft_table_exists (NFPROTO_IPV4, NAT_TABLE, &exists, &local))
    {
      net_failed (error, local, _("Could not look for nftables table “ip banger”"));
      return NULL;
    }
  if (!exists)
    return g_steal_pointer (&table);

  b = batch_new ();
  begin_command (b, "list", "table");
  end_command (b);
  if (!batch_run (b, &output, error))
    return NULL;

  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, output, -1, &local))
    {
      net_failed (error, local, _("Could not read nftables' listing of “ip banger”"));
      return NULL;
    }
  root = json_parser_get_root (parser);
  items = root != NULL && JSON_NODE_HOLDS_OBJECT (root)
          ? json_object_get_member (json_node_get_object (root), "nftables") : NULL;
  if (items == NULL || !JSON_NODE_HOLDS_ARRAY (items))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("nftables listed table “ip banger” in an unknown format."));
      return NULL;
    }
  for (guint i = 0; i < json_array_get_length (json_node_get_array (items)); i++)
    {
      JsonNode *item = json_array_get_element (json_node_get_array (items), i);
      JsonObject *rule = JSON_NODE_HOLDS_OBJECT (item)
                         ? get_object (json_node_get_object (item), "rule") : NULL;
      NatRule *parsed;

      if (rule == NULL)
        continue;
      table->n_rules++;
      parsed = parse_rule (rule);
      if (parsed != NULL)
        g_ptr_array_add (table->rules, parsed);
    }
  return g_steal_pointer (&table);
}

/* Deletes @doomed (rules of @table) in one transaction, with the table
 * itself when they are all it has, so an idle host has no banger table. */
static gboolean
nat_delete_rules (const NatTable  *table,
                  GPtrArray       *doomed,
                  GPtrArray       *released,
                  GError         **error)
{
  g_autoptr(JsonBuilder) b = NULL;

  if (doomed->len == 0)
    return TRUE;
  b = batch_new ();
  for (guint i = 0; i < doomed->len; i++)
    delete_rule (b, ((NatRule *) doomed->pdata[i])->handle);
  if (doomed->len == table->n_rules)
    {
      begin_command (b, "delete", "table");
      end_command (b);
    }
  if (!batch_run (b, NULL, error))
    return FALSE;
  for (guint i = 0; i < doomed->len; i++)
    {
      const NatRule *rule = doomed->pdata[i];

      g_message ("removed NAT rule of tap %s, uid %u", rule->tap, rule->uid);
      if (released != NULL)
        g_ptr_array_add (released, g_strdup_printf ("nat:%s", rule->tap));
    }
  return TRUE;
}

gboolean
net_nat_remove_locked (guint32      uid,
                       const char  *tap,
                       GPtrArray   *released,
                       guint       *out_removed,
                       GError     **error)
{
  g_autoptr(NatTable) table = nat_table_read (error);
  g_autoptr(GPtrArray) doomed = g_ptr_array_new ();

  if (table == NULL)
    return FALSE;
  for (guint i = 0; i < table->rules->len; i++)
    {
      NatRule *rule = table->rules->pdata[i];

      if (rule->uid == uid && (tap == NULL || g_str_equal (rule->tap, tap)))
        g_ptr_array_add (doomed, rule);
    }
  if (!nat_delete_rules (table, doomed, released, error))
    return FALSE;
  if (out_removed != NULL)
    *out_removed = doomed->len;
  return TRUE;
}

/* Forwarding is host-wide and other things may rely on it, so it is
 * only ever switched on, never off. /proc/sys/net follows the opener's
 * network namespace. */
static gboolean
enable_ip_forward (GError **error)
{
  g_auto(NetFd) fd = open (IP_FORWARD, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0 || write (fd, "1\n", 2) != 2)
    {
      int errsv = errno;
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("Could not enable IPv4 forwarding (%s): %s. VMs need it to reach "
                     "other networks; check that banger-helper may write there."),
                   IP_FORWARD, g_strerror (errsv));
      return FALSE;
    }
  return TRUE;
}

gboolean
net_enable_nat (const HelperConfig  *config,
                guint32              uid,
                const char          *tap,
                guint32              vm_ip,
                GError             **error)
{
  g_autoptr(GRecMutexLocker) locker = net_lock ();
  g_autoptr(NatTable) table = NULL;
  g_autoptr(GPtrArray) doomed = g_ptr_array_new ();
  g_autoptr(JsonBuilder) b = NULL;
  struct in_addr in = { g_htonl (vm_ip) };
  char address[INET_ADDRSTRLEN];
  gboolean have = FALSE;
  NetLink link;

  if (!net_get_own_tap (uid, tap, &link, error))
    return FALSE;
  inet_ntop (AF_INET, &in, address, sizeof address);
  table = nat_table_read (error);
  if (table == NULL)
    return FALSE;

  for (guint i = 0; i < table->rules->len; i++)
    {
      NatRule *rule = table->rules->pdata[i];

      if (g_str_equal (rule->tap, tap))
        {
          if (rule->uid != uid)
            {
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_OWNER,
                           _("Tap “%s” still has a NAT rule of uid %u, left from an earlier "
                             "tap of that name; that user's ReleaseAll removes it. Use "
                             "another tap name meanwhile."),
                           tap, rule->uid);
              return FALSE;
            }
          if (!have && g_strcmp0 (rule->address, address) == 0)
            have = TRUE;
          else
            g_ptr_array_add (doomed, rule);
        }
      else if (g_strcmp0 (rule->address, address) == 0)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                       _("Address %s is already masqueraded for tap “%s”; give this VM "
                         "another address."),
                       address, rule->tap);
          return FALSE;
        }
    }

  if (!enable_ip_forward (error))
    return FALSE;
  if (have && doomed->len == 0)
    return TRUE;

  /* One transaction: the table and chain if missing, the tap's old rule
   * out, the new one in. */
  b = batch_new ();
  add_table_and_chain (b);
  for (guint i = 0; i < doomed->len; i++)
    delete_rule (b, ((NatRule *) doomed->pdata[i])->handle);
  if (!have)
    add_rule (b, uid, tap, address, config->bridge);
  if (!batch_run (b, NULL, error))
    return FALSE;
  g_message ("masquerading %s for tap %s of uid %u", address, tap, uid);
  return TRUE;
}

gboolean
net_disable_nat (guint32      uid,
                 const char  *tap,
                 GError     **error)
{
  g_autoptr(GRecMutexLocker) locker = net_lock ();
  g_autoptr(GError) local = NULL;
  g_autoptr(NatTable) table = NULL;
  g_autoptr(GPtrArray) doomed = g_ptr_array_new ();
  NetLink link;

  /* A missing tap is fine (its rule may outlive it); another's is not. */
  if (!net_get_own_tap (uid, tap, &link, &local) &&
      !g_error_matches (local, BANGER_ERROR, BANGER_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  table = nat_table_read (error);
  if (table == NULL)
    return FALSE;
  for (guint i = 0; i < table->rules->len; i++)
    {
      NatRule *rule = table->rules->pdata[i];

      if (!g_str_equal (rule->tap, tap))
        continue;
      if (rule->uid != uid)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_OWNER,
                       _("The NAT rule of tap “%s” belongs to uid %u, not to you."),
                       tap, rule->uid);
          return FALSE;
        }
      g_ptr_array_add (doomed, rule);
    }
  return nat_delete_rules (table, doomed, NULL, error);
}
