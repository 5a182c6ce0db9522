/* test-store.c: state.db is created, upgraded and used through the real
 * migrations; files that are not banger's or are newer stay byte-for-byte. */
#include "config.h"

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "banger-error.h"
#include "store.h"

typedef struct {
  char *dir;
  char *path;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("banger-store-XXXXXX", NULL);
  f->path = g_build_filename (f->dir, "state.db", NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_autoptr(GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *p = g_build_filename (f->dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static void
sql (const char *path, const char *statement)
{
  sqlite3 *db = NULL;
  char *message = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  if (sqlite3_exec (db, statement, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", statement, message);
  sqlite3_close (db);
}

static VmRecord *
make_record (const char *name)
{
  VmRecord *r = vm_record_new (name);

  r->settings.vcpus = (Setting) { 2, SETTING_SOURCE_AUTO };
  r->settings.memory_mib = (Setting) { 1024, SETTING_SOURCE_CONFIG };
  r->settings.disk_bytes = (Setting) { G_GUINT64_CONSTANT (8) << 30, SETTING_SOURCE_BUILTIN };
  r->created_at_us = 1700000000000000;
  return r;
}

static void
test_fresh_file_reaches_latest (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(Store) store = store_open (f->path, &error);
  GStatBuf st;

  g_assert_no_error (error);
  g_assert_cmpint (store_schema_version (store), ==, store_latest_version ());
  g_assert_cmpint (g_stat (f->path, &st), ==, 0);
  /* WAL is a property of the file, visible to any connection. */
  {
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    g_assert_cmpint (sqlite3_open (f->path, &db), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA journal_mode", -1, &stmt, NULL), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "wal");
    sqlite3_finalize (stmt);
    sqlite3_close (db);
  }
}

static void
test_vm_rows_round_trip (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(Store) store = store_open (f->path, &error);
  g_autoptr(VmRecord) web = make_record ("web");
  g_autoptr(VmRecord) db = make_record ("db");
  g_autoptr(GPtrArray) list = NULL;
  VmRecord *first;

  g_assert_true (store_insert_vm (store, web, &error));
  g_assert_true (store_insert_vm (store, db, &error));
  g_assert_no_error (error);

  g_clear_pointer (&store, store_close);
  store = store_open (f->path, &error);
  g_assert_no_error (error);
  list = store_list_vms (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  first = list->pdata[0];
  g_assert_cmpstr (first->name, ==, "db");
  g_assert_cmpstr (first->state, ==, "stopped");
  g_assert_cmpuint (first->settings.vcpus.value, ==, 2);
  g_assert_cmpint (first->settings.vcpus.source, ==, SETTING_SOURCE_AUTO);
  g_assert_cmpuint (first->settings.memory_mib.value, ==, 1024);
  g_assert_cmpint (first->settings.memory_mib.source, ==, SETTING_SOURCE_CONFIG);
  g_assert_cmpuint (first->settings.disk_bytes.value, ==, G_GUINT64_CONSTANT (8) << 30);
  g_assert_cmpint (first->settings.disk_bytes.source, ==, SETTING_SOURCE_BUILTIN);
  g_assert_cmpint (first->created_at_us, ==, 1700000000000000);
}

static void
test_duplicate_name_is_already_exists (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(Store) store = store_open (f->path, &error);
  g_autoptr(VmRecord) web = make_record ("web");

  g_assert_true (store_insert_vm (store, web, &error));
  g_assert_false (store_insert_vm (store, web, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS);
  g_assert_nonnull (strstr (error->message, "web"));
}

static void
test_update_and_delete (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(Store) store = store_open (f->path, &error);
  g_autoptr(VmRecord) web = make_record ("web");
  g_autoptr(VmRecord) ghost = make_record ("ghost");
  g_autoptr(GPtrArray) list = NULL;

  g_assert_true (store_insert_vm (store, web, &error));
  web->settings.vcpus = (Setting) { 4, SETTING_SOURCE_USER };
  g_assert_true (store_update_vm_settings (store, web, &error));
  list = store_list_vms (store, &error);
  g_assert_cmpuint (((VmRecord *) list->pdata[0])->settings.vcpus.value, ==, 4);
  g_assert_cmpint (((VmRecord *) list->pdata[0])->settings.vcpus.source, ==, SETTING_SOURCE_USER);

  g_assert_false (store_update_vm_settings (store, ghost, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (store_delete_vm (store, "web", &error));
  g_assert_false (store_delete_vm (store, "web", &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND);
}

static void
test_old_schema_upgraded (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(Store) old = store_open_at_version (f->path, 1, &error);
  g_autoptr(Store) store = NULL;
  g_autoptr(GPtrArray) list = NULL;
  VmRecord *r;

  g_assert_no_error (error);
  g_assert_cmpint (store_schema_version (old), ==, 1);
  g_clear_pointer (&old, store_close);

  /* A row as version 1 wrote it: no provenance columns yet. */
  sql (f->path, "INSERT INTO vms (name, vcpus, memory_mib, disk_bytes, created_at)"
                " VALUES ('legacy', 3, 768, 1073741824, 42)");

  store = store_open (f->path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (store_schema_version (store), ==, store_latest_version ());
  list = store_list_vms (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 1);
  r = list->pdata[0];
  g_assert_cmpstr (r->name, ==, "legacy");
  g_assert_cmpuint (r->settings.vcpus.value, ==, 3);
  g_assert_cmpuint (r->settings.memory_mib.value, ==, 768);
  g_assert_cmpint (r->settings.vcpus.source, ==, SETTING_SOURCE_UNKNOWN);
  g_assert_cmpint (r->created_at_us, ==, 42);
}

/* Opens @path expecting @code, then checks the file and its directory are
 * exactly as before: no rewrite, no journal or WAL file left beside it. */
static void
assert_refused_untouched (Fixture *f, int code, const char *message_part)
{
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  gsize before_len, after_len;
  g_autoptr(GError) error = NULL;
  g_autoptr(Store) store = NULL;
  g_autoptr(GDir) dir = NULL;
  guint n_files = 0;

  g_assert_true (g_file_get_contents (f->path, &before, &before_len, NULL));
  store = store_open (f->path, &error);
  g_assert_null (store);
  g_assert_error (error, BANGER_ERROR, code);
  g_assert_nonnull (strstr (error->message, f->path));
  if (strstr (error->message, message_part) == NULL)
    g_error ("message lacks “%s”: %s", message_part, error->message);

  g_assert_true (g_file_get_contents (f->path, &after, &after_len, NULL));
  g_assert_cmpmem (before, before_len, after, after_len);
  dir = g_dir_open (f->dir, 0, NULL);
  while (g_dir_read_name (dir) != NULL)
    n_files++;
  g_assert_cmpuint (n_files, ==, 1);
}

static void
test_corrupt_file_refused (Fixture *f, gconstpointer data)
{
  g_autofree char *garbage = g_malloc (8192);

  for (guint i = 0; i < 8192; i++)
    garbage[i] = (char) (g_test_rand_int () & 0xff);
  g_assert_true (g_file_set_contents (f->path, garbage, 8192, NULL));
  assert_refused_untouched (f, BANGER_ERROR_CORRUPT, "Move it aside");
}

static void
test_damaged_banger_file_refused (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len;

  /* A real banger file with a page overwritten in the middle. */
  {
    g_autoptr(Store) store = store_open (f->path, &error);
    for (int i = 0; i < 200; i++)
      {
        g_autofree char *name = g_strdup_printf ("vm-%d", i);
        g_autoptr(VmRecord) r = make_record (name);
        g_assert_true (store_insert_vm (store, r, &error));
      }
  }
  sql (f->path, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE");
  g_assert_true (g_file_get_contents (f->path, &contents, &len, NULL));
  g_assert_cmpuint (len, >, 3 * 4096);
  memset (contents + 2 * 4096, 0xa5, 4096);
  g_assert_true (g_file_set_contents (f->path, contents, len, NULL));

  assert_refused_untouched (f, BANGER_ERROR_CORRUPT, "damaged");
}

static void
test_newer_schema_refused (Fixture *f, gconstpointer data)
{
  sql (f->path, "CREATE TABLE vms (id INTEGER PRIMARY KEY); PRAGMA user_version = 99");
  assert_refused_untouched (f, BANGER_ERROR_NOT_SUPPORTED, "newer banger");
}

static void
test_foreign_database_refused (Fixture *f, gconstpointer data)
{
  sql (f->path, "CREATE TABLE recipes (name TEXT)");
  assert_refused_untouched (f, BANGER_ERROR_CORRUPT, "not one of banger's");
}

static void
test_symlinked_database_refused (Fixture *f, gconstpointer data)
{
  g_autofree char *target = g_build_filename (f->dir, "elsewhere.db", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(Store) store = NULL;

  g_assert_cmpint (symlink (target, f->path), ==, 0);
  store = store_open (f->path, &error);
  g_assert_null (store);
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_FAILED);
  g_assert_false (g_file_test (target, G_FILE_TEST_EXISTS));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/store/fresh-file-reaches-latest-schema-in-wal-mode", test_fresh_file_reaches_latest);
  ADD ("/store/vm-rows-survive-reopen", test_vm_rows_round_trip);
  ADD ("/store/duplicate-name-is-already-exists", test_duplicate_name_is_already_exists);
  ADD ("/store/update-and-delete-report-not-found", test_update_and_delete);
  ADD ("/store/migrations/old-schema-upgraded-keeping-rows", test_old_schema_upgraded);
  ADD ("/store/refuses/random-bytes-untouched", test_corrupt_file_refused);
  ADD ("/store/refuses/damaged-page-untouched", test_damaged_banger_file_refused);
  ADD ("/store/refuses/newer-schema-untouched", test_newer_schema_refused);
  ADD ("/store/refuses/foreign-database-untouched", test_foreign_database_refused);
  ADD ("/store/refuses/symlink", test_symlinked_database_refused);
  return g_test_run ();
}
