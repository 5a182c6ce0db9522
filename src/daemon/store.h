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
  char       *vmm;
  char       *vmm_reason;      /* why this VMM: "qemu, as requested", "auto: …" */
  char       *image_path;      /* "" when none */
  char       *kernel_path;     /* "" when none */
  gboolean    nat;
  char       *ipv4;            /* dotted quad, NULL before allocation */
  guint       ipv4_prefix;
  char       *mac;
  char       *tap;
  char       *disk_strategy;
  char       *last_error;
  gint64      started_at_us;
} VmRecord;

VmRecord *vm_record_new   (const char *name);
VmRecord *vm_record_copy  (const VmRecord *record);
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
/* State, LastError and StartedAt change together. */
gboolean   store_update_vm_state   (Store          *store,
                                    const char     *name,
                                    const char     *state,
                                    const char     *last_error,
                                    gint64          started_at_us,
                                    GError        **error);
gboolean   store_update_vm_nat     (Store          *store,
                                    const char     *name,
                                    gboolean        nat,
                                    GError        **error);
/* For a VM from before addresses were allocated at creation. */
gboolean   store_update_vm_address (Store          *store,
                                    const VmRecord *record,
                                    GError        **error);
gboolean   store_delete_vm         (Store           *store,
                                    const char      *name,
                                    GError         **error);

G_END_DECLS
