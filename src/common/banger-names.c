/* banger-names.c: VM names are DNS labels (they become NAME.vm host names),
 * checked here with messages that say how to fix them. */
#define G_LOG_DOMAIN "banger-names"

#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "banger-error.h"
#include "banger-names.h"

gboolean
banger_vm_name_validate (const char  *name,
                         GError     **error)
{
  size_t len;

  if (name == NULL || *name == '\0')
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           _("VM name is empty; use 1-63 characters from a-z, 0-9 and '-'"));
      return FALSE;
    }

  len = strlen (name);
  if (!g_utf8_validate (name, -1, NULL))
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           _("VM name is not valid UTF-8; use 1-63 characters from a-z, 0-9 and '-'"));
      return FALSE;
    }
  if (len > BANGER_VM_NAME_MAX)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("VM name is %zu characters long; a VM name is a DNS label of at most %d characters"),
                   len, BANGER_VM_NAME_MAX);
      return FALSE;
    }

  for (size_t i = 0; i < len; i++)
    {
      unsigned char c = (unsigned char) name[i];

      if (g_ascii_islower (c) || g_ascii_isdigit (c) || c == '-')
        continue;

      if (g_ascii_isupper (c))
        {
          g_autofree char *lower = g_ascii_strdown (name, -1);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       _("VM name “%s” has upper-case letters; names are lower case (try “%s”)"),
                       name, lower);
        }
      else
        {
          g_autofree char *shown = g_strescape (name, NULL);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       _("VM name “%s” contains a character that is not allowed at position %zu; use only a-z, 0-9 and '-'"),
                       shown, i + 1);
        }
      return FALSE;
    }

  if (name[0] == '-' || name[len - 1] == '-')
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("VM name “%s” starts or ends with '-'; a DNS label must begin and end with a letter or digit"),
                   name);
      return FALSE;
    }

  return TRUE;
}

/* @base is a parent path such as /dev/banger/Daemon1/vm. The escape is
 * g_dbus_escape_object_path(), which is reversible for any string. */
char *
banger_object_path_for (const char *base,
                        const char *name)
{
  g_autofree char *escaped = g_dbus_escape_object_path (name);

  return g_strconcat (base, "/", escaped, NULL);
}

/* Returns NULL when @object_path is not a direct child of @base. */
char *
banger_name_from_object_path (const char *base,
                              const char *object_path)
{
  size_t base_len = strlen (base);

  if (strncmp (object_path, base, base_len) != 0 || object_path[base_len] != '/')
    return NULL;
  if (strchr (object_path + base_len + 1, '/') != NULL)
    return NULL;

  return (char *) g_dbus_unescape_object_path (object_path + base_len + 1);
}
