/* output.c: tables, "key: value" blocks and JSON for what the CLI prints.
 * Pure string work so tests/unit/client can pin the formats. */
#define G_LOG_DOMAIN "banger-client-output"

#include "config.h"

#include <stdarg.h>
#include <string.h>

#include <glib/gi18n.h>

#include "banger-size.h"
#include "output.h"

void
banger_vm_info_free (BangerVmInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->name);
  g_free (info->state);
  g_free (info->vcpus_source);
  g_free (info->memory_source);
  g_free (info->disk_source);
  g_free (info->vmm);
  g_free (info->vmm_reason);
  g_free (info->ipv4);
  g_free (info->mac);
  g_free (info->tap);
  g_free (info->image);
  g_free (info->kernel);
  g_free (info->disk_strategy);
  g_free (info->last_error);
  g_free (info);
}

/* For g_ptr_array_sort(), which passes pointers to the elements. */
int
banger_vm_info_compare (gconstpointer a,
                        gconstpointer b)
{
  const BangerVmInfo *va = *(BangerVmInfo * const *) a;
  const BangerVmInfo *vb = *(BangerVmInfo * const *) b;

  return g_strcmp0 (va->name, vb->name);
}

char *
banger_format_time_iso (guint64 usec)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc ((gint64) (usec / G_USEC_PER_SEC));

  if (utc == NULL)
    return g_strdup ("1970-01-01T00:00:00Z");
  return g_date_time_format (utc, "%Y-%m-%dT%H:%M:%SZ");
}

char *
banger_format_time_local (guint64  usec,
                          gboolean with_seconds)
{
  g_autoptr(GDateTime) local = g_date_time_new_from_unix_local ((gint64) (usec / G_USEC_PER_SEC));

  if (local == NULL)
    return g_strdup ("-");
  return g_date_time_format (local, with_seconds ? "%Y-%m-%d %H:%M:%S %Z" : "%Y-%m-%d %H:%M");
}

const char *
banger_source_describe (const char *source)
{
  if (source == NULL)
    return _("unknown");
  if (g_str_equal (source, "user"))
    return _("user");
  if (g_str_equal (source, "config"))
    return _("config");
  if (g_str_equal (source, "auto"))
    return _("auto: from host resources");
  if (g_str_equal (source, "builtin"))
    return _("builtin");
  return source;
}

char *
banger_ipv4_address (const char *ipv4_with_prefix)
{
  const char *slash;

  if (ipv4_with_prefix == NULL)
    return g_strdup ("");
  slash = strchr (ipv4_with_prefix, '/');
  if (slash == NULL)
    return g_strdup (ipv4_with_prefix);
  return g_strndup (ipv4_with_prefix, (gsize) (slash - ipv4_with_prefix));
}

char *
banger_vm_info_describe (const BangerVmInfo *vm)
{
  g_autofree char *memory = banger_size_format (vm->memory_mib * 1024 * 1024);
  g_autofree char *disk = banger_size_format (vm->disk_bytes);
  g_autofree char *vcpus = g_strdup_printf (ngettext ("%u vCPU", "%u vCPUs", vm->vcpus), vm->vcpus);

  if (vm->nat)
    /* Translators: e.g. "2 vCPUs, 1 GiB memory, 8 GiB disk, NAT". */
    return g_strdup_printf (_("%s, %s memory, %s disk, NAT"), vcpus, memory, disk);
  /* Translators: e.g. "2 vCPUs, 1 GiB memory, 8 GiB disk". */
  return g_strdup_printf (_("%s, %s memory, %s disk"), vcpus, memory, disk);
}

#define PROGRESS_BAR_CELLS 10

char *
banger_format_progress (const char *label,
                        double      progress,
                        const char *description,
                        guint       max_chars)
{
  g_autoptr(GString) line = g_string_new (NULL);
  guint filled, percent;

  /* NaN fails both comparisons; treat it as no progress. */
  if (!(progress >= 0.0))
    progress = 0.0;
  if (progress > 1.0)
    progress = 1.0;
  percent = (guint) (progress * 100.0 + 0.5);
  /* Round down so the bar is full only when the job is. */
  filled = (guint) (progress * PROGRESS_BAR_CELLS);

  g_string_append_printf (line, "%s: [", label);
  for (guint i = 0; i < PROGRESS_BAR_CELLS; i++)
    g_string_append_c (line, i < filled ? '#' : '.');
  g_string_append_printf (line, "] %3u%%", percent);
  if (description != NULL && *description != '\0')
    g_string_append_printf (line, " %s", description);

  if (max_chars > 0 && (gsize) g_utf8_strlen (line->str, -1) > max_chars)
    {
      const char *end = g_utf8_offset_to_pointer (line->str, max_chars);
      g_string_truncate (line, (gsize) (end - line->str));
    }
  return g_string_free (g_steal_pointer (&line), FALSE);
}

struct _BangerTable {
  guint      n_columns;
  GPtrArray *rows;   /* of GStrv, the header first */
};

static GStrv
collect_row (guint   n_columns,
             va_list args)
{
  GStrv row = g_new0 (char *, n_columns + 1);

  for (guint i = 0; i < n_columns; i++)
    row[i] = g_strdup (va_arg (args, const char *));
  return row;
}

/* Takes @n_columns header strings. */
BangerTable *
banger_table_new (guint n_columns,
                  ...)
{
  BangerTable *table = g_new0 (BangerTable, 1);
  va_list args;

  table->n_columns = n_columns;
  table->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  va_start (args, n_columns);
  g_ptr_array_add (table->rows, collect_row (n_columns, args));
  va_end (args);
  return table;
}

/* Takes as many strings as the table has columns. */
void
banger_table_add_row (BangerTable *table,
                      ...)
{
  va_list args;

  va_start (args, table);
  g_ptr_array_add (table->rows, collect_row (table->n_columns, args));
  va_end (args);
}

char *
banger_table_render (BangerTable *table)
{
  g_autofree glong *widths = g_new0 (glong, table->n_columns);
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint r = 0; r < table->rows->len; r++)
    {
      GStrv row = table->rows->pdata[r];
      for (guint c = 0; c < table->n_columns; c++)
        widths[c] = MAX (widths[c], g_utf8_strlen (row[c] ? row[c] : "", -1));
    }

  for (guint r = 0; r < table->rows->len; r++)
    {
      GStrv row = table->rows->pdata[r];
      for (guint c = 0; c < table->n_columns; c++)
        {
          const char *cell = row[c] ? row[c] : "";
          gboolean last = c + 1 == table->n_columns;

          g_string_append (out, cell);
          /* No trailing blanks after the last column. */
          if (!last)
            for (glong pad = g_utf8_strlen (cell, -1); pad < widths[c] + 2; pad++)
              g_string_append_c (out, ' ');
        }
      g_string_append_c (out, '\n');
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

void
banger_table_free (BangerTable *table)
{
  if (table == NULL)
    return;
  g_ptr_array_unref (table->rows);
  g_free (table);
}

/* @pairs holds label, value, label, value…; a NULL value prints empty. */
static char *
render_field_pairs (GPtrArray *pairs)
{
  g_autoptr(GString) out = g_string_new (NULL);
  glong width = 0;

  for (guint i = 0; i + 1 < pairs->len; i += 2)
    width = MAX (width, g_utf8_strlen (pairs->pdata[i], -1) + 1);

  for (guint i = 0; i + 1 < pairs->len; i += 2)
    {
      const char *label = pairs->pdata[i];
      const char *value = pairs->pdata[i + 1];

      g_string_append_printf (out, "%s:", label);
      for (glong pad = g_utf8_strlen (label, -1) + 1; pad < width + 2; pad++)
        g_string_append_c (out, ' ');
      g_string_append_printf (out, "%s\n", value ? value : "");
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
banger_render_fields (const char *first_label,
                      ...)
{
  g_autoptr(GPtrArray) pairs = g_ptr_array_new ();
  va_list args;

  va_start (args, first_label);
  for (const char *label = first_label; label != NULL; label = va_arg (args, const char *))
    {
      g_ptr_array_add (pairs, (gpointer) label);
      g_ptr_array_add (pairs, va_arg (args, char *));
    }
  va_end (args);
  return render_field_pairs (pairs);
}

char *
banger_vm_info_render_list (GPtrArray *vms)
{
  g_autoptr(BangerTable) table = NULL;

  if (vms->len == 0)
    return g_strdup_printf ("%s\n", _("No VMs. Create one with 'banger vm create NAME'."));

  /* Translators: column headers of 'banger vm list'. */
  table = banger_table_new (7, _("NAME"), _("STATE"), _("IP"), _("VCPUS"), _("MEMORY"),
                            _("DISK"), _("CREATED"));
  for (guint i = 0; i < vms->len; i++)
    {
      const BangerVmInfo *vm = vms->pdata[i];
      g_autofree char *vcpus = g_strdup_printf ("%u", vm->vcpus);
      g_autofree char *memory = banger_size_format (vm->memory_mib * 1024 * 1024);
      g_autofree char *disk = banger_size_format (vm->disk_bytes);
      g_autofree char *created = banger_format_time_local (vm->created_at_usec, FALSE);
      g_autofree char *address = banger_ipv4_address (vm->ipv4);

      banger_table_add_row (table, vm->name, vm->state, *address ? address : "-",
                            vcpus, memory, disk, created);
    }
  return banger_table_render (table);
}

static const char *
or_dash (const char *value)
{
  return value != NULL && *value != '\0' ? value : "-";
}

char *
banger_vm_info_render_show (const BangerVmInfo *vm)
{
  g_autoptr(GPtrArray) pairs = g_ptr_array_new ();
  g_autofree char *memory = banger_size_format (vm->memory_mib * 1024 * 1024);
  g_autofree char *disk = banger_size_format (vm->disk_bytes);
  g_autofree char *vcpus_line = g_strdup_printf ("%u (%s)", vm->vcpus,
                                                 banger_source_describe (vm->vcpus_source));
  g_autofree char *memory_line = g_strdup_printf ("%s (%s)", memory,
                                                  banger_source_describe (vm->memory_source));
  g_autofree char *disk_line = g_strdup_printf ("%s (%s)", disk,
                                                banger_source_describe (vm->disk_source));
  g_autofree char *created = banger_format_time_local (vm->created_at_usec, TRUE);
  g_autofree char *started = NULL;
  g_autofree char *vmm_line = NULL;
  g_autofree char *error_line = NULL;

#define FIELD(label, value) G_STMT_START { \
    g_ptr_array_add (pairs, (gpointer) (label)); \
    g_ptr_array_add (pairs, (gpointer) (value)); \
  } G_STMT_END

  /* Translators: labels of 'banger vm show'; they are aligned for you. */
  FIELD (_("name"), vm->name);
  FIELD (_("state"), vm->state);
  /* Right under the state, so a failed VM says why before anything else. */
  if (g_strcmp0 (vm->state, "failed") == 0)
    {
      error_line = g_strdup (vm->last_error != NULL && *vm->last_error != '\0'
                             ? vm->last_error : _("unknown (the daemon did not say)"));
      FIELD (_("error"), error_line);
    }
  FIELD (_("vcpus"), vcpus_line);
  FIELD (_("memory"), memory_line);
  FIELD (_("disk"), disk_line);
  FIELD (_("ipv4"), or_dash (vm->ipv4));
  FIELD (_("mac"), or_dash (vm->mac));
  FIELD (_("nat"), vm->nat ? _("on") : _("off"));
  if (vm->tap != NULL && *vm->tap != '\0')
    FIELD (_("tap"), vm->tap);
  /* FIELD keeps the pointer until the table is printed. */
  vmm_line = vm->vmm_reason != NULL && *vm->vmm_reason != '\0'
             ? g_strdup_printf ("%s (%s)", or_dash (vm->vmm), vm->vmm_reason)
             : g_strdup (or_dash (vm->vmm));
  FIELD (_("vmm"), vmm_line);
  FIELD (_("kernel"), vm->kernel != NULL && *vm->kernel != '\0' ? vm->kernel : _("(not set)"));
  FIELD (_("image"), vm->image != NULL && *vm->image != '\0' ? vm->image : _("(not set)"));
  FIELD (_("disk strategy"), or_dash (vm->disk_strategy));
  FIELD (_("created"), created);
  if (vm->started_at_usec != 0)
    {
      started = banger_format_time_local (vm->started_at_usec, TRUE);
      FIELD (_("started"), started);
    }
#undef FIELD

  return render_field_pairs (pairs);
}

/* Adds @member as a string, or as null when @value is NULL. */
void
banger_json_add_string_or_null (JsonBuilder *b,
                                const char  *member,
                                const char  *value)
{
  json_builder_set_member_name (b, member);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

/* The daemon's "" means "none", which JSON says as null. */
static void
json_add_nonempty_or_null (JsonBuilder *b,
                           const char  *member,
                           const char  *value)
{
  banger_json_add_string_or_null (b, member, value != NULL && *value != '\0' ? value : NULL);
}

/* The field names are the documented, stable JSON schema (docs/cli.md):
 * add fields, never rename or remove them. */
JsonNode *
banger_vm_info_to_json (const BangerVmInfo *vm)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *created = banger_format_time_iso (vm->created_at_usec);
  g_autofree char *started = NULL;

  json_builder_begin_object (b);
  banger_json_add_string_or_null (b, "name", vm->name);
  banger_json_add_string_or_null (b, "state", vm->state);
  json_builder_set_member_name (b, "vcpus");
  json_builder_add_int_value (b, vm->vcpus);
  json_builder_set_member_name (b, "memory_mib");
  json_builder_add_int_value (b, (gint64) vm->memory_mib);
  json_builder_set_member_name (b, "disk_bytes");
  json_builder_add_int_value (b, (gint64) vm->disk_bytes);
  json_builder_set_member_name (b, "created_at");
  json_builder_add_string_value (b, created);
  json_add_nonempty_or_null (b, "vmm", vm->vmm);
  json_add_nonempty_or_null (b, "vmm_reason", vm->vmm_reason);
  json_add_nonempty_or_null (b, "ipv4", vm->ipv4);
  json_add_nonempty_or_null (b, "mac", vm->mac);
  json_add_nonempty_or_null (b, "tap", vm->tap);
  json_builder_set_member_name (b, "nat");
  json_builder_add_boolean_value (b, vm->nat);
  json_add_nonempty_or_null (b, "image", vm->image);
  json_add_nonempty_or_null (b, "kernel", vm->kernel);
  json_add_nonempty_or_null (b, "disk_strategy", vm->disk_strategy);
  if (vm->started_at_usec != 0)
    started = banger_format_time_iso (vm->started_at_usec);
  banger_json_add_string_or_null (b, "started_at", started);
  json_add_nonempty_or_null (b, "last_error", vm->last_error);
  json_builder_set_member_name (b, "settings_source");
  json_builder_begin_object (b);
  banger_json_add_string_or_null (b, "vcpus", vm->vcpus_source);
  banger_json_add_string_or_null (b, "memory_mib", vm->memory_source);
  banger_json_add_string_or_null (b, "disk_bytes", vm->disk_source);
  json_builder_end_object (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
banger_vm_list_to_json (GPtrArray *vms)
{
  JsonArray *array = json_array_sized_new (vms->len);
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);

  for (guint i = 0; i < vms->len; i++)
    json_array_add_element (array, banger_vm_info_to_json (vms->pdata[i]));
  json_node_take_array (node, array);
  return node;
}

char *
banger_json_to_string (JsonNode *node)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, NULL);
  return g_strconcat (text, "\n", NULL);
}

void
banger_json_print (JsonNode *node)
{
  g_autofree char *text = banger_json_to_string (node);

  fputs (text, stdout);
}

void
banger_print_json_or_text (gboolean  json,
                           JsonNode *node,
                           char     *text)
{
  g_autoptr(JsonNode) owned_node = node;
  g_autofree char *owned_text = text;

  if (json)
    banger_json_print (node);
  else
    fputs (text, stdout);
}

char *
banger_text_tail (const char *text,
                  gboolean    cut_start,
                  guint       max_lines)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  const char *start;
  const char *end;
  guint lines = 0;
  GString *out;

  if (cut_start)
    {
      const char *newline = strchr (valid, '\n');
      start = newline != NULL ? newline + 1 : valid + strlen (valid);
    }
  else
    start = valid;
  end = valid + strlen (valid);
  while (end > start && (end[-1] == '\n' || end[-1] == '\r'))
    end--;
  if (max_lines == 0)
    start = end;
  /* Back from the end to the newline before the first line kept. */
  for (const char *p = end; p > start; p--)
    if (p[-1] == '\n' && ++lines == max_lines)
      {
        start = p;
        break;
      }

  out = g_string_sized_new ((gsize) (end - start));
  for (const char *p = start; p < end; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c == '\r')
        continue;
      if (g_unichar_iscntrl (c) && c != '\n' && c != '\t')
        g_string_append_c (out, '?');
      else
        g_string_append_unichar (out, c);
    }
  return g_string_free (out, FALSE);
}
