/* banger-names.h: what a valid VM name is, and how names map to object
 * paths and back. Shared so the CLI can reject a bad name before a call. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define BANGER_VM_NAME_MAX 63

gboolean  banger_vm_name_validate   (const char  *name,
                                     GError     **error);
char     *banger_object_path_for    (const char  *base,
                                     const char  *name);
char     *banger_name_from_object_path (const char *base,
                                        const char *object_path);

G_END_DECLS
