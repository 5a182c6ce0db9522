/* vhost-vsock.h: the host side of a qemu guest's AF_VSOCK channel through
 * the kernel's vhost-vsock device. A guest CID is unique host-wide, across
 * users; bangerd claims one by setting it on its own /dev/vhost-vsock
 * descriptor, which qemu then inherits (vhostfd=), so no other VM can take
 * it between the choice and the launch. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define VHOST_VSOCK_DEVICE "/dev/vhost-vsock"

/* Sets the guest CID of an open vhost-vsock descriptor; 0 or -1 with errno,
 * like the ioctl. Replaceable so the claim loop can be tested without the
 * device. */
typedef int (*VhostVsockSetCid) (int fd, guint64 cid);

/* Opens @device (VHOST_VSOCK_DEVICE for the real one) and claims a free
 * guest CID on it. Returns the descriptor (O_CLOEXEC) and the CID in
 * @cid, or -1 with a G_IO_ERROR/BANGER_ERROR_NOT_SUPPORTED error saying
 * why the device cannot be used. */
int       vhost_vsock_open_claimed  (const char        *device,
                                     guint32           *cid,
                                     GError           **error);

/* The claim loop itself: tries CIDs from @first on (wrapping inside the
 * range guests may use) until @set_cid accepts one; EADDRINUSE means
 * another VM has it. FALSE with an error after too many tries or on any
 * other failure. */
gboolean  vhost_vsock_claim_cid     (int                fd,
                                     guint32            first,
                                     VhostVsockSetCid   set_cid,
                                     guint32           *cid,
                                     GError           **error);

/* Connects to port @port of guest @cid over AF_VSOCK. Fails while the
 * guest does not listen yet (callers retry) and when the host has no
 * AF_VSOCK at all. */
void       vhost_vsock_connect_async  (guint32              cid,
                                       guint32              port,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data);
GIOStream *vhost_vsock_connect_finish (GAsyncResult        *result,
                                       GError             **error);

G_END_DECLS
