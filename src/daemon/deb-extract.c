/* deb-extract.c: reads both levels of a .deb (ar, then the compressed tar)
 * with libarchive, streaming; every entry's path is checked before it is
 * written, and libarchive refuses to write through symlinks. */
#define G_LOG_DOMAIN "bangerd-image"

#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <glib/gi18n.h>

#include "banger-error.h"
#include "deb-extract.h"

typedef struct archive Archive;

static void
archive_unref (Archive *a)
{
  archive_free (a);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Archive, archive_unref)

static gboolean
fail (GError     **error,
      const char  *deb_path,
      const char  *what)
{
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
               _("Cannot unpack %s: %s"), deb_path, what);
  return FALSE;
}

/* A relative path with no ".." component, "./" prefixes dropped; NULL
 * when the archive names something outside its root. */
static char *
safe_relative (const char *path)
{
  g_auto(GStrv) parts = NULL;
  g_autoptr(GPtrArray) kept = g_ptr_array_new ();

  if (path == NULL || path[0] == '/' || path[0] == '\0')
    return NULL;
  parts = g_strsplit (path, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (g_str_equal (parts[i], ".."))
        return NULL;
      if (parts[i][0] != '\0' && !g_str_equal (parts[i], "."))
        g_ptr_array_add (kept, parts[i]);
    }
  g_ptr_array_add (kept, NULL);
  return g_strjoinv ("/", (char **) kept->pdata);
}

/* The inner archive reads straight from the outer one's current member. */
typedef struct {
  Archive *outer;
  char     chunk[64 * 1024];
} MemberReader;

static la_ssize_t
read_member (struct archive *inner,
             void           *user_data,
             const void    **buffer)
{
  MemberReader *reader = user_data;

  *buffer = reader->chunk;
  return archive_read_data (reader->outer, reader->chunk, sizeof reader->chunk);
}

static gboolean
extract_data (Archive       *outer,
              const char    *deb_path,
              const char    *dest_dir,
              GCancellable  *cancellable,
              GError       **error)
{
  /* Declared first so that it outlives the archive reading from it. */
  g_autofree MemberReader *reader = g_new0 (MemberReader, 1);
  g_autoptr(Archive) inner = archive_read_new ();
  g_autoptr(Archive) disk = archive_write_disk_new ();
  struct archive_entry *entry;
  int rc;

  archive_read_support_format_tar (inner);
  archive_read_support_filter_all (inner);
  /* Paths are made absolute below (after checking), so the absolute-path
   * guard stays off; the symlink and ".." guards stay on regardless. */
  archive_write_disk_set_options (disk, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                                        ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                        ARCHIVE_EXTRACT_SECURE_NODOTDOT);
  /* No ARCHIVE_EXTRACT_UNLINK: with it libarchive replaces a symlink in
   * the way by a directory instead of refusing the entry. */
  reader->outer = outer;
  if (archive_read_open (inner, reader, NULL, read_member, NULL) != ARCHIVE_OK)
    return fail (error, deb_path, archive_error_string (inner));

  while ((rc = archive_read_next_header (inner, &entry)) == ARCHIVE_OK)
    {
      g_autofree char *relative = safe_relative (archive_entry_pathname (entry));
      g_autofree char *target = NULL;
      const char *hardlink = archive_entry_hardlink (entry);
      mode_t type = archive_entry_filetype (entry);

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if (relative == NULL)
        {
          g_autofree char *what = g_strdup_printf (_("entry “%s” points outside the package"),
                                                   archive_entry_pathname (entry));
          return fail (error, deb_path, what);
        }
      if (hardlink == NULL && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
        {
          g_autofree char *what = g_strdup_printf (_("entry “%s” is not a file, directory "
                                                     "or symlink"), relative);
          return fail (error, deb_path, what);
        }
      if (relative[0] == '\0')
        continue;   /* "./" itself: @dest_dir exists */
      target = g_build_filename (dest_dir, relative, NULL);
      archive_entry_set_pathname (entry, target);
      if (hardlink != NULL)
        {
          g_autofree char *link_relative = safe_relative (hardlink);
          g_autofree char *link_target = NULL;

          if (link_relative == NULL || link_relative[0] == '\0')
            {
              g_autofree char *what = g_strdup_printf (_("hard link “%s” points outside the "
                                                         "package"), hardlink);
              return fail (error, deb_path, what);
            }
          link_target = g_build_filename (dest_dir, link_relative, NULL);
          archive_entry_set_hardlink (entry, link_target);
        }
      if (archive_write_header (disk, entry) != ARCHIVE_OK)
        return fail (error, deb_path, archive_error_string (disk));
      if (archive_entry_size (entry) > 0 && hardlink == NULL)
        {
          const void *block;
          size_t size;
          la_int64_t offset;

          while ((rc = archive_read_data_block (inner, &block, &size, &offset)) == ARCHIVE_OK)
            if (archive_write_data_block (disk, block, size, offset) != ARCHIVE_OK)
              return fail (error, deb_path, archive_error_string (disk));
          if (rc != ARCHIVE_EOF)
            return fail (error, deb_path, archive_error_string (inner));
        }
      if (archive_write_finish_entry (disk) != ARCHIVE_OK)
        return fail (error, deb_path, archive_error_string (disk));
    }
  if (rc != ARCHIVE_EOF)
    return fail (error, deb_path, archive_error_string (inner));
  if (archive_write_close (disk) != ARCHIVE_OK)
    return fail (error, deb_path, archive_error_string (disk));
  return TRUE;
}

gboolean
deb_extract (const char    *deb_path,
             const char    *dest_dir,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr(Archive) outer = archive_read_new ();
  /* libarchive refuses any symlink on the way to an entry, including in
   * @dest_dir itself (a symlinked home): resolve that part first. */
  g_autofree char *real_dest = realpath (dest_dir, NULL);
  struct archive_entry *entry;
  int rc;

  if (real_dest == NULL)
    {
      int saved = errno;
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, _("Cannot unpack into %s: %s"),
                   dest_dir, g_strerror (saved));
      return FALSE;
    }
  archive_read_support_format_ar (outer);
  if (archive_read_open_filename (outer, deb_path, 64 * 1024) != ARCHIVE_OK)
    return fail (error, deb_path, archive_error_string (outer));
  while ((rc = archive_read_next_header (outer, &entry)) == ARCHIVE_OK)
    if (g_str_has_prefix (archive_entry_pathname (entry), "data.tar"))
      return extract_data (outer, deb_path, real_dest, cancellable, error);
  if (rc != ARCHIVE_EOF)
    return fail (error, deb_path, archive_error_string (outer));
  return fail (error, deb_path, _("it has no data.tar member; is it a Debian package?"));
}
