/* test-image-store.c: the registry's rows: a kernel is stored once per
 * sha256, names are unique, and deleting says which files became unused. */
#include "config.h"

#include <glib/gstdio.h>

#include "banger-error.h"
#include "image-store.h"

#define SHA_K1 "1111111111111111111111111111111111111111111111111111111111111111"
#define SHA_K2 "2222222222222222222222222222222222222222222222222222222222222222"
#define SHA_I1 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_I2 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

typedef struct {
  char  *dir;
  char  *path;
  Store *store;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("banger-image-store-XXXXXX", NULL);
  f->path = g_build_filename (f->dir, "state.db", NULL);
  f->store = store_open (f->path, &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  store_close (f->store);
  dir = g_dir_open (f->dir, 0, NULL);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *p = g_build_filename (f->dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static KernelRecord
kernel (const char *sha)
{
  return (KernelRecord) { 0, g_strndup (sha, 16), (char *) sha, (char *) "6.1.0-56-cloud-amd64",
                          (char *) "/k/vmlinuz", (char *) "/k/vmlinux", (char *) "/k/modules", 1 };
}

static gboolean
add (Fixture *f, const char *name, const char *image_sha, const char *kernel_sha,
     gboolean *kernel_added, GError **error)
{
  KernelRecord k = kernel (kernel_sha);
  g_autofree char *path = g_strdup_printf ("/images/%s.ext4", image_sha);
  ImageRecord i = { 0, (char *) name, (char *) image_sha, path, 4096, 0, TRUE, (char *) "test", 2 };
  gboolean ok = image_store_register (f->store, &k, &i, kernel_added, error);

  g_free (k.name);
  return ok;
}

static void
test_register_and_list (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) images = NULL, kernels = NULL;
  gboolean added;
  const ImageRecord *a, *b;

  g_assert_true (add (f, "a", SHA_I1, SHA_K1, &added, &error));
  g_assert_no_error (error);
  g_assert_true (added);
  g_assert_true (add (f, "b", SHA_I2, SHA_K1, &added, &error));
  g_assert_false (added);

  kernels = image_store_list_kernels (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kernels->len, ==, 1);
  g_assert_cmpstr (((KernelRecord *) kernels->pdata[0])->release, ==, "6.1.0-56-cloud-amd64");
  g_assert_cmpstr (((KernelRecord *) kernels->pdata[0])->vmlinux_path, ==, "/k/vmlinux");
  images = image_store_list_images (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (images->len, ==, 2);
  a = images->pdata[0];
  b = images->pdata[1];
  g_assert_cmpstr (a->name, ==, "a");
  g_assert_cmpint (a->kernel_id, ==, ((KernelRecord *) kernels->pdata[0])->id);
  g_assert_cmpint (b->kernel_id, ==, a->kernel_id);
  g_assert_cmpuint (a->size, ==, 4096);
  g_assert_true (a->overlay_capable);
}

static void
test_name_taken (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) kernels = NULL;
  gboolean added;

  g_assert_true (add (f, "a", SHA_I1, SHA_K1, &added, &error));
  g_assert_false (add (f, "a", SHA_I2, SHA_K2, &added, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS);
  g_clear_error (&error);
  /* The kernel of the refused image was rolled back with it. */
  kernels = image_store_list_kernels (f->store, &error);
  g_assert_cmpuint (kernels->len, ==, 1);
}

static void
test_delete (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) kernels = NULL;
  gboolean added, file_unused, kernel_deleted;

  g_assert_true (add (f, "a", SHA_I1, SHA_K1, &added, &error));
  g_assert_true (add (f, "a-too", SHA_I1, SHA_K1, &added, &error));
  g_assert_true (add (f, "b", SHA_I2, SHA_K2, &added, &error));

  /* "a-too" still has the file and the kernel. */
  g_assert_true (image_store_delete_image (f->store, "a", &file_unused, &kernel_deleted, &error));
  g_assert_false (file_unused);
  g_assert_false (kernel_deleted);
  g_assert_true (image_store_delete_image (f->store, "a-too", &file_unused, &kernel_deleted, &error));
  g_assert_true (file_unused);
  g_assert_true (kernel_deleted);
  g_assert_false (image_store_delete_image (f->store, "a", &file_unused, &kernel_deleted, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);

  kernels = image_store_list_kernels (f->store, &error);
  g_assert_cmpuint (kernels->len, ==, 1);
  g_assert_cmpstr (((KernelRecord *) kernels->pdata[0])->sha256, ==, SHA_K2);
}

static void
test_survives_reopen (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) images = NULL;
  gboolean added;

  g_assert_true (add (f, "a", SHA_I1, SHA_K1, &added, &error));
  store_close (f->store);
  f->store = store_open (f->path, &error);
  g_assert_no_error (error);
  images = image_store_list_images (f->store, &error);
  g_assert_cmpuint (images->len, ==, 1);
  g_assert_cmpstr (((ImageRecord *) images->pdata[0])->source, ==, "test");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/image-store/register-shares-kernels", test_register_and_list);
  ADD ("/image-store/name-taken-rolls-back", test_name_taken);
  ADD ("/image-store/delete-reports-unused-files", test_delete);
  ADD ("/image-store/rows-survive-reopen", test_survives_reopen);
  return g_test_run ();
}
