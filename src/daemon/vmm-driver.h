/* vmm-driver.h: the one interface every VMM driver implements. Code above
 * it (lifecycle, reconcile, D-Bus) never asks which driver it talks to. */
#pragma once

#include <gio/gio.h>

#include "vm-runtime.h"
#include "vmm-process.h"

G_BEGIN_DECLS

/* How the host reaches a qemu guest's agent ([qemu] agent-channel);
 * Firecracker always has its own vsock. */
typedef enum {
  VMM_AGENT_CHANNEL_AUTO,     /* vhost-vsock when usable, else virtio-serial */
  VMM_AGENT_CHANNEL_VSOCK,    /* vhost-vsock or a failed start */
  VMM_AGENT_CHANNEL_SERIAL,   /* a virtio-serial port */
} VmmAgentChannel;

/* Everything a driver needs to boot one VM; all paths absolute. */
typedef struct {
  const char *vm_name;
  const char *binary;        /* as configured: a name looked up in PATH, or a path */
  const char *state_dir;     /* the VM's disk and logs */
  const char *runtime_dir;   /* the VM's sockets, private, short */
  const char *kernel_path;
  const char *initrd_path;   /* NULL: none */
  const char *image_path;
  gboolean    image_read_only;   /* FALSE for a VM's private copy */
  const char *disk_path;
  guint       vcpus;
  guint64     memory_mib;
  const char *tap;
  const char *mac;
  const char *boot_args;
  /* Through the helper's jailer (Helper1.Launch) instead of as a child of
   * bangerd; the files above must then lie in the user's banger dirs. */
  gboolean    jailed;
  VmmAgentChannel agent_channel;
} VmmBootSpec;

typedef struct _VmmDriver VmmDriver;

/* A running (or launching) VMM. */
typedef struct {
  const VmmDriver *driver;
  VmmProcess      *process;
  char            *runtime_dir;
  gboolean         jailed;        /* the helper holds a jail and cgroup for it */
  gpointer         priv;          /* the driver's own state */
} VmmInstance;

struct _VmmDriver {
  const char *name;
  /* It can run through the helper's jailer (VmmBootSpec.jailed). */
  gboolean    supports_jail;

  /* Finds the binary and checks it is a version banger supports. */
  void          (*check_async)      (const char *binary, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
  char         *(*check_finish)     (GAsyncResult *result, GError **error); /* resolved path */

  /* Starts the process (argv only) and waits until it answers. */
  void          (*launch_async)     (const VmmBootSpec *spec, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
  VmmInstance  *(*launch_finish)    (GAsyncResult *result, GError **error);

  /* Machine, kernel, drives, network, agent channel. */
  void          (*configure_async)  (VmmInstance *instance, const VmmBootSpec *spec,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
  gboolean      (*configure_finish) (GAsyncResult *result, GError **error);

  /* Starts the guest and checks the VMM says it runs. */
  void          (*boot_async)       (VmmInstance *instance, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
  gboolean      (*boot_finish)      (GAsyncResult *result, GError **error);

  /* Asks the guest to power off and waits up to @timeout_ms for the VMM
   * to exit (0 or @force: not at all), then kills it. Never fails to end
   * the process; the error only reports what went wrong on the way. */
  void          (*shutdown_async)   (VmmInstance *instance, guint timeout_ms, gboolean force,
                                     GAsyncReadyCallback callback, gpointer user_data);
  gboolean      (*shutdown_finish)  (GAsyncResult *result, GError **error);

  /* After a bangerd restart: does the recorded process still answer as a
   * running VM? @process is taken over. */
  void          (*adopt_async)      (VmmProcess *process, const char *runtime_dir,
                                     GAsyncReadyCallback callback, gpointer user_data);
  VmmInstance  *(*adopt_finish)     (GAsyncResult *result, GError **error);

  /* Removes what the VMM leaves behind in @runtime_dir (it never removes
   * its own sockets). Only called once the process is gone. */
  void          (*cleanup)          (const char *runtime_dir);

  void          (*free_priv)        (gpointer priv);

  /* Kernel command-line words the guest needs to find the agent channel
   * of this driver ("banger.agent=vsock:52"); NULL when the driver adds
   * them itself because they depend on the launch (qemu). */
  const char     *kernel_args;

  /* A stream connected to the guest agent, carrying the agent's bytes
   * (any handshake of the transport already done). Fails while the guest
   * is not listening yet; callers retry. */
  void          (*agent_connect_async)  (VmmInstance *instance, GCancellable *cancellable,
                                         GAsyncReadyCallback callback, gpointer user_data);
  GIOStream    *(*agent_connect_finish) (GAsyncResult *result, GError **error);
};

const VmmDriver *vmm_driver_lookup   (const char  *name,
                                      GError     **error);

VmmInstance     *vmm_instance_new    (const VmmDriver *driver,
                                      VmmProcess      *process,
                                      const char      *runtime_dir,
                                      gpointer         priv);
void             vmm_instance_free   (VmmInstance     *instance);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VmmInstance, vmm_instance_free)

/* Picks the driver for @configured ("auto", "firecracker", "qemu"): auto
 * is firecracker when @firecracker_binary (a name in PATH or a path) is
 * found and /dev/kvm is usable, else qemu. @reason (optional) gets a short
 * sentence saying why, for logs and `banger vm show`. */
const VmmDriver *vmm_driver_choose   (const char  *configured,
                                      const char  *firecracker_binary,
                                      char       **reason,
                                      GError     **error);

/* The executable @binary names (as configured: a name looked up in PATH,
 * or a path), or NULL when there is none; the driver says what to do. */
char            *vmm_binary_find         (const char  *binary);

/* A driver's last binary that passed its version check, kept in
 * *@checked by what identifies the file (fs_file_identity): the check
 * costs a process start, so it runs once per binary, not per VM start;
 * replacing or touching the binary runs it again. */
gboolean         vmm_binary_was_checked  (char * const *checked,
                                          const char   *path);
void             vmm_binary_set_checked  (char        **checked,
                                          const char   *path);

/* The firecracker driver (vmm-firecracker.c). */
extern const VmmDriver vmm_driver_firecracker;

/* Its agent channel (vmm-firecracker-agent.c): the vsock UDS in the
 * runtime dir and Firecracker's "CONNECT port" handshake. */
#define VMM_FIRECRACKER_VSOCK_SOCKET   "vsock.sock"
#define VMM_FIRECRACKER_AGENT_KERNEL_ARGS "banger.agent=vsock:" G_STRINGIFY (BANGER_AGENT_VSOCK_PORT)
void       vmm_firecracker_agent_connect_async  (VmmInstance         *instance,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
GIOStream *vmm_firecracker_agent_connect_finish (GAsyncResult        *result,
                                                 GError             **error);
/* The same handshake on any connected stream (for tests and the above). */
void       vmm_firecracker_vsock_handshake_async  (GIOStream           *stream,
                                                   guint                port,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean   vmm_firecracker_vsock_handshake_finish (GAsyncResult        *result,
                                                   GError             **error);

/* The qemu driver (vmm-qemu.c): microvm, KVM when usable, else TCG. */
extern const VmmDriver vmm_driver_qemu;

G_END_DECLS
