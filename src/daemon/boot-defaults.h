/* boot-defaults.h: the config file's keys about booting VMs: default image,
 * kernel and NAT, the subnet, the resolvers, the VMM binaries and what
 * the guest kernel writes to the console. */
#pragma once

#include <glib.h>

#include "vm-network.h"
#include "vmm-driver.h"

G_BEGIN_DECLS

/* [firecracker] jailer: when Firecracker runs through the helper's jailer. */
typedef enum {
  JAILER_AUTO,     /* when /dev/kvm exists but the user cannot open it */
  JAILER_ALWAYS,
  JAILER_NEVER,
} JailerMode;

typedef struct {
  char     *image;          /* [vm-defaults] image, "" when unset */
  char     *kernel;         /* [vm-defaults] kernel, "" when unset */
  gboolean  nat;            /* [vm-defaults] nat */
  Subnet    subnet;         /* [network] subnet */
  char    **resolvers;      /* [network] resolvers, else the host's */
  char     *vmm;            /* [vm-defaults] vmm: auto, firecracker or qemu */
  char     *firecracker;    /* [firecracker] binary */
  char     *qemu;           /* [qemu] binary */
  VmmAgentChannel qemu_agent_channel;   /* [qemu] agent-channel */
  JailerMode jailer;        /* [firecracker] jailer */
  gboolean  kernel_messages_all; /* [guest] kernel-messages = all, not warnings */
  char     *ssh_key;        /* the user's public key for the guest, or NULL */
} BootDefaults;

void     boot_defaults_clear (BootDefaults *defaults);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (BootDefaults, boot_defaults_clear)

/* The configured binary of the VMM driver named @driver. */
const char *boot_defaults_binary_for (const BootDefaults *defaults,
                                      const char         *driver);

gboolean boot_defaults_load  (const char   *path,
                              BootDefaults *out,
                              GError      **error);

/* Absolute, normalised, no "..": what an Image or Kernel value must be. */
gboolean boot_defaults_check_file_path (const char  *what,
                                        const char  *path,
                                        GError     **error);

G_END_DECLS
