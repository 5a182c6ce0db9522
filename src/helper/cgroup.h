/* cgroup.h: the helper's cgroups, banger/UID/VM below the cgroup2 root:
 * where launched VMMs live, and the only processes Signal and Kill reach. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Opens the cgroup2 hierarchy at @cgroup_root (no symlinks on the way).
 * NOT_SUPPORTED if it is NULL or not a cgroup2 filesystem. */
int      vm_cgroup_root_open   (const char  *cgroup_root,
                                GError     **error);

/* "/banger/UID/VM": the cgroup's path as /proc/PID/cgroup shows it. */
char    *vm_cgroup_path        (guint32      uid,
                                const char  *vm);

/* Opens banger/@uid/@vm below @root_fd, creating it (root-owned, 0755)
 * with @create; else NOT_FOUND when it does not exist. */
int      vm_cgroup_open        (int          root_fd,
                                guint32      uid,
                                const char  *vm,
                                gboolean     create,
                                GError     **error);

/* Whether the cgroup (or a descendant) has a process (cgroup.events). */
gboolean vm_cgroup_populated   (int          cg_fd,
                                gboolean    *out_populated,
                                GError     **error);

/* Polls until the cgroup is empty, for at most @timeout_ms. BUSY if not. */
gboolean vm_cgroup_wait_empty  (int          cg_fd,
                                guint        timeout_ms,
                                GError     **error);

/* Sends @signo to each process of the cgroup, and to nothing else: each
 * pid from cgroup.procs is pinned with a pidfd, re-checked to be in
 * @cg_path (/proc/PID/cgroup) while pinned, then signalled through the
 * pidfd. Returns how many were signalled in @out_count (may be NULL). */
gboolean vm_cgroup_signal      (int          cg_fd,
                                const char  *cg_path,
                                int          signo,
                                guint       *out_count,
                                GError     **error);

/* Kills every process of the cgroup at once (cgroup.kill); falls back to
 * vm_cgroup_signal (SIGKILL) on kernels without cgroup.kill. */
gboolean vm_cgroup_kill        (int          cg_fd,
                                const char  *cg_path,
                                GError     **error);

/* Removes banger/@uid/@vm (an empty cgroup). TRUE if it is gone, with
 * @out_removed saying whether it existed. BUSY while it has processes. */
gboolean vm_cgroup_remove      (int          root_fd,
                                guint32      uid,
                                const char  *vm,
                                gboolean    *out_removed,
                                GError     **error);

/* The VM names that have a cgroup below banger/@uid (may be empty). */
GPtrArray *vm_cgroup_list      (int          root_fd,
                                guint32      uid,
                                GError     **error);

/* Removes banger/@uid itself if it is empty; quietly does nothing else. */
void     vm_cgroup_remove_uid  (int          root_fd,
                                guint32      uid);

/* For tests only: called after cgroup.procs was read and before any of
 * its pids is pinned, so a test can move a listed process out. */
typedef void (*VmCgroupTestHook) (gpointer user_data);
void     vm_cgroup_set_test_hook (VmCgroupTestHook hook,
                                  gpointer         user_data);

G_END_DECLS
