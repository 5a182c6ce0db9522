/* vmm-qemu.h: what the qemu driver's files share (vmm-qemu.c drives the
 * process, vmm-qemu-args.c builds its command line). */
#pragma once

#include "vmm-driver.h"

G_BEGIN_DECLS

/* Relative to the runtime dir, qemu's working directory: short paths
 * whatever $XDG_RUNTIME_DIR is, and nothing qemu's option parser could
 * misread. */
#define QEMU_QMP_SOCKET    "qmp.sock"
#define QEMU_AGENT_SOCKET  "agent.sock"
/* The virtio-serial port the guest agent opens, found by this name in
 * /sys/class/virtio-ports/ x/name. */
#define QEMU_AGENT_PORT    "dev.banger.agent"
#define QEMU_AGENT_KERNEL_ARGS "banger.agent=vport:" QEMU_AGENT_PORT

/* microvm with everything the command line uses (virtio-mmio serial, the
 * "server=on" spelling) is there from 7.0 on. */
#define QEMU_VERSION_MIN_MAJOR 7
#define QEMU_VERSION_MIN_MINOR 0

/* vmm-qemu-check.c: parses "QEMU emulator version 7.2.22 (Debian …)"; FALSE with a reason
 * when @output is not that. */
gboolean  qemu_version_parse      (const char  *output,
                                   guint       *major,
                                   guint       *minor,
                                   guint       *micro,
                                   GError     **error);

/* vmm-qemu-args.c: the host TSC rate in kHz from /proc/cpuinfo ("cpu MHz"), 0 if unknown. */
guint     qemu_host_tsc_khz       (void);

/* @boot_args plus what the qemu guest needs: the agent's port and, under
 * TCG with a known TSC rate, tsc_early_khz (without it some TCG boots hang
 * in timer calibration). Words already present are not repeated. */
char     *qemu_kernel_cmdline     (const char  *boot_args,
                                   gboolean     kvm,
                                   guint        tsc_khz);

/* "a,b" → "a,,b": how qemu's key=value options quote a comma. */
char     *qemu_opt_escape         (const char  *value);

/* vmm-qemu-check.c: resolves @binary (a name in PATH or a path) and checks
 * its version; the result is the resolved path. */
void      qemu_check_async        (const char          *binary,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data);
char     *qemu_check_finish       (GAsyncResult        *result,
                                   GError             **error);

/* The full argv (argv[0] = spec->binary), started paused (-S). */
GStrv     qemu_build_argv         (const VmmBootSpec *spec,
                                   gboolean           kvm,
                                   guint              tsc_khz);

G_END_DECLS
