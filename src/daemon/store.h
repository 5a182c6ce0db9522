/* store.h: banger's durable state in SQLite (WAL, foreign keys, versioned
 * migrations). Only durable facts live here; runtime handles never do. */
#pragma once

#include <glib.h>

#include "vm-settings.h"

G_BEGIN_DECLS

typedef struct _Store Store;

typedef struct {
  char       *name;
  char       *state;
  VmSettings  settings;
  gint64      created_at_us;
} VmRecord;

VmRecord *vm_record_new   (const char *name);
void      vm_record_free  (VmRecord   *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VmRecord, vm_record_free)

int       store_latest_version (void);

Store    *store_open            (const char  *path,
                                 GError     **error);
/* For tests of the migration path: stops after @target_version. */
Store    *store_open_at_version (const char  *path,
                                 int          target_version,
                                 GError     **error);
void      store_close           (Store       *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Store, store_close)

const char *store_get_path       (Store *store);
int         store_schema_version (Store *store);

GPtrArray *store_list_vms          (Store           *store,
                                    GError         **error);
gboolean   store_insert_vm         (Store           *store,
                                    const VmRecord  *record,
                                    GError         **error);
gboolean   store_update_vm_settings (Store          *store,
                                     const VmRecord *record,
                                     GError        **error);
gboolean   store_delete_vm         (Store           *store,
                                    const char      *name,
                                    GError         **error);

G_END_DECLS
