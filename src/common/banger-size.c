/* banger-size.c: binary units only (K = 1024), because guests see memory
 * and disks in powers of two and "1G" meaning 10^9 would surprise. */
#define G_LOG_DOMAIN "banger-size"

#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "banger-error.h"
#include "banger-size.h"

gboolean
banger_size_parse (const char  *text,
                   guint64     *out_bytes,
                   GError     **error)
{
  g_autofree char *s = g_strstrip (g_strdup (text ? text : ""));
  guint64 value = 0;
  guint shift = 0;
  const char *p = s;

  if (!g_ascii_isdigit (*p))
    goto invalid;

  for (; g_ascii_isdigit (*p); p++)
    {
      guint digit = (guint) (*p - '0');
      if (value > (G_MAXUINT64 - digit) / 10)
        goto too_big;
      value = value * 10 + digit;
    }

  while (*p == ' ')
    p++;

  switch (g_ascii_toupper (*p))
    {
    case '\0': shift = 0; break;
    case 'B': shift = 0; p++; break;
    case 'K': shift = 10; p++; break;
    case 'M': shift = 20; p++; break;
    case 'G': shift = 30; p++; break;
    case 'T': shift = 40; p++; break;
    default: goto invalid;
    }

  /* Accept "G", "GB", "GiB" alike. */
  if (shift > 0)
    {
      if (*p == 'i' || *p == 'I')
        p++;
      if (*p == 'b' || *p == 'B')
        p++;
    }
  if (*p != '\0')
    goto invalid;

  if (shift > 0 && value > (G_MAXUINT64 >> shift))
    goto too_big;

  *out_bytes = value << shift;
  return TRUE;

invalid:
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
               _("“%s” is not a size; write a number with an optional unit, like 512M, 2G or 8GiB"),
               text ? text : "");
  return FALSE;

too_big:
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
               _("Size “%s” is too large"), text);
  return FALSE;
}

/* Exact where possible ("8 GiB", "1536 MiB"), so a round trip is lossless. */
char *
banger_size_format (guint64 bytes)
{
  static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
  guint i = 0;

  while (i + 1 < G_N_ELEMENTS (units) && bytes >= 1024 && bytes % 1024 == 0)
    {
      bytes /= 1024;
      i++;
    }
  return g_strdup_printf ("%" G_GUINT64_FORMAT " %s", bytes, units[i]);
}
