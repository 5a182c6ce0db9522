/* vm-network.h: a VM's place on banger's bridge: its IPv4 address from the
 * configured subnet, and the MAC and tap name derived from it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VM_NETWORK_DEFAULT_SUBNET "172.30.0.0/24"

typedef struct {
  guint32 network;   /* host byte order */
  guint   prefix;    /* 16..29 */
} Subnet;

gboolean  subnet_parse            (const char    *text,
                                   Subnet        *out,
                                   GError       **error);
/* The bridge's (gateway's) address: the subnet's first host. */
guint32   subnet_gateway          (const Subnet  *subnet);
gboolean  subnet_contains         (const Subnet  *subnet,
                                   guint32        address);

char     *ipv4_to_string          (guint32        address);
gboolean  ipv4_parse              (const char    *text,
                                   guint32       *out,
                                   GError       **error);

/* The lowest host address of @subnet that is neither the gateway nor in
 * @taken (a set of host-order guint32 stored with GUINT_TO_POINTER). */
gboolean  subnet_allocate         (const Subnet  *subnet,
                                   GHashTable    *taken,
                                   guint32       *out_address,
                                   GError       **error);

/* 06:00 + the address' bytes: locally administered, unicast, unique
 * wherever the address is. */
char     *vm_network_mac_for      (guint32        address);
/* "bg-" + uid, "-", host number, both in base 36: unique per user and address,
 * at most 15 characters, within the helper's tap-name rules. */
char     *vm_network_tap_for      (guint32        uid,
                                   const Subnet  *subnet,
                                   guint32        address);

G_END_DECLS
