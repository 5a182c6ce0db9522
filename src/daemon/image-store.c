/* image-store.c: the images and kernels rows. Registration and deletion
 * each run in one transaction, so the registry never holds half an image. */
#define G_LOG_DOMAIN "bangerd-store"

#include "config.h"

#include <glib/gi18n.h>
#include <sqlite3.h>

#include "banger-error.h"
#include "image-store.h"
#include "store-private.h"

typedef sqlite3_stmt *ImageStmt;
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (ImageStmt, sqlite3_finalize, NULL)

KernelRecord *
kernel_record_copy (const KernelRecord *record)
{
  KernelRecord *copy = g_new0 (KernelRecord, 1);

  *copy = *record;
  copy->name = g_strdup (record->name);
  copy->sha256 = g_strdup (record->sha256);
  copy->release = g_strdup (record->release);
  copy->path = g_strdup (record->path);
  copy->vmlinux_path = g_strdup (record->vmlinux_path);
  copy->modules_path = g_strdup (record->modules_path);
  return copy;
}

void
kernel_record_free (KernelRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->name);
  g_free (record->sha256);
  g_free (record->release);
  g_free (record->path);
  g_free (record->vmlinux_path);
  g_free (record->modules_path);
  g_free (record);
}

ImageRecord *
image_record_copy (const ImageRecord *record)
{
  ImageRecord *copy = g_new0 (ImageRecord, 1);

  *copy = *record;
  copy->name = g_strdup (record->name);
  copy->sha256 = g_strdup (record->sha256);
  copy->path = g_strdup (record->path);
  copy->source = g_strdup (record->source);
  return copy;
}

void
image_record_free (ImageRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->name);
  g_free (record->sha256);
  g_free (record->path);
  g_free (record->source);
  g_free (record);
}

static char *
text (sqlite3_stmt *stmt,
      int           column)
{
  const char *value = (const char *) sqlite3_column_text (stmt, column);

  return g_strdup (value != NULL ? value : "");
}

static sqlite3_stmt *
prepare (Store       *store,
         const char  *sql,
         const char  *doing,
         GError     **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (store_private_db (store), sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      store_private_fail (store, doing, error);
      return NULL;
    }
  return stmt;
}

static gboolean
exec (Store       *store,
      const char  *sql,
      const char  *doing,
      GError     **error)
{
  if (sqlite3_exec (store_private_db (store), sql, NULL, NULL, NULL) != SQLITE_OK)
    return store_private_fail (store, doing, error);
  return TRUE;
}

GPtrArray *
image_store_list_kernels (Store   *store,
                          GError **error)
{
  g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify) kernel_record_free);
  g_auto(ImageStmt) stmt = prepare (store,
                                    "SELECT id, name, sha256, release, path, vmlinux_path,"
                                    " modules_path, created_at FROM kernels ORDER BY id",
                                    _("listing kernels"), error);
  int rc;

  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      KernelRecord *record = g_new0 (KernelRecord, 1);

      record->id = sqlite3_column_int64 (stmt, 0);
      record->name = text (stmt, 1);
      record->sha256 = text (stmt, 2);
      record->release = text (stmt, 3);
      record->path = text (stmt, 4);
      record->vmlinux_path = text (stmt, 5);
      record->modules_path = text (stmt, 6);
      record->created_at_us = sqlite3_column_int64 (stmt, 7);
      g_ptr_array_add (records, record);
    }
  if (rc != SQLITE_DONE)
    {
      store_private_fail (store, _("listing kernels"), error);
      return NULL;
    }
  return g_steal_pointer (&records);
}

GPtrArray *
image_store_list_images (Store   *store,
                         GError **error)
{
  g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify) image_record_free);
  g_auto(ImageStmt) stmt = prepare (store,
                                    "SELECT id, name, sha256, path, size, kernel_id,"
                                    " overlay_capable, source, created_at FROM images ORDER BY name",
                                    _("listing images"), error);
  int rc;

  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      ImageRecord *record = g_new0 (ImageRecord, 1);

      record->id = sqlite3_column_int64 (stmt, 0);
      record->name = text (stmt, 1);
      record->sha256 = text (stmt, 2);
      record->path = text (stmt, 3);
      record->size = sqlite3_column_int64 (stmt, 4);
      record->kernel_id = sqlite3_column_int64 (stmt, 5);
      record->overlay_capable = sqlite3_column_int (stmt, 6) != 0;
      record->source = text (stmt, 7);
      record->created_at_us = sqlite3_column_int64 (stmt, 8);
      g_ptr_array_add (records, record);
    }
  if (rc != SQLITE_DONE)
    {
      store_private_fail (store, _("listing images"), error);
      return NULL;
    }
  return g_steal_pointer (&records);
}

static gboolean
find_kernel (Store       *store,
             const char  *sha256,
             gint64      *out_id,
             GError     **error)
{
  g_auto(ImageStmt) stmt = prepare (store, "SELECT id FROM kernels WHERE sha256 = ?",
                                    _("registering an image"), error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, sha256, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  *out_id = rc == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : 0;
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return store_private_fail (store, _("registering an image"), error);
  return TRUE;
}

static gboolean
insert_kernel (Store         *store,
               KernelRecord  *kernel,
               GError       **error)
{
  g_auto(ImageStmt) stmt = prepare (store,
                                    "INSERT INTO kernels (name, sha256, release, path,"
                                    " vmlinux_path, modules_path, created_at)"
                                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                                    _("registering a kernel"), error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, kernel->name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, kernel->sha256, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, kernel->release, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, kernel->path, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, kernel->vmlinux_path, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, kernel->modules_path, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 7, kernel->created_at_us);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return store_private_fail (store, _("registering a kernel"), error);
  kernel->id = sqlite3_last_insert_rowid (store_private_db (store));
  return TRUE;
}

static gboolean
insert_image (Store        *store,
              ImageRecord  *image,
              GError      **error)
{
  g_auto(ImageStmt) stmt = prepare (store,
                                    "INSERT INTO images (name, sha256, path, size, kernel_id,"
                                    " overlay_capable, source, created_at)"
                                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                    _("registering an image"), error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, image->name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, image->sha256, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, image->path, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, (sqlite3_int64) image->size);
  if (image->kernel_id > 0)
    sqlite3_bind_int64 (stmt, 5, image->kernel_id);
  else
    sqlite3_bind_null (stmt, 5);
  sqlite3_bind_int (stmt, 6, image->overlay_capable ? 1 : 0);
  sqlite3_bind_text (stmt, 7, image->source, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 8, image->created_at_us);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      if ((sqlite3_extended_errcode (store_private_db (store))) == SQLITE_CONSTRAINT_UNIQUE)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                       _("An image named “%s” already exists; delete it first"), image->name);
          return FALSE;
        }
      return store_private_fail (store, _("registering an image"), error);
    }
  image->id = sqlite3_last_insert_rowid (store_private_db (store));
  return TRUE;
}

/* Runs @body between BEGIN IMMEDIATE and COMMIT, rolling back when it
 * fails, so the registry never holds half an image. */
static gboolean
in_transaction (Store        *store,
                const char   *doing,
                gboolean    (*body) (Store *store, gpointer data, GError **error),
                gpointer      data,
                GError      **error)
{
  if (!exec (store, "BEGIN IMMEDIATE", doing, error))
    return FALSE;
  if (body (store, data, error) && exec (store, "COMMIT", doing, error))
    return TRUE;
  sqlite3_exec (store_private_db (store), "ROLLBACK", NULL, NULL, NULL);
  return FALSE;
}

typedef struct {
  KernelRecord *kernel;
  ImageRecord  *image;
  gboolean      kernel_added;
} RegisterArgs;

static gboolean
register_rows (Store     *store,
               gpointer   data,
               GError   **error)
{
  RegisterArgs *args = data;
  gint64 existing = 0;

  if (args->kernel != NULL)
    {
      if (!find_kernel (store, args->kernel->sha256, &existing, error))
        return FALSE;
      if (existing != 0)
        args->kernel->id = existing;
      else if (!insert_kernel (store, args->kernel, error))
        return FALSE;
      args->kernel_added = existing == 0;
      args->image->kernel_id = args->kernel->id;
    }
  return insert_image (store, args->image, error);
}

gboolean
image_store_register (Store         *store,
                      KernelRecord  *kernel,
                      ImageRecord   *image,
                      gboolean      *out_kernel_added,
                      GError       **error)
{
  RegisterArgs args = { kernel, image, FALSE };
  gboolean ok = in_transaction (store, _("registering an image"), register_rows, &args, error);

  *out_kernel_added = ok && args.kernel_added;
  return ok;
}

static gboolean
count_rows (Store       *store,
            const char  *sql,
            const char  *text_arg,
            gint64       int_arg,
            gint64      *out,
            GError     **error)
{
  g_auto(ImageStmt) stmt = prepare (store, sql, _("deleting an image"), error);

  if (stmt == NULL)
    return FALSE;
  if (text_arg != NULL)
    sqlite3_bind_text (stmt, 1, text_arg, -1, SQLITE_STATIC);
  else
    sqlite3_bind_int64 (stmt, 1, int_arg);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return store_private_fail (store, _("deleting an image"), error);
  *out = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

typedef struct {
  const char *name;
  gboolean    file_unused;
  gboolean    kernel_deleted;
} DeleteArgs;

static gboolean
step_done (Store         *store,
           sqlite3_stmt  *stmt,
           const char    *doing,
           GError       **error)
{
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return store_private_fail (store, doing, error);
  return TRUE;
}

static gboolean
delete_rows (Store     *store,
             gpointer   data,
             GError   **error)
{
  DeleteArgs *args = data;
  g_auto(ImageStmt) select = prepare (store, "SELECT sha256, kernel_id FROM images WHERE name = ?",
                                      _("deleting an image"), error);
  g_auto(ImageStmt) delete_image = prepare (store, "DELETE FROM images WHERE name = ?",
                                            _("deleting an image"), error);
  g_auto(ImageStmt) delete_kernel = prepare (store, "DELETE FROM kernels WHERE id = ?",
                                             _("deleting a kernel"), error);
  g_autofree char *sha256 = NULL;
  gint64 kernel_id, count = 0;
  int rc;

  if (select == NULL || delete_image == NULL || delete_kernel == NULL)
    return FALSE;
  sqlite3_bind_text (select, 1, args->name, -1, SQLITE_STATIC);
  rc = sqlite3_step (select);
  if (rc == SQLITE_DONE)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                   _("There is no image named “%s”"), args->name);
      return FALSE;
    }
  if (rc != SQLITE_ROW)
    return store_private_fail (store, _("deleting an image"), error);
  sha256 = text (select, 0);
  kernel_id = sqlite3_column_int64 (select, 1);

  sqlite3_bind_text (delete_image, 1, args->name, -1, SQLITE_STATIC);
  if (!step_done (store, delete_image, _("deleting an image"), error) ||
      !count_rows (store, "SELECT count(*) FROM images WHERE sha256 = ?", sha256, 0, &count, error))
    return FALSE;
  args->file_unused = count == 0;
  if (kernel_id == 0)
    return TRUE;
  if (!count_rows (store, "SELECT count(*) FROM images WHERE kernel_id = ?", NULL, kernel_id,
                   &count, error))
    return FALSE;
  if (count > 0)
    return TRUE;
  sqlite3_bind_int64 (delete_kernel, 1, kernel_id);
  if (!step_done (store, delete_kernel, _("deleting a kernel"), error))
    return FALSE;
  args->kernel_deleted = TRUE;
  return TRUE;
}

gboolean
image_store_delete_image (Store       *store,
                          const char  *name,
                          gboolean    *out_file_unused,
                          gboolean    *out_kernel_deleted,
                          GError     **error)
{
  DeleteArgs args = { name, FALSE, FALSE };
  gboolean ok = in_transaction (store, _("deleting an image"), delete_rows, &args, error);

  *out_file_unused = ok && args.file_unused;
  *out_kernel_deleted = ok && args.kernel_deleted;
  return ok;
}
