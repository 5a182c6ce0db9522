/* user-config.c: reads [vm-defaults] from the GKeyFile config. A missing file
 * or key falls back to a value derived from the host, then to a builtin. */
#define G_LOG_DOMAIN "bangerd-config"

#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <unistd.h>

#include "banger-error.h"
#include "banger-size.h"
#include "user-config.h"

#define CONFIG_GROUP_VM_DEFAULTS "vm-defaults"
#define BUILTIN_DISK_BYTES (G_GUINT64_CONSTANT (8) << 30)

/* "auto" sizes: enough for a build or test run, never more than a modest
 * share of the host, so a few VMs fit side by side. */
#define AUTO_VCPUS_MAX       2
#define AUTO_MEMORY_MIB_MAX  1024
#define AUTO_MEMORY_SHARE    4    /* at most a quarter of host memory */

void
host_resources_read (HostResources *out)
{
  long pages = sysconf (_SC_PHYS_PAGES);
  long page_size = sysconf (_SC_PAGESIZE);

  out->n_cpus = g_get_num_processors ();
  out->memory_bytes = (pages > 0 && page_size > 0)
                      ? (guint64) pages * (guint64) page_size : 0;
}

static void
auto_defaults (const HostResources *host,
               VmSettings          *out)
{
  guint64 memory_mib = host->memory_bytes / AUTO_MEMORY_SHARE / (1024 * 1024);

  out->vcpus = (Setting) { CLAMP (host->n_cpus, VM_VCPUS_MIN, AUTO_VCPUS_MAX),
                           SETTING_SOURCE_AUTO };
  out->memory_mib = (Setting) { CLAMP (memory_mib, VM_MEMORY_MIB_MIN, AUTO_MEMORY_MIB_MAX),
                                SETTING_SOURCE_AUTO };
  out->disk_bytes = (Setting) { BUILTIN_DISK_BYTES, SETTING_SOURCE_BUILTIN };
}

/* Prefixes an error about one key with the file and key, so the message
 * tells the user exactly which line to fix. */
gboolean
config_key_error (GError     **error,
                  GError      *cause,
                  const char  *path,
                  const char  *group,
                  const char  *key)
{
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
               _("Config file %s, [%s] %s: %s; fix or remove the key"),
               path, group, key, cause->message);
  g_error_free (cause);
  return FALSE;
}

static gboolean
read_size_key (GKeyFile    *keyfile,
               const char  *path,
               const char  *key,
               guint64     *out_bytes,
               gboolean    *out_present,
               GError     **error)
{
  g_autofree char *text = NULL;
  GError *local = NULL;

  *out_present = FALSE;
  text = g_key_file_get_string (keyfile, CONFIG_GROUP_VM_DEFAULTS, key, NULL);
  if (text == NULL)
    return TRUE;
  if (!banger_size_parse (text, out_bytes, &local))
    return config_key_error (error, local, path, CONFIG_GROUP_VM_DEFAULTS, key);
  *out_present = TRUE;
  return TRUE;
}

static gboolean
apply_keyfile (GKeyFile    *keyfile,
               const char  *path,
               VmSettings  *out,
               GError     **error)
{
  g_auto(GStrv) keys = NULL;
  g_autofree char *vcpus_text = NULL;
  guint64 bytes;
  gboolean present;
  GError *local = NULL;

  keys = g_key_file_get_keys (keyfile, CONFIG_GROUP_VM_DEFAULTS, NULL, NULL);
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    if (!g_strv_contains ((const char *[]) { "vcpus", "memory", "disk", "image", "kernel", "nat", "vmm", NULL }, keys[i]))
      g_warning ("Config file %s: ignoring unknown key [%s] %s",
                 path, CONFIG_GROUP_VM_DEFAULTS, keys[i]);

  vcpus_text = g_key_file_get_string (keyfile, CONFIG_GROUP_VM_DEFAULTS, "vcpus", NULL);
  if (vcpus_text != NULL)
    {
      guint64 vcpus;

      if (!g_ascii_string_to_unsigned (g_strstrip (vcpus_text), 10, 0, G_MAXUINT32,
                                       &vcpus, &local) ||
          !vm_settings_check_vcpus (vcpus, &local))
        return config_key_error (error, local, path, CONFIG_GROUP_VM_DEFAULTS, "vcpus");
      out->vcpus = (Setting) { vcpus, SETTING_SOURCE_CONFIG };
    }

  if (!read_size_key (keyfile, path, "memory", &bytes, &present, error))
    return FALSE;
  if (present)
    {
      if (bytes % (1024 * 1024) != 0)
        {
          g_set_error (&local, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       _("memory must be a whole number of MiB, like 512M or 2G"));
          return config_key_error (error, local, path, CONFIG_GROUP_VM_DEFAULTS, "memory");
        }
      if (!vm_settings_check_memory_mib (bytes >> 20, &local))
        return config_key_error (error, local, path, CONFIG_GROUP_VM_DEFAULTS, "memory");
      out->memory_mib = (Setting) { bytes >> 20, SETTING_SOURCE_CONFIG };
    }

  if (!read_size_key (keyfile, path, "disk", &bytes, &present, error))
    return FALSE;
  if (present)
    {
      if (!vm_settings_check_disk_bytes (bytes, &local))
        return config_key_error (error, local, path, CONFIG_GROUP_VM_DEFAULTS, "disk");
      out->disk_bytes = (Setting) { bytes, SETTING_SOURCE_CONFIG };
    }

  return TRUE;
}

/* Fills @out with the defaults a new VM gets. Reading the small file on
 * each call means edits apply without restarting the daemon. */
gboolean
config_load_vm_defaults (const char          *path,
                         const HostResources *host,
                         VmSettings          *out,
                         GError             **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) local = NULL;
  VmSettings settings;

  auto_defaults (host, &settings);

  if (!g_key_file_load_from_file (keyfile, path, G_KEY_FILE_NONE, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          *out = settings;
          return TRUE;
        }
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("Cannot read config file %s: %s"), path, local->message);
      return FALSE;
    }

  if (!apply_keyfile (keyfile, path, &settings, error))
    return FALSE;

  *out = settings;
  return TRUE;
}
