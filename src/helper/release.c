/* release.c: dev.banger.Helper1.ReleaseAll, bangerd's crash recovery:
 * everything the helper holds for the calling uid goes, and nothing else. */
#define G_LOG_DOMAIN "banger-helper-release"

#include "config.h"

#include "banger-error.h"

#include "helper-config.h"
#include "helper-methods.h"
#include "launch-ops.h"
#include "net-ops.h"

/* Authorized by authz.c (dev.banger.helper.network, never interactive)
 * before it runs, on a worker thread, inside the call's op. */
gboolean
helper_handle_release_all (BangerHelper1         *skeleton,
                           GDBusMethodInvocation *invocation,
                           gpointer               user_data)
{
  g_autoptr(GPtrArray) released = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) net_error = NULL;
  guint32 uid = 0;

  /* Validate: no arguments; every resource is matched by the bus uid. */
  if (!helper_caller_get_uid (invocation, &uid, &error))
    return helper_reply_error (invocation, error);

  /* Processes and jails first: a VMM still running would hold its tap.
   * Both halves run even if the first fails, so as much as possible goes;
   * the first error is reported. */
  /* Without a configured jailer the helper launches nothing, so there
   * are no jails or VM cgroups to look for (and no jail base to trust). */
  if (helper_config_get ()->jailer != NULL)
    launch_release_all (uid, released, &error);
  net_release_all (uid, released, &net_error);
  if (error == NULL)
    error = g_steal_pointer (&net_error);

  for (guint i = 0; i < released->len; i++)
    g_info ("released %s of uid %u", (const char *) released->pdata[i], uid);
  if (error != NULL)
    return helper_reply_error (invocation, error);

  g_ptr_array_add (released, NULL);
  banger_helper1_complete_release_all (skeleton, invocation,
                                       (const char *const *) released->pdata);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}
