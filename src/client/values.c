/* values.c: local checks of --vcpus, --memory, --disk, --nat and --timeout. Only the form is
 * checked here; ranges are the daemon's to enforce (it re-validates all). */
#define G_LOG_DOMAIN "banger-client-values"

#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "banger-error.h"
#include "banger-size.h"
#include "values.h"

#define MIB (G_GUINT64_CONSTANT (1024) * 1024)

gboolean
banger_parse_vcpus (const char  *text,
                    guint       *out_vcpus,
                    GError     **error)
{
  guint64 value = 0;

  if (!g_ascii_string_to_unsigned (text, 10, 1, G_MAXUINT32, &value, NULL))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("--vcpus wants a positive whole number, like 2; “%s” is not one"),
                   text);
      return FALSE;
    }
  *out_vcpus = (guint) value;
  return TRUE;
}

/* Memory travels as MemoryMiB, so a size that is not whole MiB would be
 * silently rounded; refuse it and say what was understood instead. */
gboolean
banger_parse_memory_mib (const char  *text,
                         guint64     *out_mib,
                         GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  guint64 bytes = 0;

  if (!banger_size_parse (text, &bytes, &local_error))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("--memory: %s"), local_error->message);
      return FALSE;
    }
  if (bytes == 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("--memory must be more than 0, like 512M or 2G"));
      return FALSE;
    }
  if (bytes % MIB != 0)
    {
      g_autofree char *understood = banger_size_format (bytes);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("--memory must be a whole number of MiB, like 512M or 2G; “%s” is %s"),
                   text, understood);
      return FALSE;
    }
  *out_mib = bytes / MIB;
  return TRUE;
}

gboolean
banger_parse_disk_bytes (const char  *text,
                         guint64     *out_bytes,
                         GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  guint64 bytes = 0;

  if (!banger_size_parse (text, &bytes, &local_error))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("--disk: %s"), local_error->message);
      return FALSE;
    }
  if (bytes == 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("--disk must be more than 0, like 8G"));
      return FALSE;
    }
  *out_bytes = bytes;
  return TRUE;
}

gboolean
banger_parse_on_off (const char  *option_name,
                     const char  *text,
                     gboolean    *out_value,
                     GError     **error)
{
  if (g_ascii_strcasecmp (text, "on") == 0)
    *out_value = TRUE;
  else if (g_ascii_strcasecmp (text, "off") == 0)
    *out_value = FALSE;
  else
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("%s wants on or off; “%s” is neither"), option_name, text);
      return FALSE;
    }
  return TRUE;
}

gboolean
banger_parse_timeout (const char  *text,
                      guint       *out_seconds,
                      GError     **error)
{
  guint64 value = 0;

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT32, &value, NULL))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("--timeout wants whole seconds, like 30; “%s” is not that"),
                   text);
      return FALSE;
    }
  *out_seconds = (guint) value;
  return TRUE;
}
