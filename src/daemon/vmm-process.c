/* vmm-process.c: spawning, adopting and watching VMM processes. Exit is
 * noticed through the pidfd becoming readable, which works for children
 * and for processes adopted from an earlier bangerd alike. */
#define G_LOG_DOMAIN "bangerd-vmm"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gi18n.h>

#include "banger-error.h"
#include "vmm-process.h"

/* SIGKILL cannot be ignored; this bound is only for seeing the exit. */
#define KILLED_EXIT_TIMEOUT_MS 10000

struct _VmmProcess {
  int                 pid;
  int                 pidfd;
  guint64             start_time;
  gboolean            is_child;
  gboolean            exited;
  int                 wait_status;
  guint               fd_watch;
  guint               notify_idle;
  VmmProcessExitFunc  exit_func;
  gpointer            exit_data;
  /* Callbacks run from notify_exit may free the process; the free then
   * waits until they are all done. */
  gboolean            notifying;
  gboolean            free_pending;
  GPtrArray          *waiters;     /* GTask */
};

static int
pidfd_open_checked (int      pid,
                    GError **error)
{
  int fd = (int) syscall (SYS_pidfd_open, pid, 0);

  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("Cannot watch process %d: %s"), pid, g_strerror (saved));
    }
  return fd;
}

guint64
vmm_process_read_start_time (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *text = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after_comm;
  guint64 value = 0;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  /* comm may contain spaces and parentheses; fields resume after the last ')'. */
  after_comm = strrchr (text, ')');
  if (after_comm == NULL)
    return 0;
  fields = g_strsplit (after_comm + 2, " ", 0);
  /* After comm, field 3 (state) is index 0, so field 22 is index 19. */
  if (g_strv_length (fields) < 20 ||
      !g_ascii_string_to_unsigned (fields[19], 10, 1, G_MAXUINT64, &value, NULL))
    return 0;
  return value;
}

char *
vmm_process_describe_exit (int wait_status)
{
  if (wait_status >= 0 && WIFEXITED (wait_status))
    return g_strdup_printf (_("exited with status %d"), WEXITSTATUS (wait_status));
  if (wait_status >= 0 && WIFSIGNALED (wait_status))
    return g_strdup_printf (_("was killed by signal %d (%s)"), WTERMSIG (wait_status),
                            g_strsignal (WTERMSIG (wait_status)));
  return g_strdup (_("exited"));
}

typedef struct {
  VmmProcess *process;
  GSource    *timeout;
} WaitData;

static void
wait_data_stop_timeout (WaitData *data)
{
  if (data->timeout != NULL)
    {
      g_source_destroy (data->timeout);
      g_clear_pointer (&data->timeout, g_source_unref);
    }
}

static void
wait_data_free (WaitData *data)
{
  wait_data_stop_timeout (data);
  g_free (data);
}

/* Completes every pending wait with @exited (TRUE) or an error. */
static void
finish_waiters (VmmProcess *process,
                gboolean    exited)
{
  g_autoptr(GPtrArray) waiters = g_steal_pointer (&process->waiters);

  process->waiters = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < waiters->len; i++)
    {
      GTask *task = waiters->pdata[i];

      wait_data_stop_timeout (g_task_get_task_data (task));
      if (exited)
        g_task_return_boolean (task, TRUE);
      else
        g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                                 "%s", _("No longer watching the process"));
    }
}

static void process_free_now (VmmProcess *process);

static void
notify_exit (VmmProcess *process)
{
  VmmProcessExitFunc func = process->exit_func;

  process->exit_func = NULL;
  process->notifying = TRUE;
  finish_waiters (process, TRUE);
  if (func != NULL && !process->free_pending)
    func (process, process->wait_status, process->exit_data);
  process->notifying = FALSE;
  if (process->free_pending)
    process_free_now (process);
}

static gboolean
on_pidfd_readable (int          fd,
                   GIOCondition condition,
                   gpointer     user_data)
{
  VmmProcess *process = user_data;

  process->fd_watch = 0;
  process->exited = TRUE;
  process->wait_status = -1;
  if (process->is_child)
    {
      int status;

      /* Reap it: bangerd is the parent of the VMMs it spawned. */
      if (waitpid (process->pid, &status, WNOHANG) == process->pid)
        process->wait_status = status;
    }
  notify_exit (process);
  return G_SOURCE_REMOVE;
}

static VmmProcess *
process_new (int      pid,
             int      pidfd,
             gboolean is_child)
{
  VmmProcess *process = g_new0 (VmmProcess, 1);

  process->pid = pid;
  process->pidfd = pidfd;
  process->is_child = is_child;
  process->wait_status = -1;
  process->waiters = g_ptr_array_new_with_free_func (g_object_unref);
  process->fd_watch = g_unix_fd_add (pidfd, G_IO_IN, on_pidfd_readable, process);
  return process;
}

VmmProcess *
vmm_process_spawn (const char * const *argv,
                   const char         *cwd,
                   int                 log_fd,
                   GError            **error)
{
  return vmm_process_spawn_with_fd (argv, cwd, log_fd, -1, -1, error);
}

/* What the VMM starts with: stdin /dev/null, stdout and stderr the log,
 * @pass_fd as @pass_as, nothing else of bangerd's (its own descriptors are
 * close-on-exec, but whatever started bangerd may have left some open). */
static gboolean
spawn_actions_add (posix_spawn_file_actions_t *actions,
                   const char                 *cwd,
                   int                         null_fd,
                   int                         log_fd,
                   int                         pass_fd,
                   int                         pass_as)
{
  int keep = pass_fd >= 0 ? pass_as : 2;

  if (posix_spawn_file_actions_adddup2 (actions, null_fd, 0) != 0 ||
      posix_spawn_file_actions_adddup2 (actions, log_fd, 1) != 0 ||
      posix_spawn_file_actions_adddup2 (actions, log_fd, 2) != 0 ||
      posix_spawn_file_actions_addchdir_np (actions, cwd) != 0 ||
      /* The same number only clears close-on-exec (glibc 2.29 on). */
      (pass_fd >= 0 && posix_spawn_file_actions_adddup2 (actions, pass_fd, pass_as) != 0))
    return FALSE;
  /* Closing one that is not open is no error. */
  for (int fd = 3; fd < keep; fd++)
    if (posix_spawn_file_actions_addclose (actions, fd) != 0)
      return FALSE;
  return posix_spawn_file_actions_addclosefrom_np (actions, keep + 1) == 0;
}

VmmProcess *
vmm_process_spawn_with_fd (const char * const *argv,
                           const char         *cwd,
                           int                 log_fd,
                           int                 pass_fd,
                           int                 pass_as,
                           GError            **error)
{
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  sigset_t no_signals;
  int null_fd;
  pid_t pid;
  int pidfd;
  int err = ENOMEM;
  VmmProcess *process;

  g_return_val_if_fail (pass_fd < 0 || (pass_as > 2 && pass_as < 1024), NULL);

  null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0)
    {
      int saved = errno;
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, _("Cannot open /dev/null: %s"),
                   g_strerror (saved));
      return NULL;
    }

  /* posix_spawn rather than fork: glibc starts the child without copying
   * bangerd's page tables, so the main loop does not stall for it however
   * large bangerd grows. A session of its own keeps the VMM out of
   * bangerd's process group: neither a terminal hangup nor bangerd's
   * death reaches it. */
  sigemptyset (&no_signals);
  posix_spawnattr_init (&attr);
  posix_spawn_file_actions_init (&actions);
  if (posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK) == 0 &&
      posix_spawnattr_setsigmask (&attr, &no_signals) == 0 &&
      spawn_actions_add (&actions, cwd, null_fd, log_fd, pass_fd, pass_as))
    err = posix_spawn (&pid, argv[0], &actions, &attr, (char * const *) argv, environ);
  posix_spawn_file_actions_destroy (&actions);
  posix_spawnattr_destroy (&attr);
  close (null_fd);
  if (err != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, _("Cannot start %s: %s"),
                   argv[0], g_strerror (err));
      return NULL;
    }

  pidfd = pidfd_open_checked (pid, error);
  if (pidfd < 0)
    {
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      return NULL;
    }
  process = process_new (pid, pidfd, TRUE);
  process->start_time = vmm_process_read_start_time (pid);
  return process;
}

VmmProcess *
vmm_process_adopt (int       pid,
                   guint64   start_time,
                   GError  **error)
{
  int pidfd;

  if (pid <= 1 || start_time == 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, _("No process recorded"));
      return NULL;
    }
  pidfd = pidfd_open_checked (pid, error);
  if (pidfd < 0)
    return NULL;
  /* Checked after the pidfd is open: from here on the pid cannot be reused
   * under us, so a matching start time means it is the same process. */
  if (vmm_process_read_start_time (pid) != start_time)
    {
      close (pidfd);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                   _("Process %d is not the VMM that was started (its start time differs)"), pid);
      return NULL;
    }
  VmmProcess *process = process_new (pid, pidfd, FALSE);
  process->start_time = start_time;
  return process;
}

void
vmm_process_free (VmmProcess *process)
{
  if (process == NULL)
    return;
  if (process->notifying)
    {
      process->free_pending = TRUE;
      return;
    }
  process_free_now (process);
}

static void
process_free_now (VmmProcess *process)
{
  g_clear_handle_id (&process->fd_watch, g_source_remove);
  g_clear_handle_id (&process->notify_idle, g_source_remove);
  /* A child still running keeps running; bangerd re-adopts it later. */
  if (process->pidfd >= 0)
    close (process->pidfd);
  finish_waiters (process, FALSE);
  g_ptr_array_unref (process->waiters);
  g_free (process);
}

int
vmm_process_get_pid (VmmProcess *process)
{
  return process->pid;
}

guint64
vmm_process_get_start_time (VmmProcess *process)
{
  return process->start_time;
}

gboolean
vmm_process_has_exited (VmmProcess *process)
{
  return process->exited;
}

static gboolean
notify_from_idle (gpointer user_data)
{
  VmmProcess *process = user_data;

  process->notify_idle = 0;
  notify_exit (process);
  return G_SOURCE_REMOVE;
}

void
vmm_process_set_exit_func (VmmProcess         *process,
                           VmmProcessExitFunc  func,
                           gpointer            user_data)
{
  process->exit_func = func;
  process->exit_data = user_data;
  if (func != NULL && process->exited && process->notify_idle == 0)
    process->notify_idle = g_idle_add (notify_from_idle, process);
}

gboolean
vmm_process_signal (VmmProcess  *process,
                    int          signum,
                    GError     **error)
{
  if (process->exited)
    return TRUE;
  if (syscall (SYS_pidfd_send_signal, process->pidfd, signum, NULL, 0) < 0 && errno != ESRCH)
    {
      int saved = errno;
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("Cannot signal process %d: %s"), process->pid, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

static gboolean
on_wait_timeout (gpointer user_data)
{
  GTask *task = user_data;
  WaitData *data = g_task_get_task_data (task);

  g_clear_pointer (&data->timeout, g_source_unref);   /* destroyed by returning REMOVE */
  g_task_return_boolean (task, FALSE);
  g_ptr_array_remove (data->process->waiters, task);   /* drops the last ref */
  return G_SOURCE_REMOVE;
}

void
vmm_process_wait_async (VmmProcess          *process,
                        guint                timeout_ms,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  WaitData *data = g_new0 (WaitData, 1);

  g_task_set_source_tag (task, vmm_process_wait_async);
  data->process = process;
  g_task_set_task_data (task, data, (GDestroyNotify) wait_data_free);
  if (process->exited)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  data->timeout = g_timeout_source_new (timeout_ms);
  g_source_set_callback (data->timeout, on_wait_timeout, task, NULL);
  g_source_attach (data->timeout, g_main_context_get_thread_default ());
  g_ptr_array_add (process->waiters, task);
}

gboolean
vmm_process_wait_finish (VmmProcess    *process,
                         GAsyncResult  *result,
                         GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
on_killed_exit (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!vmm_process_wait_finish (g_task_get_task_data (task), result, &error) && error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, FALSE);
}

static void
kill_and_wait (GTask *task)
{
  VmmProcess *process = g_task_get_task_data (task);

  if (process->exited)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  vmm_process_signal (process, SIGKILL, NULL);
  vmm_process_wait_async (process, KILLED_EXIT_TIMEOUT_MS, on_killed_exit, task);
}

static void
on_grace_over (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (vmm_process_wait_finish (g_task_get_task_data (task), result, &error))
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  if (error != NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  kill_and_wait (task);
}

void
vmm_process_end_async (VmmProcess          *process,
                       guint                grace_ms,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);

  g_task_set_source_tag (task, vmm_process_end_async);
  g_task_set_task_data (task, process, NULL);
  if (grace_ms == 0)
    kill_and_wait (task);
  else
    vmm_process_wait_async (process, grace_ms, on_grace_over, task);
}

gboolean
vmm_process_end_finish (VmmProcess    *process,
                        GAsyncResult  *result,
                        GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
