/* vmm-process.h: a VMM process as bangerd sees it: spawned by argv or
 * re-adopted after a restart, identified by pid *and* start time, watched
 * and signalled through a pidfd so a recycled pid is never mistaken for it. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _VmmProcess VmmProcess;

/* @wait_status is the waitpid() status, or -1 when the process was adopted
 * (not our child), so its status is unknown. */
typedef void (*VmmProcessExitFunc) (VmmProcess *process,
                                    int         wait_status,
                                    gpointer    user_data);

/* Starts @argv in a new session (so it outlives bangerd), in @cwd, stdin
 * from /dev/null, stdout and stderr to @log_fd. */
VmmProcess *vmm_process_spawn     (const char * const *argv,
                                   const char         *cwd,
                                   int                 log_fd,
                                   GError            **error);
/* The same, and @pass_fd (if >= 0) is inherited as descriptor @pass_as
 * (> 2), such as a device qemu is told to use by number. */
VmmProcess *vmm_process_spawn_with_fd (const char * const *argv,
                                       const char         *cwd,
                                       int                 log_fd,
                                       int                 pass_fd,
                                       int                 pass_as,
                                       GError            **error);
/* Takes a process that is not our child back, if @pid still is the process
 * that started at @start_time. */
VmmProcess *vmm_process_adopt     (int                 pid,
                                   guint64             start_time,
                                   GError            **error);
void        vmm_process_free      (VmmProcess         *process);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VmmProcess, vmm_process_free)

int         vmm_process_get_pid         (VmmProcess *process);
guint64     vmm_process_get_start_time  (VmmProcess *process);
gboolean    vmm_process_has_exited      (VmmProcess *process);

/* Calls @func once when the process exits (at once, from an idle, if it
 * already has). Replaces an earlier watch; NULL removes it. */
void        vmm_process_set_exit_func   (VmmProcess         *process,
                                         VmmProcessExitFunc  func,
                                         gpointer            user_data);

gboolean    vmm_process_signal          (VmmProcess         *process,
                                         int                 signum,
                                         GError            **error);

/* Completes TRUE when the process exited within @timeout_ms, FALSE when the
 * timeout passed first. */
void        vmm_process_wait_async      (VmmProcess          *process,
                                         guint                timeout_ms,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
gboolean    vmm_process_wait_finish     (VmmProcess          *process,
                                         GAsyncResult        *result,
                                         GError             **error);

/* The end of every VMM: waits up to @grace_ms for the process to exit by
 * itself (0: not at all), else sends SIGKILL through the pidfd and waits
 * for the exit to be seen, so a child is reaped before this completes.
 * Completes TRUE when the process exited without being killed (or was gone
 * already), FALSE when it was killed; an error only when the process
 * stopped being watched (it was freed) on the way. */
void        vmm_process_end_async       (VmmProcess          *process,
                                         guint                grace_ms,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
gboolean    vmm_process_end_finish      (VmmProcess          *process,
                                         GAsyncResult        *result,
                                         GError             **error);

/* Field 22 of /proc/PID/stat (clock ticks since boot); 0 if unreadable. */
guint64     vmm_process_read_start_time (int pid);

/* "exited with status N" / "was killed by signal N" / "exited". */
char       *vmm_process_describe_exit   (int wait_status);

G_END_DECLS
