/* cmd-vm.h: the handlers of 'banger vm …' that live outside cmd-vm.c
 * (which holds the group's table), and what they share with it. */
#pragma once

#include <gio/gio.h>

#include "command.h"

G_BEGIN_DECLS

/* Exit status after Ctrl-C, as shells report a SIGINT death (128 + 2). */
#define BANGER_EXIT_INTERRUPTED 130

/* For errors of calls on one VM: explains @error, adds the next step
 * where the CLI knows it better, prints it; returns BANGER_EXIT_FAILED. */
int  banger_vm_fail         (GError                   *error,
                             const char               *name);

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

/* cmd-vm-logs.c */
int  banger_vm_logs_run     (const BangerCommandGroup *group,
                             const BangerCommand      *command,
                             int                       argc,
                             char                    **argv);

G_END_DECLS
