/* jailer-spawn.c: fork and fexecve of the jailer, placed in the VM's
 * cgroup before it runs a single instruction of its own. */
#define G_LOG_DOMAIN "banger-helper-jailer-spawn"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <glib/gi18n.h>

#include "banger-error.h"

#include "jailer-spawn.h"
#include "safe-path.h"

/* What failed in the child, sent back over the CLOEXEC pipe with errno. */
enum {
  STEP_CGROUP = 1,
  STEP_STDIO,
  STEP_EXEC,
};

/* Between fork and exec in a threaded process only async-signal-safe
 * calls are allowed: no malloc, no locks, no GLib. */
static void G_GNUC_NORETURN
child_fail (int report_fd,
            int step)
{
  int msg[2] = { step, errno };

  (void) !write (report_fd, msg, sizeof msg);
  _exit (127);
}

static void G_GNUC_NORETURN
child_run (int                exec_fd,
           const char *const *argv,
           int                cgroup_procs_fd,
           int                devnull,
           int                report_fd)
{
  static const char *const envp[] = { NULL };
  struct sigaction dfl = { 0 };
  sigset_t all;

  /* First, before anything the program could do: into the VM's cgroup. */
  if (write (cgroup_procs_fd, "0", 1) != 1)
    child_fail (report_fd, STEP_CGROUP);

  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++)
    (void) sigaction (sig, &dfl, NULL);
  sigemptyset (&all);
  (void) sigprocmask (SIG_SETMASK, &all, NULL);

  umask (077);
  if (dup2 (devnull, 0) < 0 || dup2 (devnull, 1) < 0 || dup2 (devnull, 2) < 0)
    child_fail (report_fd, STEP_STDIO);

  /* Nothing of the helper's (bus socket, other calls' fds) survives exec.
   * The exec fd itself may be CLOEXEC: fexecve of an ELF file does not
   * need it after the exec. */
  if (syscall (SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    {
      struct rlimit lim = { 1024, 1024 };

      (void) getrlimit (RLIMIT_NOFILE, &lim);
      for (rlim_t fd = 3; fd < lim.rlim_cur && fd < 65536; fd++)
        (void) fcntl ((int) fd, F_SETFD, FD_CLOEXEC);
    }

  fexecve (exec_fd, (char *const *) argv, (char *const *) envp);
  child_fail (report_fd, STEP_EXEC);
}

gboolean
jailer_spawn (int                exec_fd,
              const char *const *argv,
              int                cgroup_procs_fd,
              GPid              *out_pid,
              GError           **error)
{
  g_auto(HelperFd) devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  g_auto(HelperFd) report_read = -1;
  g_auto(HelperFd) report_write = -1;
  int report[2], msg[2];
  ssize_t n;
  pid_t pid;

  if (devnull < 0 || pipe2 (report, O_CLOEXEC) < 0)
    {
      safe_path_set_errno_error (error, errno, _("Could not start %s"), argv[0]);
      return FALSE;
    }
  report_read = report[0];
  report_write = report[1];

  pid = fork ();
  if (pid < 0)
    {
      safe_path_set_errno_error (error, errno, _("Could not start %s"), argv[0]);
      return FALSE;
    }
  if (pid == 0)
    child_run (exec_fd, argv, cgroup_procs_fd, devnull, report_write);

  helper_fd_close (g_steal_fd (&report_write));
  /* EOF: the exec succeeded and closed the pipe. */
  do
    n = read (report_read, msg, sizeof msg);
  while (n < 0 && errno == EINTR);
  if (n == 0)
    {
      *out_pid = pid;
      return TRUE;
    }

  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
  if (n != sizeof msg)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("%s failed to start, and did not say why."), argv[0]);
      return FALSE;
    }
  switch (msg[0])
    {
    case STEP_CGROUP:
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("Could not place %s in the VM's cgroup: %s"), argv[0], g_strerror (msg[1]));
      break;
    case STEP_STDIO:
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("Could not set up the standard streams of %s: %s"), argv[0],
                   g_strerror (msg[1]));
      break;
    default:
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("Could not run %s: %s"), argv[0], g_strerror (msg[1]));
      break;
    }
  return FALSE;
}
