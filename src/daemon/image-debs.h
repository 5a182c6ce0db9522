/* image-debs.h: finding the Debian packages an image build needs: in a
 * fixed directory ([images] debs), else in banger's cache, filled by
 * `apt-get download`. Blocking; runs in the build's worker thread. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define IMAGE_DEBS_KERNEL_META "linux-image-cloud-amd64"
#define IMAGE_DEBS_BUSYBOX     "busybox-static"

/* Runs @argv (cwd @cwd or NULL) and returns its stdout; the error carries
 * its stderr. Cancelling kills the process. */
char    *image_run              (const char *const  *argv,
                                 const char         *cwd,
                                 GCancellable       *cancellable,
                                 GError            **error);

/* image_run() with @env, NAME, VALUE pairs ending in NULL, added to the
 * environment. */
char    *image_run_env          (const char *const  *argv,
                                 const char         *cwd,
                                 const char *const  *env,
                                 GCancellable       *cancellable,
                                 GError            **error);

/* The path of the .deb of @package: for IMAGE_DEBS_KERNEL_META, of the
 * versioned kernel package it depends on. *out_label is "PACKAGE VERSION". */
char    *image_debs_get         (const char         *package,
                                 const char         *debs_dir,
                                 const char         *cache_dir,
                                 char              **out_label,
                                 GCancellable       *cancellable,
                                 GError            **error);

G_END_DECLS
