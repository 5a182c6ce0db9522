/* store.c: opens state.db without ever damaging it: a file that is not
 * banger's, is corrupt, or is newer than this banger is refused untouched. */
#define G_LOG_DOMAIN "bangerd-store"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>
#include <sqlite3.h>

#include "banger-error.h"
#include "store.h"
#include "store-private.h"

struct _Store {
  sqlite3 *db;
  char    *path;
  int      version;
};

/* g_auto(StmtPtr) finalizes a prepared statement on every return path. */
typedef sqlite3_stmt *StmtPtr;
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (StmtPtr, sqlite3_finalize, NULL)

VmRecord *
vm_record_new (const char *name)
{
  VmRecord *record = g_new0 (VmRecord, 1);

  record->name = g_strdup (name);
  record->state = g_strdup ("stopped");
  record->vmm = g_strdup ("firecracker");
  record->vmm_reason = g_strdup ("");
  record->image_path = g_strdup ("");
  record->kernel_path = g_strdup ("");
  record->disk_strategy = g_strdup ("overlay");
  record->last_error = g_strdup ("");
  return record;
}

VmRecord *
vm_record_copy (const VmRecord *record)
{
  VmRecord *copy = g_new0 (VmRecord, 1);

  *copy = *record;
  copy->name = g_strdup (record->name);
  copy->state = g_strdup (record->state);
  copy->vmm = g_strdup (record->vmm);
  copy->vmm_reason = g_strdup (record->vmm_reason);
  copy->image_path = g_strdup (record->image_path);
  copy->kernel_path = g_strdup (record->kernel_path);
  copy->ipv4 = g_strdup (record->ipv4);
  copy->mac = g_strdup (record->mac);
  copy->tap = g_strdup (record->tap);
  copy->disk_strategy = g_strdup (record->disk_strategy);
  copy->last_error = g_strdup (record->last_error);
  return copy;
}

void
vm_record_free (VmRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->name);
  g_free (record->state);
  g_free (record->vmm);
  g_free (record->vmm_reason);
  g_free (record->image_path);
  g_free (record->kernel_path);
  g_free (record->ipv4);
  g_free (record->mac);
  g_free (record->tap);
  g_free (record->disk_strategy);
  g_free (record->last_error);
  g_free (record);
}

static gboolean
set_sqlite_error (GError     **error,
                  Store       *store,
                  const char  *doing)
{
  int code = sqlite3_extended_errcode (store->db);
  int primary = code & 0xff;

  if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT)
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_CORRUPT,
                 _("State database %s is damaged or not a banger database (%s). "
                   "Move it aside (mv %s %s.broken) to start with an empty state"),
                 store->path, sqlite3_errmsg (store->db), store->path, store->path);
  else if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY,
                 _("State database %s is locked by another process while %s; "
                   "is a second bangerd running?"),
                 store->path, doing);
  else
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                 _("State database %s: %s failed: %s"),
                 store->path, doing, sqlite3_errmsg (store->db));
  return FALSE;
}

static char *
column_dup (sqlite3_stmt *stmt,
            int           column)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, column));
}

static gboolean
exec_sql (Store       *store,
          const char  *sql,
          const char  *doing,
          GError     **error)
{
  if (sqlite3_exec (store->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return set_sqlite_error (error, store, doing);
  return TRUE;
}

static gboolean
query_int (Store       *store,
           const char  *sql,
           int         *out,
           GError     **error)
{
  g_auto(StmtPtr) stmt = NULL;

  if (sqlite3_prepare_v2 (store->db, sql, -1, &stmt, NULL) != SQLITE_OK ||
      sqlite3_step (stmt) != SQLITE_ROW)
    return set_sqlite_error (error, store, _("reading the schema"));
  *out = sqlite3_column_int (stmt, 0);
  return TRUE;
}

/* Everything here only reads: it runs before the first write, so a file we
 * refuse is left exactly as it was. */
static gboolean
check_file (Store   *store,
            GError **error)
{
  g_auto(StmtPtr) stmt = NULL;
  const char *result;
  int n_objects;

  if (!query_int (store, "PRAGMA user_version", &store->version, error))
    return FALSE;

  if (store->version > store_latest_version ())
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                   _("State database %s has schema version %d, but this banger knows "
                     "only up to version %d; it was written by a newer banger. "
                     "Install that version again, or move the file aside"),
                   store->path, store->version, store_latest_version ());
      return FALSE;
    }

  if (!query_int (store, "SELECT count(*) FROM sqlite_schema", &n_objects, error))
    return FALSE;
  if (store->version == 0 && n_objects > 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_CORRUPT,
                   _("%s is an SQLite database, but not one of banger's; "
                     "move it aside so banger can create its own"),
                   store->path);
      return FALSE;
    }

  if (sqlite3_prepare_v2 (store->db, "PRAGMA quick_check", -1, &stmt, NULL) != SQLITE_OK ||
      sqlite3_step (stmt) != SQLITE_ROW)
    return set_sqlite_error (error, store, _("checking integrity"));
  result = (const char *) sqlite3_column_text (stmt, 0);
  if (g_strcmp0 (result, "ok") != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_CORRUPT,
                   _("State database %s is damaged (%s). "
                     "Move it aside (mv %s %s.broken) to start with an empty state"),
                   store->path, result, store->path, store->path);
      return FALSE;
    }
  return TRUE;
}

/* Each step commits with its version number, so an interrupted upgrade
 * resumes at the step that did not finish. */
static gboolean
migrate (Store   *store,
         int      target,
         GError **error)
{
  while (store->version < target)
    {
      int next = store->version + 1;
      g_autofree char *set_version = g_strdup_printf ("PRAGMA user_version = %d", next);

      if (!exec_sql (store, "BEGIN IMMEDIATE", _("starting a migration"), error))
        return FALSE;
      if (!exec_sql (store, store_migration_sql (next), _("upgrading the schema"), error) ||
          !exec_sql (store, set_version, _("upgrading the schema"), error) ||
          !exec_sql (store, "COMMIT", _("upgrading the schema"), error))
        {
          sqlite3_exec (store->db, "ROLLBACK", NULL, NULL, NULL);
          return FALSE;
        }
      g_info ("Upgraded %s to schema version %d", store->path, next);
      store->version = next;
    }
  return TRUE;
}

Store *
store_open_at_version (const char  *path,
                       int          target_version,
                       GError     **error)
{
  g_autoptr(Store) store = g_new0 (Store, 1);
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW;

  g_return_val_if_fail (target_version >= 1 && target_version <= store_latest_version (), NULL);

  store->path = g_strdup (path);
  if (sqlite3_open_v2 (path, &store->db, flags, NULL) != SQLITE_OK)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("Cannot open state database %s: %s"), path,
                   store->db ? sqlite3_errmsg (store->db) : g_strerror (ENOMEM));
      return NULL;
    }
  sqlite3_extended_result_codes (store->db, 1);
  sqlite3_busy_timeout (store->db, 2000);

  if (!check_file (store, error))
    return NULL;

  /* WAL: readers never block the writer, and commits need no fsync of the
   * main file. NORMAL sync is durable across application crashes. */
  if (!exec_sql (store, "PRAGMA journal_mode = WAL", _("enabling WAL"), error) ||
      !exec_sql (store, "PRAGMA synchronous = NORMAL", _("configuring sync"), error) ||
      !exec_sql (store, "PRAGMA foreign_keys = ON", _("enabling foreign keys"), error))
    return NULL;

  if (!migrate (store, target_version, error))
    return NULL;

  return g_steal_pointer (&store);
}

Store *
store_open (const char  *path,
            GError     **error)
{
  return store_open_at_version (path, store_latest_version (), error);
}

void
store_close (Store *store)
{
  if (store == NULL)
    return;
  if (store->db != NULL)
    sqlite3_close_v2 (store->db);
  g_free (store->path);
  g_free (store);
}

sqlite3 *
store_private_db (Store *store)
{
  return store->db;
}

gboolean
store_private_fail (Store       *store,
                    const char  *doing,
                    GError     **error)
{
  return set_sqlite_error (error, store, doing);
}

const char *
store_get_path (Store *store)
{
  return store->path;
}

int
store_schema_version (Store *store)
{
  return store->version;
}

GPtrArray *
store_list_vms (Store   *store,
                GError **error)
{
  g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify) vm_record_free);
  g_auto(StmtPtr) stmt = NULL;
  int rc;

  if (sqlite3_prepare_v2 (store->db,
                          "SELECT name, state, vcpus, memory_mib, disk_bytes, created_at,"
                          " vcpus_source, memory_source, disk_source,"
                          " vmm, image_path, kernel_path, nat, ipv4, ipv4_prefix, mac, tap,"
                          " disk_strategy, last_error, started_at, vmm_reason"
                          " FROM vms ORDER BY name",
                          -1, &stmt, NULL) != SQLITE_OK)
    {
      set_sqlite_error (error, store, _("listing VMs"));
      return NULL;
    }

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      VmRecord *record = vm_record_new ((const char *) sqlite3_column_text (stmt, 0));

      g_free (record->state);
      record->state = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      record->settings.vcpus.value = sqlite3_column_int64 (stmt, 2);
      record->settings.memory_mib.value = sqlite3_column_int64 (stmt, 3);
      record->settings.disk_bytes.value = sqlite3_column_int64 (stmt, 4);
      record->created_at_us = sqlite3_column_int64 (stmt, 5);
      record->settings.vcpus.source =
        setting_source_from_string ((const char *) sqlite3_column_text (stmt, 6));
      record->settings.memory_mib.source =
        setting_source_from_string ((const char *) sqlite3_column_text (stmt, 7));
      record->settings.disk_bytes.source =
        setting_source_from_string ((const char *) sqlite3_column_text (stmt, 8));
      g_free (record->vmm);
      record->vmm = column_dup (stmt, 9);
      g_free (record->image_path);
      record->image_path = column_dup (stmt, 10);
      g_free (record->kernel_path);
      record->kernel_path = column_dup (stmt, 11);
      record->nat = sqlite3_column_int (stmt, 12) != 0;
      record->ipv4 = column_dup (stmt, 13);
      record->ipv4_prefix = sqlite3_column_int (stmt, 14);
      record->mac = column_dup (stmt, 15);
      record->tap = column_dup (stmt, 16);
      g_free (record->disk_strategy);
      record->disk_strategy = column_dup (stmt, 17);
      g_free (record->last_error);
      record->last_error = column_dup (stmt, 18);
      record->started_at_us = sqlite3_column_int64 (stmt, 19);
      g_free (record->vmm_reason);
      record->vmm_reason = column_dup (stmt, 20);
      g_ptr_array_add (records, record);
    }
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, store, _("listing VMs"));
      return NULL;
    }
  return g_steal_pointer (&records);
}

gboolean
store_insert_vm (Store           *store,
                 const VmRecord  *record,
                 GError         **error)
{
  g_auto(StmtPtr) stmt = NULL;
  const VmSettings *s = &record->settings;

  if (sqlite3_prepare_v2 (store->db,
                          "INSERT INTO vms (name, state, vcpus, memory_mib, disk_bytes, created_at,"
                          " vcpus_source, memory_source, disk_source,"
                          " vmm, image_path, kernel_path, nat, ipv4, ipv4_prefix, mac, tap,"
                          " disk_strategy, last_error, started_at, vmm_reason)"
                          " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          -1, &stmt, NULL) != SQLITE_OK)
    return set_sqlite_error (error, store, _("saving the VM"));

  sqlite3_bind_text (stmt, 1, record->name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, record->state, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, (sqlite3_int64) s->vcpus.value);
  sqlite3_bind_int64 (stmt, 4, (sqlite3_int64) s->memory_mib.value);
  sqlite3_bind_int64 (stmt, 5, (sqlite3_int64) s->disk_bytes.value);
  sqlite3_bind_int64 (stmt, 6, record->created_at_us);
  sqlite3_bind_text (stmt, 7, setting_source_to_string (s->vcpus.source), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 8, setting_source_to_string (s->memory_mib.source), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 9, setting_source_to_string (s->disk_bytes.source), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 10, record->vmm, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 11, record->image_path, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 12, record->kernel_path, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 13, record->nat ? 1 : 0);
  sqlite3_bind_text (stmt, 14, record->ipv4, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 15, (int) record->ipv4_prefix);
  sqlite3_bind_text (stmt, 16, record->mac, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 17, record->tap, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 18, record->disk_strategy, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 19, record->last_error, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 20, record->started_at_us);
  sqlite3_bind_text (stmt, 21, record->vmm_reason, -1, SQLITE_STATIC);

  if (sqlite3_step (stmt) == SQLITE_DONE)
    return TRUE;

  if (sqlite3_extended_errcode (store->db) == SQLITE_CONSTRAINT_UNIQUE &&
      strstr (sqlite3_errmsg (store->db), "vms.name") == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                   _("The address, MAC or tap name chosen for “%s” is taken (%s)"),
                   record->name, sqlite3_errmsg (store->db));
      return FALSE;
    }
  if (sqlite3_extended_errcode (store->db) == SQLITE_CONSTRAINT_UNIQUE)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                   _("A VM named “%s” already exists; pick another name or delete it first"),
                   record->name);
      return FALSE;
    }
  return set_sqlite_error (error, store, _("saving the VM"));
}

gboolean
store_update_vm_settings (Store           *store,
                          const VmRecord  *record,
                          GError         **error)
{
  g_auto(StmtPtr) stmt = NULL;
  const VmSettings *s = &record->settings;

  if (sqlite3_prepare_v2 (store->db,
                          "UPDATE vms SET vcpus = ?, memory_mib = ?, disk_bytes = ?,"
                          " vcpus_source = ?, memory_source = ?, disk_source = ?"
                          " WHERE name = ?",
                          -1, &stmt, NULL) != SQLITE_OK)
    return set_sqlite_error (error, store, _("updating the VM"));

  sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) s->vcpus.value);
  sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) s->memory_mib.value);
  sqlite3_bind_int64 (stmt, 3, (sqlite3_int64) s->disk_bytes.value);
  sqlite3_bind_text (stmt, 4, setting_source_to_string (s->vcpus.source), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, setting_source_to_string (s->memory_mib.source), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, setting_source_to_string (s->disk_bytes.source), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 7, record->name, -1, SQLITE_STATIC);

  if (sqlite3_step (stmt) != SQLITE_DONE)
    return set_sqlite_error (error, store, _("updating the VM"));
  if (sqlite3_changes (store->db) == 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                   _("There is no VM named “%s”"), record->name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
finish_update (Store       *store,
               sqlite3_stmt *stmt,
               const char  *name,
               GError     **error)
{
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return set_sqlite_error (error, store, _("updating the VM"));
  if (sqlite3_changes (store->db) == 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                   _("There is no VM named “%s”"), name);
      return FALSE;
    }
  return TRUE;
}

gboolean
store_update_vm_state (Store       *store,
                       const char  *name,
                       const char  *state,
                       const char  *last_error,
                       gint64       started_at_us,
                       GError     **error)
{
  g_auto(StmtPtr) stmt = NULL;

  if (sqlite3_prepare_v2 (store->db,
                          "UPDATE vms SET state = ?, last_error = ?, started_at = ? WHERE name = ?",
                          -1, &stmt, NULL) != SQLITE_OK)
    return set_sqlite_error (error, store, _("updating the VM"));
  sqlite3_bind_text (stmt, 1, state, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, last_error != NULL ? last_error : "", -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, started_at_us);
  sqlite3_bind_text (stmt, 4, name, -1, SQLITE_STATIC);
  return finish_update (store, stmt, name, error);
}

gboolean
store_update_vm_nat (Store       *store,
                     const char  *name,
                     gboolean     nat,
                     GError     **error)
{
  g_auto(StmtPtr) stmt = NULL;

  if (sqlite3_prepare_v2 (store->db, "UPDATE vms SET nat = ? WHERE name = ?",
                          -1, &stmt, NULL) != SQLITE_OK)
    return set_sqlite_error (error, store, _("updating the VM"));
  sqlite3_bind_int (stmt, 1, nat ? 1 : 0);
  sqlite3_bind_text (stmt, 2, name, -1, SQLITE_STATIC);
  return finish_update (store, stmt, name, error);
}

gboolean
store_update_vm_address (Store           *store,
                         const VmRecord  *record,
                         GError         **error)
{
  g_auto(StmtPtr) stmt = NULL;

  if (sqlite3_prepare_v2 (store->db,
                          "UPDATE vms SET ipv4 = ?, ipv4_prefix = ?, mac = ?, tap = ? WHERE name = ?",
                          -1, &stmt, NULL) != SQLITE_OK)
    return set_sqlite_error (error, store, _("updating the VM"));
  sqlite3_bind_text (stmt, 1, record->ipv4, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 2, (int) record->ipv4_prefix);
  sqlite3_bind_text (stmt, 3, record->mac, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, record->tap, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, record->name, -1, SQLITE_STATIC);
  return finish_update (store, stmt, record->name, error);
}

gboolean
store_delete_vm (Store       *store,
                 const char  *name,
                 GError     **error)
{
  g_auto(StmtPtr) stmt = NULL;

  if (sqlite3_prepare_v2 (store->db, "DELETE FROM vms WHERE name = ?", -1, &stmt, NULL) != SQLITE_OK)
    return set_sqlite_error (error, store, _("deleting the VM"));
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);

  if (sqlite3_step (stmt) != SQLITE_DONE)
    return set_sqlite_error (error, store, _("deleting the VM"));
  if (sqlite3_changes (store->db) == 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                   _("There is no VM named “%s”"), name);
      return FALSE;
    }
  return TRUE;
}
