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
#define QEMU_AGENT_SERIAL_KERNEL_ARGS "banger.agent=vport:" QEMU_AGENT_PORT
#define QEMU_AGENT_VSOCK_KERNEL_ARGS "banger.agent=vsock:" G_STRINGIFY (BANGER_AGENT_VSOCK_PORT)
/* qdev ids of the agent channel's device: after a bangerd restart, whether
 * qemu has agent-vsock (qom-list /machine/peripheral) says how to reach
 * the agent. */
#define QEMU_AGENT_SERIAL_ID "agent-serial"
#define QEMU_AGENT_VSOCK_ID  "agent-vsock"
/* The descriptor number qemu inherits the claimed /dev/vhost-vsock as. */
#define QEMU_VHOST_VSOCK_FD  3

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

/* @boot_args plus what the qemu guest needs: where the agent listens
 * (its vsock port with @vsock, else the virtio-serial port) and, under TCG
 * with a known TSC rate, tsc_early_khz (without it some TCG boots hang in
 * timer calibration). Words already present are not repeated. */
char     *qemu_kernel_cmdline     (const char  *boot_args,
                                   gboolean     kvm,
                                   guint        tsc_khz,
                                   gboolean     vsock);

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

/* The full argv (argv[0] = spec->binary), started paused (-S). With a
 * @vsock_cid (not 0) the agent channel is a vhost-vsock device on the
 * descriptor QEMU_VHOST_VSOCK_FD, else a virtio-serial port. */
GStrv     qemu_build_argv         (const VmmBootSpec *spec,
                                   gboolean           kvm,
                                   guint              tsc_khz,
                                   guint32            vsock_cid);

G_END_DECLS
