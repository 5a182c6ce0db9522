/* image-registry.h: registered images and kernels as exported objects
 * (dev.banger.Image1, dev.banger.Kernel1); rows and objects change together. */
#pragma once

#include <gio/gio.h>

#include "daemon.h"
#include "image-store.h"

G_BEGIN_DECLS

#define DAEMON_IMAGE_PATH  DAEMON_OBJECT_PATH "/image"
#define DAEMON_KERNEL_PATH DAEMON_OBJECT_PATH "/kernel"

typedef struct _ImageRegistry ImageRegistry;

/* Reads the rows, exports one object per image and kernel, and removes
 * what a crash left behind (work dirs, downloads, unregistered files). */
ImageRegistry *image_registry_new    (Daemon         *daemon,
                                      GError        **error);
void           image_registry_free   (ImageRegistry  *registry);

const ImageRecord  *image_registry_lookup        (ImageRegistry *registry,
                                                  const char    *name);
const KernelRecord *image_registry_lookup_kernel (ImageRegistry *registry,
                                                  gint64         id);

/* Manager1.GetImage and Manager1.BuildImage. */
void image_registry_handle_get   (ImageRegistry         *registry,
                                  const char            *name,
                                  GDBusMethodInvocation *invocation);
void image_registry_handle_build (ImageRegistry         *registry,
                                  const char            *name,
                                  GVariant              *options,
                                  GDBusMethodInvocation *invocation);

G_END_DECLS
