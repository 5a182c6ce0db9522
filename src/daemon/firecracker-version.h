/* firecracker-version.h: asks a Firecracker binary for its version and
 * refuses the ones whose API banger does not speak (older than 1.5.0). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define FIRECRACKER_VERSION_MIN_MAJOR 1
#define FIRECRACKER_VERSION_MIN_MINOR 5
#define FIRECRACKER_VERSION_TESTED_MAJOR 1
#define FIRECRACKER_VERSION_TESTED_MINOR 14
#define FIRECRACKER_VERSION_DEFAULT_TIMEOUT_MS 5000

typedef struct {
  guint major;
  guint minor;
  guint patch;
} FirecrackerVersion;

/* Parses the first line of `firecracker --version` output
 * ("Firecracker v1.14.4"); BANGER_ERROR_FAILED when it is not one. */
gboolean firecracker_version_parse (const char  *output,
                                    guint       *major,
                                    guint       *minor,
                                    guint       *patch,
                                    GError     **error);

/* BANGER_ERROR_NOT_SUPPORTED below 1.5.0; *out_tested (optional) is TRUE
 * for the 1.14.x series banger is tested with, so callers can warn. */
gboolean firecracker_version_check_supported (const char               *binary,
                                              const FirecrackerVersion *version,
                                              gboolean                 *out_tested,
                                              GError                  **error);

/* Runs `@binary --version` (stdin /dev/null, killed after @timeout_ms),
 * then parses and checks its output as above.  A missing or
 * non-executable binary is BANGER_ERROR_NOT_FOUND / BANGER_ERROR_FAILED. */
void     firecracker_version_check_async  (const char          *binary,
                                           guint                timeout_ms,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
gboolean firecracker_version_check_finish (GAsyncResult        *result,
                                           FirecrackerVersion  *out_version,
                                           gboolean            *out_tested,
                                           GError             **error);

G_END_DECLS
