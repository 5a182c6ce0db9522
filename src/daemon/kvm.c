/* kvm.c: opening /dev/kvm is not enough. A container may give a node that
 * answers nothing, so the API version is asked too; and a KVM on a CPU
 * without hardware virtualization (PVM, in a cloud VM without nested
 * virtualization) answers like the real one but boots only kernels built
 * for it, so qemu and Firecracker fail with it. */
#define G_LOG_DOMAIN "bangerd-vmm"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include <glib/gi18n.h>

#include "banger-error.h"
#include "kvm.h"

/* From <linux/kvm.h>, which not every build host has. */
#define BANGER_KVMIO 0xAE
#define BANGER_KVM_GET_API_VERSION _IO (BANGER_KVMIO, 0x00)
#define BANGER_KVM_API_VERSION 12

/* CPUID feature bits (Intel SDM vol. 2A, AMD APM vol. 3), which not
 * every compiler's <cpuid.h> names. */
#define CPUID_1_ECX_VMX (1u << 5)
#define CPUID_80000001_ECX_SVM (1u << 2)

const char *
kvm_cpu_virtualization (void)
{
#if defined(__x86_64__) || defined(__i386__)
  unsigned int eax, ebx, ecx, edx;

  if (__get_cpuid (1, &eax, &ebx, &ecx, &edx) && (ecx & CPUID_1_ECX_VMX) != 0)
    return "VMX";
  if (__get_cpuid (0x80000001, &eax, &ebx, &ecx, &edx) && (ecx & CPUID_80000001_ECX_SVM) != 0)
    return "SVM";
  return NULL;
#else
  /* KVM elsewhere has no such look-alike; the device check decides. */
  return "hardware";
#endif
}

gboolean
kvm_check (const char  *device,
           GError     **error)
{
  int fd = open (device, O_RDWR | O_CLOEXEC);
  int version;

  if (fd < 0)
    {
      int saved = errno;
      if (saved == EACCES || saved == EPERM)
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                     _("%s is not usable by you (%s; are you in its group, usually kvm?)"),
                     device, g_strerror (saved));
      else
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
  if (kvm_cpu_virtualization () == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                   _("%s is not usable (the CPU offers no hardware virtualization, "
                     "VMX or SVM, so this KVM cannot boot a standard kernel)"),
                   device);
      return FALSE;
    }
  return TRUE;
}

gboolean
kvm_usable (GError **error)
{
  return kvm_check (KVM_DEVICE, error);
}
