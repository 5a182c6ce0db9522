/* kvm.c: opening /dev/kvm is not enough (a container may give a node that
 * answers nothing), so the API version is asked too. */
#define G_LOG_DOMAIN "bangerd-vmm"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "banger-error.h"
#include "kvm.h"

/* From <linux/kvm.h>, which not every build host has. */
#define BANGER_KVMIO 0xAE
#define BANGER_KVM_GET_API_VERSION _IO (BANGER_KVMIO, 0x00)
#define BANGER_KVM_API_VERSION 12

gboolean
kvm_check (const char  *device,
           GError     **error)
{
  int fd = open (device, O_RDWR | O_CLOEXEC);
  int version;

  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                   _("%s is not usable (%s)"), device, g_strerror (saved));
      return FALSE;
    }
  version = ioctl (fd, BANGER_KVM_GET_API_VERSION, 0);
  if (version != BANGER_KVM_API_VERSION)
    {
      int saved = errno;
      close (fd);
      if (version < 0)
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                     _("%s is not usable (it does not answer KVM_GET_API_VERSION: %s)"),
                     device, g_strerror (saved));
      else
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                     _("%s is not usable (KVM API version %d, not %d)"),
                     device, version, BANGER_KVM_API_VERSION);
      return FALSE;
    }
  close (fd);
  return TRUE;
}

gboolean
kvm_usable (GError **error)
{
  return kvm_check (KVM_DEVICE, error);
}
