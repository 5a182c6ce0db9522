/* vmm-driver.c: the driver table and the instance every driver returns. */
#define G_LOG_DOMAIN "bangerd-vmm"

#include "config.h"

#include <glib/gi18n.h>

#include "banger-error.h"
#include "vmm-driver.h"

const VmmDriver *
vmm_driver_lookup (const char  *name,
                   GError     **error)
{
  if (g_strcmp0 (name, vmm_driver_firecracker.name) == 0)
    return &vmm_driver_firecracker;
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
               _("Unknown VMM “%s”; banger supports firecracker"), name);
  return NULL;
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
