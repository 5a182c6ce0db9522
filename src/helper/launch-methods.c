/* launch-methods.c: dev.banger.Helper1.Launch, Signal, Kill and
 * CleanupJail: validate the arguments, call one launch-ops.c operation. */
#define G_LOG_DOMAIN "banger-helper-launch-methods"

#include "config.h"

#include <sys/wait.h>

#include "banger-error.h"
#include "banger-names.h"

#include "helper-methods.h"
#include "launch-ops.h"

/* Each handler runs on a worker thread after authz.c granted
 * dev.banger.helper.launch. The uid always comes from the bus. */

static gboolean
fail (GDBusMethodInvocation *invocation,
      GError                *error)
{
  helper_reply_error (invocation, error);
  g_error_free (error);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* The jailer forks the VMM into its new pid namespace and exits at once;
 * reap it so no zombie stays while the helper runs. */
static void
on_jailer_exit (GPid     pid,
                gint     wait_status,
                gpointer user_data)
{
  g_autofree char *vm = user_data;

  if (WIFEXITED (wait_status) && WEXITSTATUS (wait_status) == 0)
    g_debug ("jailer %d of VM %s exited", (int) pid, vm);
  else
    g_warning ("jailer %d of VM %s ended with wait status 0x%x",
               (int) pid, vm, (guint) wait_status);
  g_spawn_close_pid (pid);
}

gboolean
helper_handle_launch (BangerHelper1         *skeleton,
                      GDBusMethodInvocation *invocation,
                      const char            *vm,
                      GVariant              *spec,
                      gpointer               user_data)
{
  g_auto(LaunchCaller) caller = { 0 };
  g_autoptr(LaunchSpec) parsed = NULL;
  g_autofree char *jail_root = NULL;
  GError *error = NULL;
  guint32 uid = 0;
  GPid pid = 0;

  /* Validate: who (bus uid → passwd: never root), what VM, which files. */
  if (!helper_caller_get_uid (invocation, &uid, &error) ||
      !banger_vm_name_validate (vm, &error) ||
      !launch_caller_lookup (uid, &caller, &error))
    return fail (invocation, error);
  parsed = launch_spec_parse (spec, NULL, &error);
  if (parsed == NULL)
    return fail (invocation, error);

  if (!launch_vm (&caller, vm, parsed, &pid, &jail_root, &error))
    return fail (invocation, error);
  g_child_watch_add (pid, on_jailer_exit, g_strdup (vm));

  banger_helper1_complete_launch (skeleton, invocation, (guint) pid, jail_root);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

gboolean
helper_handle_signal (BangerHelper1         *skeleton,
                      GDBusMethodInvocation *invocation,
                      const char            *vm,
                      const char            *signal_name,
                      gpointer               user_data)
{
  GError *error = NULL;
  guint32 uid = 0;
  int signo = 0;

  if (!helper_caller_get_uid (invocation, &uid, &error) ||
      !banger_vm_name_validate (vm, &error) ||
      !launch_signal_parse (signal_name, &signo, &error) ||
      !launch_signal (uid, vm, signo, &error))
    return fail (invocation, error);

  banger_helper1_complete_signal (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

gboolean
helper_handle_kill (BangerHelper1         *skeleton,
                    GDBusMethodInvocation *invocation,
                    const char            *vm,
                    gpointer               user_data)
{
  GError *error = NULL;
  guint32 uid = 0;

  if (!helper_caller_get_uid (invocation, &uid, &error) ||
      !banger_vm_name_validate (vm, &error) ||
      !launch_kill (uid, vm, &error))
    return fail (invocation, error);

  banger_helper1_complete_kill (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

gboolean
helper_handle_cleanup_jail (BangerHelper1         *skeleton,
                            GDBusMethodInvocation *invocation,
                            const char            *vm,
                            gpointer               user_data)
{
  GError *error = NULL;
  guint32 uid = 0;

  if (!helper_caller_get_uid (invocation, &uid, &error) ||
      !banger_vm_name_validate (vm, &error) ||
      !launch_cleanup_jail (uid, vm, &error))
    return fail (invocation, error);

  banger_helper1_complete_cleanup_jail (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}
