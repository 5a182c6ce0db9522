/* kvm.h: whether this process can run guests with KVM. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define KVM_DEVICE "/dev/kvm"

/* "VMX" or "SVM" when the CPU offers hardware virtualization (on x86;
 * elsewhere always non-NULL), else NULL. */
const char *kvm_cpu_virtualization (void);

/* TRUE when @device (KVM_DEVICE for the real one) opens read-write,
 * answers KVM_GET_API_VERSION with the stable API (12) and the CPU offers
 * hardware virtualization; else FALSE with the reason in @error. */
gboolean kvm_check  (const char  *device,
                     GError     **error);
gboolean kvm_usable (GError     **error);

G_END_DECLS
