/* boot-config.h: a VM's identity and boot settings (name, addresses, SSH key,
 * agent port), checked as if hostile and written as the guest's vm.conf. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define BOOT_CONFIG_VERSION        1
#define BOOT_CONFIG_RESOLVERS_MAX  8
#define BOOT_CONFIG_SSH_KEY_MAX    8192

/* Everything banger-init needs to bring a guest up; docs/boot-config.md
 * describes the file this becomes. */
typedef struct {
  char  *hostname;           /* the VM name, a DNS label */
  char  *ipv4_address;       /* dotted quad */
  guint  ipv4_prefix;        /* 1..30 */
  char  *gateway;            /* dotted quad */
  char  *mac;                /* xx:xx:xx:xx:xx:xx lowercase */
  char **resolvers;          /* NULL-terminated dotted quads, may be NULL or empty */
  char  *ssh_authorized_key; /* one OpenSSH public key line or NULL */
  guint  agent_vsock_port;   /* e.g. 52 */
} BootConfig;

BootConfig *boot_config_new       (void);
void        boot_config_free      (BootConfig        *config);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BootConfig, boot_config_free)

gboolean    boot_config_validate  (const BootConfig  *config,
                                   GError           **error);

/* The vm.conf text of a config that passed boot_config_validate(). */
char       *boot_config_serialize (const BootConfig  *config,
                                   gsize             *out_len);

G_END_DECLS
