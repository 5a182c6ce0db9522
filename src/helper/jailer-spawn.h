/* jailer-spawn.h: starts the checked jailer from its fd, already inside
 * the VM's cgroup, with a clean environment and no inherited fds. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Forks; the child writes "0" to @cgroup_procs_fd (moving itself into the
 * VM's cgroup), resets signals, sets umask 077, points stdio at /dev/null,
 * closes every other fd and execs the program behind @exec_fd (fexecve:
 * the file that was checked, whatever its path now holds) with @argv and
 * an empty environment. Returns once the exec succeeded (or failed, with
 * the child reaped and @error set); the caller reaps the returned pid. */
gboolean jailer_spawn (int                exec_fd,
                       const char *const *argv,
                       int                cgroup_procs_fd,
                       GPid              *out_pid,
                       GError           **error);

G_END_DECLS
