/* cmd-vm.h: the handlers of 'banger vm …' that live outside cmd-vm.c
 * (which holds the group's table), and what they share with it. */
#pragma once

#include <gio/gio.h>

#include "command.h"
#include "daemon-connection.h"
#include "job-watch.h"

G_BEGIN_DECLS

/* For errors of calls on one VM: explains @error, adds the next step
 * where the CLI knows it better, prints it; returns BANGER_EXIT_FAILED. */
int  banger_vm_fail         (GError                   *error,
                             const char               *name);

/* For commands on one existing VM: checks @name, connects and finds the
 * VM. Returns it with *@out_daemon set, or NULL after printing why, with
 * the exit status in *@status. */
BangerVM1 *banger_vm_lookup (const char               *name,
                             BangerDaemon            **out_daemon,
                             int                      *status);

/* cmd-vm-power.c */
int  banger_vm_start_run    (const BangerCommandGroup *group,
                             const BangerCommand      *command,
                             int                       argc,
                             char                    **argv);
int  banger_vm_stop_run     (const BangerCommandGroup *group,
                             const BangerCommand      *command,
                             int                       argc,
                             char                    **argv);
int  banger_vm_restart_run  (const BangerCommandGroup *group,
                             const BangerCommand      *command,
                             int                       argc,
                             char                    **argv);

/* What 'banger vm create' and 'banger vm run' take; NULL/FALSE = not given. */
typedef struct {
  char     *vcpus_text;
  char     *memory_text;
  char     *disk_text;
  char     *image;
  char     *kernel;
  char     *vmm;
  gboolean  nat;
} BangerVmCreateArgs;

/* cmd-vm.c: CreateVM; returns the new VM's object path. */
char *banger_vm_create_call (BangerDaemon              *daemon,
                             const char                *name,
                             const BangerVmCreateArgs  *args,
                             GError                   **error);

/* cmd-vm-power.c: Start as 'banger vm start' does it (progress bar on a
 * terminal, Ctrl-C cancels the start's job), without printing the result;
 * @step_changed (may be NULL) sees every change of the start's Job1. */
int  banger_vm_start_call   (BangerDaemon             *daemon,
                             BangerVM1                *vm,
                             const char               *name,
                             BangerJobWatchFunc        step_changed,
                             gpointer                  user_data);

/* cmd-vm-logs.c: prints the last @max_lines lines of the console log of
 * @vm to stderr under a heading; nothing if it has none (never launched). */
void banger_vm_print_console_tail (BangerVM1              *vm,
                                   const char             *name,
                                   guint                   max_lines);

/* cmd-vm-exec.c */
int  banger_vm_exec_run     (const BangerCommandGroup *group,
                             const BangerCommand      *command,
                             int                       argc,
                             char                    **argv);
/* Runs @command through VM1.Exec with our stdio, forwarding Ctrl-C and
 * SIGTERM; returns its exit status, or BANGER_EXIT_FAILED after printing
 * why it could not run. */
int  banger_vm_exec_command (BangerVM1                *vm,
                             const char               *name,
                             const char *const        *command,
                             const char *const        *env,
                             const char               *cwd);
/* The index of the first word after the first "--" in @argv, 0 if none. */
int  banger_split_command   (int                       argc,
                             char                    **argv);

/* cmd-vm-run.c */
int  banger_vm_run_run      (const BangerCommandGroup *group,
                             const BangerCommand      *command,
                             int                       argc,
                             char                    **argv);

/* cmd-vm-logs.c */
int  banger_vm_logs_run     (const BangerCommandGroup *group,
                             const BangerCommand      *command,
                             int                       argc,
                             char                    **argv);

G_END_DECLS
