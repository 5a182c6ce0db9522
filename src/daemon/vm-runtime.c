/* vm-runtime.c: VM paths and the runtime record. The record lives in
 * $XDG_RUNTIME_DIR, which is gone after a reboot, just like the VMMs. */
#define G_LOG_DOMAIN "bangerd-runtime"

#include "config.h"

#include <glib/gi18n.h>

#include "banger-error.h"
#include "vm-runtime.h"

#define RECORD_FILE "vmm.ini"

char *
vm_paths_state_dir (const char *state_root,
                    const char *name)
{
  return g_build_filename (state_root, "vms", name, NULL);
}

char *
vm_paths_runtime_dir (const char *name)
{
  /* A VM name may be 63 characters; a socket path only 107. */
  g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, name, -1);

  hash[16] = '\0';
  return g_build_filename (g_get_user_runtime_dir (), "banger", hash, NULL);
}

void
vm_runtime_record_free (VmRuntimeRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->driver);
  g_free (record->tap);
  g_free (record);
}

gboolean
vm_runtime_write (const char             *runtime_dir,
                  const VmRuntimeRecord  *record,
                  GError                **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autofree char *path = g_build_filename (runtime_dir, RECORD_FILE, NULL);
  g_autofree char *text = NULL;
  g_autoptr(GError) local = NULL;

  g_key_file_set_string (keyfile, "vmm", "driver", record->driver);
  g_key_file_set_integer (keyfile, "vmm", "pid", record->pid);
  g_key_file_set_uint64 (keyfile, "vmm", "start-time", record->start_time);
  g_key_file_set_string (keyfile, "network", "tap", record->tap != NULL ? record->tap : "");
  g_key_file_set_boolean (keyfile, "network", "nat", record->nat);
  g_key_file_set_boolean (keyfile, "vmm", "jailed", record->jailed);
  text = g_key_file_to_data (keyfile, NULL, NULL);
  if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &local))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("Cannot record the running VMM: %s"), local->message);
      return FALSE;
    }
  return TRUE;
}

VmRuntimeRecord *
vm_runtime_read (const char  *runtime_dir,
                 GError     **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autofree char *path = g_build_filename (runtime_dir, RECORD_FILE, NULL);
  g_autoptr(VmRuntimeRecord) record = g_new0 (VmRuntimeRecord, 1);
  g_autoptr(GError) local = NULL;

  if (!g_key_file_load_from_file (keyfile, path, G_KEY_FILE_NONE, &local))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                   _("No runtime record at %s: %s"), path, local->message);
      return NULL;
    }
  record->driver = g_key_file_get_string (keyfile, "vmm", "driver", NULL);
  record->pid = g_key_file_get_integer (keyfile, "vmm", "pid", NULL);
  record->start_time = g_key_file_get_uint64 (keyfile, "vmm", "start-time", NULL);
  record->tap = g_key_file_get_string (keyfile, "network", "tap", NULL);
  record->nat = g_key_file_get_boolean (keyfile, "network", "nat", NULL);
  record->jailed = g_key_file_get_boolean (keyfile, "vmm", "jailed", NULL);
  if (record->driver == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_CORRUPT,
                   _("Runtime record %s is incomplete"), path);
      return NULL;
    }
  return g_steal_pointer (&record);
}
