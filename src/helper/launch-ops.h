/* launch-ops.h: the helper's launch operations (Launch, Signal, Kill,
 * CleanupJail, and ReleaseAll's share), one call each, no D-Bus. */
#pragma once

#include <glib.h>

#include "launch-spec.h"
#include "user-files.h"

G_BEGIN_DECLS

/* Every operation reads the helper's global configuration
 * (helper_config_get()). The uid is always the bus caller's. */

/* Launches the configured jailer for @caller's VM @vm with the files of
 * @spec: checks the jailer and firecracker, opens every file for @caller,
 * creates cgroup banger/UID/VM (BUSY if it has processes), prepares the
 * jail, and starts the jailer in that cgroup as @caller->uid/gid with a
 * new pid namespace. @out_pid: the jailer's pid, which the caller must
 * reap. @out_jail_root: the jail's root directory (api.sock is in it).
 * NOT_SUPPORTED when no jailer is configured or @caller is root. */
gboolean launch_vm          (const LaunchCaller  *caller,
                             const char          *vm,
                             const LaunchSpec    *spec,
                             GPid                *out_pid,
                             char               **out_jail_root,
                             GError             **error);

/* Sends @signo to the processes of banger/@uid/@vm only. NOT_FOUND if the
 * cgroup does not exist. */
gboolean launch_signal      (guint32       uid,
                             const char   *vm,
                             int           signo,
                             GError      **error);

/* cgroup.kill on banger/@uid/@vm. NOT_FOUND if the cgroup does not exist. */
gboolean launch_kill        (guint32       uid,
                             const char   *vm,
                             GError      **error);

/* Removes @uid's jail of @vm and its (empty) cgroup. BUSY while the
 * cgroup has processes; nothing there is success. */
gboolean launch_cleanup_jail (guint32      uid,
                              const char  *vm,
                              GError     **error);

/* For ReleaseAll: kills every cgroup below banger/@uid, waits (bounded)
 * for them to empty, removes every jail of @uid and then the cgroups.
 * Appends "jail:VM" and "cgroup:VM" (g_strdup'ed) to @released for each
 * thing removed. Goes on past a failing VM and reports the first error. */
gboolean launch_release_all (guint32      uid,
                             GPtrArray   *released,
                             GError     **error);

/* For tests only: called by launch_vm after the caller's files are opened
 * and checked, before anything uses them. */
typedef void (*LaunchTestHook) (gpointer user_data);
void     launch_set_test_hook (LaunchTestHook hook,
                               gpointer       user_data);

G_END_DECLS
