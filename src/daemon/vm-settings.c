/* vm-settings.c: validates VM settings from D-Bus options and config, so
 * every way a value enters the daemon meets the same ranges and messages. */
#define G_LOG_DOMAIN "bangerd-vm-settings"

#include "config.h"

#include <glib/gi18n.h>

#include "banger-error.h"
#include "banger-size.h"
#include "vm-settings.h"

static const char *const source_names[] = {
  [SETTING_SOURCE_UNKNOWN] = "unknown",
  [SETTING_SOURCE_USER] = "user",
  [SETTING_SOURCE_CONFIG] = "config",
  [SETTING_SOURCE_AUTO] = "auto",
  [SETTING_SOURCE_BUILTIN] = "builtin",
};

const char *
setting_source_to_string (SettingSource source)
{
  if ((guint) source >= G_N_ELEMENTS (source_names))
    return "unknown";
  return source_names[source];
}

SettingSource
setting_source_from_string (const char *text)
{
  for (guint i = 0; i < G_N_ELEMENTS (source_names); i++)
    if (g_strcmp0 (text, source_names[i]) == 0)
      return (SettingSource) i;
  return SETTING_SOURCE_UNKNOWN;
}

gboolean
vm_settings_check_vcpus (guint64   value,
                         GError  **error)
{
  if (value >= VM_VCPUS_MIN && value <= VM_VCPUS_MAX)
    return TRUE;
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
               _("%llu vCPUs is out of range; use %d to %d"),
               (unsigned long long) value, VM_VCPUS_MIN, VM_VCPUS_MAX);
  return FALSE;
}

gboolean
vm_settings_check_memory_mib (guint64   value,
                              GError  **error)
{
  if (value >= VM_MEMORY_MIB_MIN && value <= VM_MEMORY_MIB_MAX)
    return TRUE;
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
               _("%llu MiB of memory is out of range; use %d MiB to %d GiB"),
               (unsigned long long) value, VM_MEMORY_MIB_MIN, VM_MEMORY_MIB_MAX / 1024);
  return FALSE;
}

gboolean
vm_settings_check_disk_bytes (guint64   value,
                              GError  **error)
{
  g_autofree char *shown = banger_size_format (value);

  if (value < VM_DISK_BYTES_MIN || value > VM_DISK_BYTES_MAX)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("A %s disk is out of range; use 64 MiB to 16 TiB"), shown);
      return FALSE;
    }
  /* Whole MiB keeps the ext4 geometry and every VMM happy. */
  if (value % (1024 * 1024) != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("A %s disk is not a whole number of MiB; round it, e.g. to %lluM"),
                   shown, (unsigned long long) ((value + (1024 * 1024) - 1) >> 20));
      return FALSE;
    }
  return TRUE;
}

typedef gboolean (*CheckFunc) (guint64 value, GError **error);

static const struct {
  const char        *key;
  const GVariantType *type;
  VmSettingMask      bit;
  gsize              offset;
  CheckFunc          check;
} option_table[] = {
  { "VCPUs", G_VARIANT_TYPE_UINT32, VM_SETTING_VCPUS,
    G_STRUCT_OFFSET (VmSettings, vcpus), vm_settings_check_vcpus },
  { "MemoryMiB", G_VARIANT_TYPE_UINT64, VM_SETTING_MEMORY_MIB,
    G_STRUCT_OFFSET (VmSettings, memory_mib), vm_settings_check_memory_mib },
  { "DiskBytes", G_VARIANT_TYPE_UINT64, VM_SETTING_DISK_BYTES,
    G_STRUCT_OFFSET (VmSettings, disk_bytes), vm_settings_check_disk_bytes },
};

/* Validates all of @options (a{sv}) before changing anything in @settings,
 * so a bad key never leaves a half-applied change behind. */
gboolean
vm_settings_apply_options (VmSettings     *settings,
                           GVariant       *options,
                           VmSettingMask   allowed,
                           VmSettingMask  *out_changed,
                           GError        **error)
{
  VmSettings updated = *settings;
  VmSettingMask changed = 0;
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_iter_init (&iter, options);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      guint i;
      guint64 number;

      for (i = 0; i < G_N_ELEMENTS (option_table); i++)
        if (g_str_equal (key, option_table[i].key) && (allowed & option_table[i].bit))
          break;

      if (i == G_N_ELEMENTS (option_table))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       _("Unknown or unchangeable setting “%s”"), key);
          g_variant_unref (value);
          return FALSE;
        }
      if (!g_variant_is_of_type (value, option_table[i].type))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       _("Setting “%s” must have D-Bus type “%s”, not “%s”"),
                       key, g_variant_type_peek_string (option_table[i].type),
                       g_variant_get_type_string (value));
          g_variant_unref (value);
          return FALSE;
        }

      number = g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32)
               ? g_variant_get_uint32 (value) : g_variant_get_uint64 (value);
      if (!option_table[i].check (number, error))
        {
          g_variant_unref (value);
          return FALSE;
        }

      *(Setting *) G_STRUCT_MEMBER_P (&updated, option_table[i].offset) =
        (Setting) { number, SETTING_SOURCE_USER };
      changed |= option_table[i].bit;
    }

  *settings = updated;
  if (out_changed)
    *out_changed = changed;
  return TRUE;
}
