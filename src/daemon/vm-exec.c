/* vm-exec.c: VM1.Exec runs a command in the guest through the VM's agent
 * with the caller's descriptors; VM1.SignalExec signals one of them.
 *
 * An Exec is not a VM operation: any number run at once, none holds the
 * VM. Each holds a ref on the agent connection rather than on the VM, so
 * a VM stopped or deleted meanwhile just makes it fail when the agent
 * connection closes. */
#define G_LOG_DOMAIN "bangerd-exec"

#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "banger-error.h"
#include "banger-log.h"
#include "vm-agent.h"
#include "vm-exec.h"
#include "vm-object.h"

#define EXEC_MAX_ARGS    4096
#define EXEC_MAX_ENV     4096
#define EXEC_MAX_ID      64
#define EXEC_MAX_CWD     4096
/* argv, env and cwd travel in one agent frame of at most 65536 bytes
 * (docs/agent-protocol.md); 4 bytes per string and a few counts besides. */
#define EXEC_MAX_PAYLOAD 65536

/* The environment a command gets unless Env replaces an entry. TERM is
 * left out: the command's output goes to whatever the caller passed, which
 * bangerd cannot tell to be a terminal; a caller that knows sets it. */
static const char *const default_env[] = {
  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  "HOME=/root",
  NULL
};
#define DEFAULT_CWD "/root"

static const struct {
  const char *name;
  int         number;
} exec_signals[] = {
  { "TERM", SIGTERM }, { "INT", SIGINT }, { "HUP", SIGHUP }, { "KILL", SIGKILL },
  { "QUIT", SIGQUIT }, { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 },
};

typedef struct {
  GDBusMethodInvocation *invocation;
  AgentClient           *agent;
  char                  *vm_name;
  char                  *key;         /* in running_execs, or NULL without Id */
  char                  *sender;      /* its CallerWatch's key, or NULL */
  GCancellable          *cancellable;
  guint32                exec_id;
} ExecCall;

/* "AGENT SENDER ID" → ExecCall, for SignalExec. The agent pointer stands
 * for the VM's current boot: each ExecCall holds a ref on it, so it cannot
 * be reused by another connection while listed. */
static GHashTable *running_execs;

/* One bus name watch per caller, kept until the caller leaves the bus,
 * rather than one per Exec: adding and removing a watch costs bangerd and
 * the bus daemon more CPU than the rest of a short Exec
 * (docs/performance.md). Sender → CallerWatch. */
typedef struct {
  char   *sender;
  guint   watch_id;
  GSList *calls;   /* its running ExecCalls */
} CallerWatch;

static GHashTable *caller_watches;

static char *
exec_key (AgentClient *agent,
          const char  *sender,
          const char  *id)
{
  return g_strdup_printf ("%p %s %s", (void *) agent, sender != NULL ? sender : "", id);
}

static void
exec_call_free (ExecCall *call)
{
  CallerWatch *watch = call->sender != NULL && caller_watches != NULL
                       ? g_hash_table_lookup (caller_watches, call->sender) : NULL;

  if (watch != NULL)
    watch->calls = g_slist_remove (watch->calls, call);
  if (call->key != NULL)
    g_hash_table_remove (running_execs, call->key);
  g_clear_object (&call->cancellable);
  g_clear_object (&call->agent);
  g_clear_object (&call->invocation);
  g_free (call->key);
  g_free (call->sender);
  g_free (call->vm_name);
  g_free (call);
}

static gboolean
fail (GDBusMethodInvocation *invocation,
      const char            *vm_name,
      GError                *error)
{
  g_message ("%s in VM %s refused: %s", g_dbus_method_invocation_get_method_name (invocation),
             vm_name, error->message);
  banger_error_to_invocation (invocation, error);
  g_error_free (error);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
valid_env_name (const char *entry,
                gsize       length)
{
  if (length == 0 || !(g_ascii_isalpha (entry[0]) || entry[0] == '_'))
    return FALSE;
  for (gsize i = 1; i < length; i++)
    if (!(g_ascii_isalnum (entry[i]) || entry[i] == '_'))
      return FALSE;
  return TRUE;
}

static gboolean
valid_id (const char *id)
{
  gsize length = strlen (id);

  if (length == 0 || length > EXEC_MAX_ID)
    return FALSE;
  for (gsize i = 0; i < length; i++)
    if (!(g_ascii_isalnum (id[i]) || id[i] == '.' || id[i] == '_' || id[i] == '-'))
      return FALSE;
  return TRUE;
}

/* The defaults, each replaced by an Env entry of the same name; later Env
 * entries replace earlier ones. */
static GPtrArray *
build_env (const char *const  *given,
           GError            **error)
{
  g_autoptr(GPtrArray) env = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; default_env[i] != NULL; i++)
    g_ptr_array_add (env, g_strdup (default_env[i]));

  for (guint i = 0; given != NULL && given[i] != NULL; i++)
    {
      const char *eq = strchr (given[i], '=');
      gsize name_length;

      if (i >= EXEC_MAX_ENV)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       _("Too many Env entries; at most %d are allowed"), EXEC_MAX_ENV);
          return NULL;
        }
      if (eq == NULL || !valid_env_name (given[i], eq - given[i]))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       _("Env entry “%s” is not NAME=VALUE with NAME made of letters, "
                         "digits and '_', not starting with a digit"), given[i]);
          return NULL;
        }
      name_length = eq - given[i] + 1;
      for (guint j = 0; j < env->len; j++)
        if (strncmp (env->pdata[j], given[i], name_length) == 0)
          {
            g_ptr_array_remove_index (env, j);
            break;
          }
      g_ptr_array_add (env, g_strdup (given[i]));
    }
  g_ptr_array_add (env, NULL);
  return g_steal_pointer (&env);
}

static gsize
strv_wire_size (const char *const *strv)
{
  gsize size = 4;

  for (guint i = 0; strv[i] != NULL; i++)
    size += 4 + strlen (strv[i]);
  return size;
}

static gboolean
check_argv (const char *const  *argv,
            GError            **error)
{
  guint n = argv != NULL ? g_strv_length ((char **) argv) : 0;

  if (n == 0 || argv[0][0] == '\0')
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           _("The command is empty; argv needs at least a non-empty argv[0]"));
      return FALSE;
    }
  if (n > EXEC_MAX_ARGS)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("The command has %u arguments; at most %d are allowed"), n, EXEC_MAX_ARGS);
      return FALSE;
    }
  return TRUE;
}

/* Reads Env, Cwd and Id; rejects anything else. */
static gboolean
parse_exec_options (GVariant     *options,
                    GPtrArray   **out_env,
                    char        **out_cwd,
                    char        **out_id,
                    GError      **error)
{
  g_auto(GStrv) given_env = NULL;
  g_autofree char *cwd = NULL;
  g_autofree char *id = NULL;
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_iter_init (&iter, options);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      g_autoptr(GVariant) owned = value;
      const char *type = g_str_equal (key, "Env") ? "as"
                       : g_str_equal (key, "Cwd") || g_str_equal (key, "Id") ? "s" : NULL;

      if (type == NULL)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       _("Unknown option “%s”; Exec knows Env, Cwd and Id"), key);
          return FALSE;
        }
      if (!g_variant_is_of_type (value, G_VARIANT_TYPE (type)))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       _("Option “%s” must be of type “%s”"), key, type);
          return FALSE;
        }
      if (g_str_equal (key, "Env"))
        {
          g_strfreev (given_env);
          given_env = g_variant_dup_strv (value, NULL);
        }
      else if (g_str_equal (key, "Cwd"))
        {
          g_free (cwd);
          cwd = g_variant_dup_string (value, NULL);
        }
      else
        {
          g_free (id);
          id = g_variant_dup_string (value, NULL);
        }
    }

  if (cwd != NULL && (cwd[0] != '/' || strlen (cwd) > EXEC_MAX_CWD))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("Cwd “%s” is not an absolute path (it must start with '/')"), cwd);
      return FALSE;
    }
  if (id != NULL && !valid_id (id))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("Id “%s” is not 1-%d characters from A-Z, a-z, 0-9, '.', '_' and '-'"),
                   id, EXEC_MAX_ID);
      return FALSE;
    }
  *out_env = build_env ((const char *const *) given_env, error);
  if (*out_env == NULL)
    return FALSE;
  *out_cwd = cwd != NULL ? g_steal_pointer (&cwd) : g_strdup (DEFAULT_CWD);
  *out_id = g_steal_pointer (&id);
  return TRUE;
}

static gboolean
get_fd (GUnixFDList  *fd_list,
        GVariant     *handle,
        const char   *what,
        int          *out_fd,
        GError      **error)
{
  gint32 index = g_variant_get_handle (handle);

  if (fd_list == NULL || index < 0 || index >= g_unix_fd_list_get_length (fd_list))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("The %s handle does not refer to a passed file descriptor"), what);
      return FALSE;
    }
  *out_fd = g_unix_fd_list_get (fd_list, index, error);
  return *out_fd >= 0;
}

static void
caller_watch_free (CallerWatch *watch)
{
  g_bus_unwatch_name (watch->watch_id);
  g_slist_free (watch->calls);
  g_free (watch->sender);
  g_free (watch);
}

/* Also called at once when the caller is gone already. */
static void
on_caller_vanished (GDBusConnection *connection,
                    const char      *name,
                    gpointer         user_data)
{
  CallerWatch *watch = user_data;
  GSList *calls = g_steal_pointer (&watch->calls);

  for (GSList *l = calls; l != NULL; l = l->next)
    {
      ExecCall *call = l->data;

      g_info ("Caller %s of an Exec in VM %s left the bus; killing the command",
              name, call->vm_name);
      g_cancellable_cancel (call->cancellable);
    }
  g_slist_free (calls);
  /* Frees @watch; its calls end later and find it gone. */
  g_hash_table_remove (caller_watches, name);
}

/* Ties @call to its caller's watch, starting one for a new caller. */
static void
watch_caller (GDBusConnection *connection,
              const char      *sender,
              ExecCall        *call)
{
  CallerWatch *watch;

  if (caller_watches == NULL)
    caller_watches = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                            (GDestroyNotify) caller_watch_free);
  call->sender = g_strdup (sender);
  watch = g_hash_table_lookup (caller_watches, sender);
  if (watch != NULL)
    {
      watch->calls = g_slist_prepend (watch->calls, call);
      return;
    }
  watch = g_new0 (CallerWatch, 1);
  watch->sender = g_strdup (sender);
  watch->calls = g_slist_prepend (NULL, call);
  g_hash_table_insert (caller_watches, watch->sender, watch);
  watch->watch_id = g_bus_watch_name_on_connection (connection, sender,
                                                    G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                    NULL, on_caller_vanished, watch, NULL);
}

static void
on_exec_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  ExecCall *call = user_data;
  AgentExitStatus status = { 0 };
  g_autoptr(GError) error = NULL;

  if (agent_client_exec_finish (AGENT_CLIENT (source), result, &status, &error))
    {
      g_debug ("Exec %u in VM %s ended: exit %d, signal %d",
               call->exec_id, call->vm_name, status.exit_code, status.signal);
      g_dbus_method_invocation_return_value (call->invocation,
                                             g_variant_new ("(ii)", status.exit_code, status.signal));
    }
  else
    {
      g_autoptr(GError) reply = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
        reply = g_error_new (BANGER_ERROR, BANGER_ERROR_NOT_RUNNING,
                             _("VM “%s” stopped or lost its guest agent while the command ran"),
                             call->vm_name);
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        reply = g_error_new_literal (BANGER_ERROR, BANGER_ERROR_FAILED,
                                     _("The command was killed because its caller left the bus"));
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT))
        reply = g_error_new_literal (BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT, error->message);
      else
        reply = g_error_new (BANGER_ERROR, BANGER_ERROR_FAILED,
                             _("Running the command in VM “%s” failed: %s"),
                             call->vm_name, error->message);
      g_message ("Exec %u in VM %s failed: %s", call->exec_id, call->vm_name, error->message);
      banger_error_to_invocation (call->invocation, reply);
    }
  exec_call_free (call);
}

/* An Exec that arrived while a restarted bangerd reconnects the VM's
 * agent: dispatched again once that is settled. */
typedef struct {
  BangerVM1             *iface;
  GDBusMethodInvocation *invocation;   /* its reply is still owed */
  VmObject              *vm;
} DeferredExec;

static void
on_agent_settled (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autofree DeferredExec *d = user_data;
  GVariant *params = g_dbus_method_invocation_get_parameters (d->invocation);
  GUnixFDList *fd_list = g_dbus_message_get_unix_fd_list (
    g_dbus_method_invocation_get_message (d->invocation));
  g_autofree const char **argv = NULL;
  g_autoptr(GVariant) options = NULL;
  g_autoptr(GVariant) in = NULL;
  g_autoptr(GVariant) out = NULL;
  g_autoptr(GVariant) err = NULL;

  vm_agent_wait_finish (result, NULL);
  g_variant_get (params, "(^a&s@a{sv}@h@h@h)", &argv, &options, &in, &out, &err);
  vm_exec_handle_exec (d->iface, d->invocation, fd_list, argv, options, in, out, err, d->vm);
}

gboolean
vm_exec_handle_exec (BangerVM1             *iface,
                     GDBusMethodInvocation *invocation,
                     GUnixFDList           *fd_list,
                     const char *const     *argv,
                     GVariant              *options,
                     GVariant              *stdin_handle,
                     GVariant              *stdout_handle,
                     GVariant              *stderr_handle,
                     VmObject              *vm)
{
  g_autoptr(BangerOp) op = banger_op_begin (invocation);
  g_autoptr(GPtrArray) env = NULL;
  g_autofree char *cwd = NULL;
  g_autofree char *id = NULL;
  g_autofree char *key = NULL;
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  const char *name = vm->record->name;
  GError *error = NULL;
  int fds[3] = { -1, -1, -1 };
  ExecCall *call;

  if (vm->agent == NULL && vm->op == VM_OP_RECONCILE)
    {
      DeferredExec *d = g_new0 (DeferredExec, 1);

      d->iface = iface;
      d->invocation = invocation;
      d->vm = vm;
      vm_agent_wait_async (vm, on_agent_settled, d);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  if (!check_argv (argv, &error) ||
      !parse_exec_options (options, &env, &cwd, &id, &error))
    return fail (invocation, name, error);
  if (strv_wire_size (argv) + strv_wire_size ((const char *const *) env->pdata) +
      4 + strlen (cwd) + 4 > EXEC_MAX_PAYLOAD)
    return fail (invocation, name,
                 g_error_new (BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                              _("The command line, environment and directory take more than %d bytes; "
                                "pass long data through standard input instead"), EXEC_MAX_PAYLOAD));

  if (!g_str_equal (vm->record->state, "running"))
    return fail (invocation, name,
                 g_error_new (BANGER_ERROR, BANGER_ERROR_NOT_RUNNING,
                              _("VM “%s” is not running (it is %s)"), name, vm->record->state));
  if (vm->agent == NULL || agent_client_is_closed (vm->agent))
    return fail (invocation, name,
                 g_error_new (BANGER_ERROR, BANGER_ERROR_NOT_RUNNING,
                              _("The guest agent of VM “%s” is not connected; the guest may have "
                                "stopped it, or be shutting down"), name));

  if (id != NULL)
    {
      key = exec_key (vm->agent, sender, id);
      if (running_execs != NULL && g_hash_table_contains (running_execs, key))
        return fail (invocation, name,
                     g_error_new (BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                                  _("An Exec with Id “%s” of this caller is already running in VM “%s”"),
                                  id, name));
    }

  if (!get_fd (fd_list, stdin_handle, "stdin", &fds[0], &error) ||
      !get_fd (fd_list, stdout_handle, "stdout", &fds[1], &error) ||
      !get_fd (fd_list, stderr_handle, "stderr", &fds[2], &error))
    {
      for (int i = 0; i < 3; i++)
        if (fds[i] >= 0)
          close (fds[i]);
      if (error->domain != BANGER_ERROR)
        {
          GError *invalid = g_error_new (BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                                         _("A passed file descriptor is unusable: %s"), error->message);
          g_error_free (error);
          error = invalid;
        }
      return fail (invocation, name, error);
    }

  call = g_new0 (ExecCall, 1);
  call->invocation = g_object_ref (invocation);
  call->agent = g_object_ref (vm->agent);
  call->vm_name = g_strdup (name);
  call->cancellable = g_cancellable_new ();
  if (key != NULL)
    {
      if (running_execs == NULL)
        running_execs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      call->key = g_strdup (key);
      g_hash_table_insert (running_execs, g_steal_pointer (&key), call);
    }

  /* The client duplicates the descriptors, so ours are closed at once. */
  call->exec_id = agent_client_exec_async (call->agent, argv,
                                           (const char *const *) env->pdata, cwd,
                                           fds[0], fds[1], fds[2], call->cancellable,
                                           on_exec_done, call);
  for (int i = 0; i < 3; i++)
    close (fds[i]);

  /* Watched after starting, so a caller gone already cancels at once. */
  if (sender != NULL)
    watch_caller (g_dbus_method_invocation_get_connection (invocation), sender, call);
  g_debug ("Exec %u in VM %s: %s%s%s", call->exec_id, name, argv[0],
           id != NULL ? " id " : "", id != NULL ? id : "");
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

gboolean
vm_exec_handle_signal (BangerVM1             *iface,
                       GDBusMethodInvocation *invocation,
                       const char            *id,
                       const char            *signal_name,
                       VmObject              *vm)
{
  g_autoptr(BangerOp) op = banger_op_begin (invocation);
  g_autofree char *key = NULL;
  ExecCall *call = NULL;
  int signo = 0;

  for (guint i = 0; i < G_N_ELEMENTS (exec_signals); i++)
    if (g_str_equal (exec_signals[i].name, signal_name))
      signo = exec_signals[i].number;
  if (signo == 0)
    return fail (invocation, vm->record->name,
                 g_error_new (BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                              _("Unknown signal “%s”; use one of TERM, INT, HUP, KILL, QUIT, USR1, USR2"),
                              signal_name));

  if (vm->agent != NULL && running_execs != NULL)
    {
      key = exec_key (vm->agent, g_dbus_method_invocation_get_sender (invocation), id);
      call = g_hash_table_lookup (running_execs, key);
    }
  if (call == NULL)
    return fail (invocation, vm->record->name,
                 g_error_new (BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                              _("No command with Id “%s” of this caller is running in VM “%s”"),
                              id, vm->record->name));

  g_debug ("Sending SIG%s to exec %u in VM %s", signal_name, call->exec_id, vm->record->name);
  agent_client_signal_exec (call->agent, call->exec_id, signo);
  banger_vm1_complete_signal_exec (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}
