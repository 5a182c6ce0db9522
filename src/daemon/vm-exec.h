/* vm-exec.h: VM1.Exec and VM1.SignalExec, commands run in a guest through
 * its agent with the caller's descriptors. */
#pragma once

#include <gio/gio.h>
#include <gio/gunixfdlist.h>

#include "daemon.h"

G_BEGIN_DECLS

/* "handle-exec" and "handle-signal-exec" of a VM's BangerVM1; @vm is the
 * signal's user data. */
gboolean vm_exec_handle_exec   (BangerVM1             *iface,
                                GDBusMethodInvocation *invocation,
                                GUnixFDList           *fd_list,
                                const char *const     *argv,
                                GVariant              *options,
                                GVariant              *stdin_handle,
                                GVariant              *stdout_handle,
                                GVariant              *stderr_handle,
                                VmObject              *vm);
gboolean vm_exec_handle_signal (BangerVM1             *iface,
                                GDBusMethodInvocation *invocation,
                                const char            *id,
                                const char            *signal_name,
                                VmObject              *vm);

G_END_DECLS
