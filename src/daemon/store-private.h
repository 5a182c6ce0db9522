/* store-private.h: what the store's own files share and nothing else. */
#pragma once

const char *store_migration_sql (int version);
