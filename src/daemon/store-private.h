/* store-private.h: what the store's own files share and nothing else. */
#pragma once

#include <glib.h>

const char *store_migration_sql (int version);

/* For the registry's row functions in image-store.c. */
typedef struct sqlite3 sqlite3;
typedef struct _Store Store;
sqlite3    *store_private_db   (Store       *store);
gboolean    store_private_fail (Store       *store,
                                const char  *doing,
                                GError     **error);
