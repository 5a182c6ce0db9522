/* net-names.h: what an interface name and a VM address may be, checked
 * before any netlink or nftables call sees them. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Every tap banger-helper makes or touches starts with this. */
#define NET_TAP_PREFIX "bg-"

/* A kernel interface name (1-15 bytes, no '/', ':', whitespace, NUL,
 * not "." or ".."), restricted further to a-z, 0-9, '-'. With @prefix
 * non-NULL the name must also start with it and have more after it. */
gboolean net_validate_ifname (const char  *name,
                              const char  *prefix,
                              GError     **error);

/* A dotted-quad IPv4 host address inside @subnet_ip/@prefix_len that is
 * neither the network, the broadcast nor @subnet_ip (the bridge) itself. */
gboolean net_validate_vm_address (const char  *text,
                                  guint32      bridge_ip,
                                  guint        prefix_len,
                                  guint32     *out_ip,
                                  GError     **error);

G_END_DECLS
