/* image-build.h: building a small root image and its kernel offline from
 * Debian packages, in a worker thread; the registry registers the result. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  char *name;
  char *data_dir;      /* $XDG_DATA_HOME/banger: images/ and kernels/ */
  char *cache_dir;     /* $XDG_CACHE_HOME/banger/debs */
  char *debs_dir;      /* [images] debs: the only source of packages; NULL: apt */
  char *agent_path;    /* the guest agent to install, NULL when there is none */
} ImageBuildParams;

void image_build_params_free (ImageBuildParams *params);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImageBuildParams, image_build_params_free)

/* Written by the worker, read by the main loop to update the Job1. */
typedef struct {
  GMutex  lock;
  char   *step;
  char   *description;
  double  fraction;
  guint   serial;      /* bumped on every change */
} ImageBuildProgress;

ImageBuildProgress *image_build_progress_new  (void);
void                image_build_progress_free (ImageBuildProgress *progress);
/* Copies the current values out if they changed since *serial. */
gboolean            image_build_progress_read (ImageBuildProgress *progress,
                                               guint              *serial,
                                               char              **step,
                                               char              **description,
                                               double             *fraction);

typedef struct {
  char    *work_dir;         /* everything below is inside it; remove when done */
  char    *kernel_sha256;
  char    *kernel_release;
  char    *kernel_dir;       /* staged kernels/<sha256>; NULL when already installed */
  char    *image_sha256;
  char    *image_file;       /* staged images/<sha256>.ext4, mode 0444 */
  guint64  image_size;
  char    *source;
} ImageBuildResult;

void image_build_result_free (ImageBuildResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImageBuildResult, image_build_result_free)

/* On failure or cancellation nothing is left behind. */
void              image_build_async  (const ImageBuildParams *params,
                                      ImageBuildProgress     *progress,
                                      GCancellable           *cancellable,
                                      GAsyncReadyCallback     callback,
                                      gpointer                user_data);
ImageBuildResult *image_build_finish (GAsyncResult           *result,
                                      GError                **error);

/* Names of the leftovers a crash can leave in images/ and the deb cache. */
#define IMAGE_BUILD_WORK_PREFIX     ".building-"
#define IMAGE_BUILD_DOWNLOAD_PREFIX ".download-"

G_END_DECLS
