/* exec-check.h: the checks that make the configured jailer and firecracker
 * the only programs Launch can run, and only as root installed them. */
#pragma once

#include <sys/stat.h>

#include <glib.h>

G_BEGIN_DECLS

/* The policy for the program file itself: a regular file owned by root,
 * not writable by group or others, executable by its owner. */
gboolean exec_check_file_stat (const char         *path,
                               const struct stat  *st,
                               GError            **error);

/* Opens @path (from the helper's configuration) for execution with
 * fexecve(): every directory from "/" reached without a symlink and owned
 * by root, writable by nobody else; the file passes exec_check_file_stat().
 * Returns an O_PATH|O_CLOEXEC fd, or -1 with NOT_SUPPORTED (a setup the
 * administrator must fix, a missing file included). Executing the fd, not the path,
 * means the checked file is the executed one. */
int      exec_check_open      (const char  *path,
                               GError     **error);

G_END_DECLS
