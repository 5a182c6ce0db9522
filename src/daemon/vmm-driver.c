/* vmm-driver.c: the driver table and the instance every driver returns. */
#define G_LOG_DOMAIN "bangerd-vmm"

#include "config.h"

#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "banger-error.h"
#include "fs-util.h"
#include "kvm.h"
#include "vmm-driver.h"

const VmmDriver *
vmm_driver_lookup (const char  *name,
                   GError     **error)
{
  if (g_strcmp0 (name, vmm_driver_firecracker.name) == 0)
    return &vmm_driver_firecracker;
  if (g_strcmp0 (name, vmm_driver_qemu.name) == 0)
    return &vmm_driver_qemu;
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
               _("Unknown VMM “%s”; banger supports firecracker and qemu"), name);
  return NULL;
}

char *
vmm_binary_find (const char *binary)
{
  g_autofree char *path = strchr (binary, '/') != NULL ? g_strdup (binary)
                                                       : g_find_program_in_path (binary);

  if (path == NULL || g_access (path, X_OK) != 0)
    return NULL;
  return g_steal_pointer (&path);
}

gboolean
vmm_binary_was_checked (char * const *checked,
                        const char   *path)
{
  g_autofree char *identity = fs_file_identity (path);

  return identity != NULL && g_strcmp0 (identity, *checked) == 0;
}

void
vmm_binary_set_checked (char       **checked,
                        const char  *path)
{
  g_free (*checked);
  *checked = fs_file_identity (path);
}

static gboolean
program_found (const char *binary)
{
  g_autofree char *path = NULL;

  if (binary == NULL || binary[0] == '\0')
    return FALSE;
  if (strchr (binary, '/') != NULL)
    return g_file_test (binary, G_FILE_TEST_IS_REGULAR) && access (binary, X_OK) == 0;
  path = g_find_program_in_path (binary);
  return path != NULL;
}

const VmmDriver *
vmm_driver_choose (const char  *configured,
                   const char  *firecracker_binary,
                   char       **reason,
                   GError     **error)
{
  g_autoptr(GError) kvm_error = NULL;
  const VmmDriver *driver;
  char *why;

  if (configured != NULL && !g_str_equal (configured, "auto"))
    {
      driver = vmm_driver_lookup (configured, error);
      if (driver != NULL && reason != NULL)
        *reason = g_strdup_printf (_("%s, as configured"), driver->name);
      return driver;
    }
  /* Firecracker needs KVM; qemu runs everywhere, with TCG at worst. */
  if (!program_found (firecracker_binary))
    {
      driver = &vmm_driver_qemu;
      why = g_strdup_printf (_("auto: Firecracker (“%s”) is not installed, so qemu"),
                             firecracker_binary != NULL ? firecracker_binary : "");
    }
  else if (!kvm_usable (&kvm_error))
    {
      driver = &vmm_driver_qemu;
      why = g_strdup_printf (_("auto: %s, so qemu"), kvm_error->message);
    }
  else
    {
      driver = &vmm_driver_firecracker;
      why = g_strdup (_("auto: Firecracker is installed and /dev/kvm is usable, so firecracker"));
    }
  if (reason != NULL)
    *reason = why;
  else
    g_free (why);
  return driver;
}

VmmInstance *
vmm_instance_new (const VmmDriver *driver,
                  VmmProcess      *process,
                  const char      *runtime_dir,
                  gpointer         priv)
{
  VmmInstance *instance = g_new0 (VmmInstance, 1);

  instance->driver = driver;
  instance->process = process;
  instance->runtime_dir = g_strdup (runtime_dir);
  instance->priv = priv;
  return instance;
}

void
vmm_instance_free (VmmInstance *instance)
{
  if (instance == NULL)
    return;
  if (instance->priv != NULL && instance->driver->free_priv != NULL)
    instance->driver->free_priv (instance->priv);
  vmm_process_free (instance->process);
  g_free (instance->runtime_dir);
  g_free (instance);
}
