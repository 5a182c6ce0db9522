/* launch-spec.h: the pure checks of Launch's and Signal's arguments: the
 * spec dictionary, path shapes and signal names. No filesystem; fuzzable. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* At most this many drives in one spec. */
#define LAUNCH_MAX_DRIVES 32

typedef struct {
  char     *path;        /* canonical absolute path, as the caller gave it */
  gboolean  read_only;
} LaunchDrive;

typedef struct {
  char      *kernel;     /* required */
  char      *initrd;     /* or NULL */
  GPtrArray *drives;     /* of LaunchDrive, in the caller's order */
} LaunchSpec;

void        launch_spec_free   (LaunchSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LaunchSpec, launch_spec_free)

/* Parses Launch's a{sv}: keys kernel (s, required), initrd (s), drives
 * (a(sb)); anything else, a wrong type or a repeated key is refused. Every
 * path must pass launch_path_check_canonical(), and the base names must be
 * unique and none of the jail's own names (api.sock, dev, run, @exec_name
 * and @exec_name.pid). InvalidArgument on every refusal. */
LaunchSpec *launch_spec_parse  (GVariant    *spec,
                                const char  *exec_name,
                                GError     **error);

/* The names check launch_spec_parse() makes, for a spec parsed before
 * @exec_name (the configured firecracker's base name) was known. */
gboolean    launch_spec_check_names (const LaunchSpec  *spec,
                                     const char        *exec_name,
                                     GError           **error);

/* An absolute path in canonical form: no empty, "." or ".." component, no
 * trailing slash, valid UTF-8 without control characters, components of at
 * most 255 bytes, at most 4095 bytes in all, and not "/" itself. */
gboolean    launch_path_check_canonical (const char  *path,
                                         GError     **error);

/* launch_path_check_canonical() and below @home/.local/state/banger/ or
 * @home/.local/share/banger/ (@home: an absolute canonical path or "/"). */
gboolean    launch_path_check_allowed   (const char  *path,
                                         const char  *home,
                                         GError     **error);

/* The last component of a canonical path (points into @path). */
const char *launch_path_basename        (const char  *path);

/* One of TERM KILL INT HUP QUIT USR1 USR2 ABRT, exactly (no "SIG" prefix,
 * no lower case, no numbers): its number in @out_signo. */
gboolean    launch_signal_parse         (const char  *name,
                                         int         *out_signo,
                                         GError     **error);

G_END_DECLS
