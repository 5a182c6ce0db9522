/* launch-fixture.h: the shared fixture of the launch host tests (root):
 * a private tree, fake programs, a user, cgroup and process helpers. */
#pragma once

#include <sys/types.h>

#include <glib.h>

#include "launch-spec.h"
#include "user-files.h"

/* Everything a run makes lives below top and under the cgroups
 * banger/test_uid and banger/other_uid. */
extern char    *top;
extern guint32  test_uid, test_gid, other_uid;
extern char    *cgroup_root;

typedef struct {
  char         *dir;
  char         *bin;
  char         *jailer;
  char         *firecracker;
  char         *jail_base;
  char         *home;
  char         *state;
  char         *images;
  char         *kernel;
  char         *initrd;
  char         *rootfs;
  char         *data;
  char         *secret;     /* root's, 0600: what an attacker wants */
  char         *vm;
  LaunchCaller  caller;
} Fixture;

/* Files, waiting, cgroups and bystander processes. */
char *read_text (const char *path);
void write_text (const char *path, const char *text);
gboolean wait_for (gboolean (*cond) (gconstpointer), gconstpointer data, guint timeout_ms);
gboolean file_exists (gconstpointer path);
char *cgroup_dir (guint32 uid, const char *vm);
char *cgroup_uid_dir (guint32 uid);
gboolean cgroup_empty (gconstpointer dir);
gboolean pid_listed (const char *dir, pid_t pid);
void move_to_cgroup (const char *dir, pid_t pid);
pid_t spawn_bystander (uid_t uid, const char *dir);
gboolean bystander_alive (pid_t pid);
void bystander_end (pid_t pid);
void copy_file (const char *from, const char *to, mode_t mode);
void make_user_dir (const char *path);
char *make_user_file (const char *dir, const char *name, const char *content);
gboolean same_inode (const char *a, const char *b);
/* Kills banger/test_uid and banger/other_uid, unmounts below @dir, removes it. */
void cleanup_everything (const char *dir);

/* Per test: a private tree with the fake programs, the config, a home.
 * set_config() makes the helper's configuration name the fake programs
 * (or no jailer) and @jail_base. */
void set_config (Fixture *fx, const char *jail_base, gboolean with_jailer);
void fixture_setup (Fixture *fx, gconstpointer data);
void fixture_teardown (Fixture *fx, gconstpointer data);
LaunchSpec *make_spec (const char *kernel, const char *initrd, const char *rootfs, const char *data);
LaunchSpec *fixture_spec (Fixture *fx);
char *launch_ok (Fixture *fx, const char *vm, LaunchSpec *spec, pid_t *out_vmm);
char *proc_field (pid_t pid, const char *file, const char *prefix);
void kill_and_wait (Fixture *fx, const char *vm);

/* Per run: from main(), around g_test_run(). */
gboolean launch_fixture_init (void);
void launch_fixture_finish (void);
