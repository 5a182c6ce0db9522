/* cmd-vm.c: 'banger vm …': create, list, show, change and delete VMs, each
 * a thin call of bangerd's Manager1/VM1 methods. */
#define G_LOG_DOMAIN "banger-client-vm"

#include "config.h"

#include <stdio.h>

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "banger-error.h"
#include "banger-names.h"
#include "banger-size.h"
#include "command.h"
#include "daemon-connection.h"
#include "output.h"
#include "values.h"

/* Creating and deleting a VM write or remove its disk; give the daemon
 * longer than the 25 s D-Bus default before calling it unresponsive. */
#define DISK_CALL_TIMEOUT_MSEC (5 * 60 * 1000)

/* For errors of calls on one VM: explain, then point at the next step. */
static int
fail_on_vm (GError     *error,
            const char *name)
{
  banger_error_explain (error);
  if (g_error_matches (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND))
    banger_error_add_hint (error, _("see 'banger vm list'"));
  else if (g_error_matches (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS))
    {
      g_autofree char *hint = g_strdup_printf (_("pick another name, or delete it first with 'banger vm delete %s'"),
                                               name);
      banger_error_add_hint (error, hint);
    }
  return banger_fail (error);
}

/* Adds the settings given on the command line (NULL = not given) to an
 * a{sv} under their VM1 property names, checking each value first. */
static gboolean
add_settings (GVariantBuilder  *builder,
              const char       *vcpus_text,
              const char       *memory_text,
              const char       *disk_text,
              GError          **error)
{
  guint vcpus;
  guint64 mib, bytes;

  if (vcpus_text != NULL)
    {
      if (!banger_parse_vcpus (vcpus_text, &vcpus, error))
        return FALSE;
      g_variant_builder_add (builder, "{sv}", "VCPUs", g_variant_new_uint32 (vcpus));
    }
  if (memory_text != NULL)
    {
      if (!banger_parse_memory_mib (memory_text, &mib, error))
        return FALSE;
      g_variant_builder_add (builder, "{sv}", "MemoryMiB", g_variant_new_uint64 (mib));
    }
  if (disk_text != NULL)
    {
      if (!banger_parse_disk_bytes (disk_text, &bytes, error))
        return FALSE;
      g_variant_builder_add (builder, "{sv}", "DiskBytes", g_variant_new_uint64 (bytes));
    }
  return TRUE;
}

static char *
describe_vm (const BangerVmInfo *vm)
{
  g_autofree char *memory = banger_size_format (vm->memory_mib * 1024 * 1024);
  g_autofree char *disk = banger_size_format (vm->disk_bytes);
  g_autofree char *vcpus = g_strdup_printf (ngettext ("%u vCPU", "%u vCPUs", vm->vcpus), vm->vcpus);

  /* Translators: e.g. "2 vCPUs, 1 GiB memory, 8 GiB disk". */
  return g_strdup_printf (_("%s, %s memory, %s disk"), vcpus, memory, disk);
}

static int
vm_create (const BangerCommandGroup *group,
           const BangerCommand      *command,
           int                       argc,
           char                    **argv)
{
  g_autofree char *vcpus_text = NULL;
  g_autofree char *memory_text = NULL;
  g_autofree char *disk_text = NULL;
  gboolean json = FALSE;
  const GOptionEntry options[] = {
    { "vcpus", 0, 0, G_OPTION_ARG_STRING, &vcpus_text, N_("Number of virtual CPUs"), N_("N") },
    { "memory", 0, 0, G_OPTION_ARG_STRING, &memory_text, N_("Guest memory, whole MiB: 512M, 2G"), N_("SIZE") },
    { "disk", 0, 0, G_OPTION_ARG_STRING, &disk_text, N_("Size of the writable disk: 8G"), N_("SIZE") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the new VM as JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GError) error = NULL;
  g_auto(GVariantBuilder) settings = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr(BangerDaemon) daemon = NULL;
  g_autoptr(BangerVM1) vm = NULL;
  g_autoptr(BangerVmInfo) info = NULL;
  g_autofree char *path = NULL;
  const char *name;
  int status;

  if (!banger_command_parse (group, command, options, &argc, &argv, 1, 1, &status))
    return status;
  name = argv[1];

  if (!banger_vm_name_validate (name, &error))
    return banger_fail (error);
  if (!add_settings (&settings, vcpus_text, memory_text, disk_text, &error))
    return banger_fail (error);

  daemon = banger_daemon_connect (&error);
  if (daemon == NULL)
    return banger_fail (error);

  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (daemon->manager), DISK_CALL_TIMEOUT_MSEC);
  if (!banger_manager1_call_create_vm_sync (daemon->manager, name,
                                            g_variant_builder_end (&settings),
                                            &path, NULL, &error))
    return fail_on_vm (error, name);

  vm = banger_daemon_load_vm (daemon, path, &error);
  if (vm == NULL)
    return banger_fail (error);
  info = banger_vm_info_from_proxy (vm);

  if (json)
    {
      g_autoptr(JsonNode) node = banger_vm_info_to_json (info);
      banger_json_print (node);
    }
  else
    {
      g_autofree char *summary = describe_vm (info);
      printf (_("Created VM “%s” (%s).\n"), info->name, summary);
    }
  return BANGER_EXIT_OK;
}

static int
vm_list (const BangerCommandGroup *group,
         const BangerCommand      *command,
         int                       argc,
         char                    **argv)
{
  gboolean json = FALSE;
  const GOptionEntry options[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print a JSON array of VMs"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(BangerDaemon) daemon = NULL;
  g_autoptr(GPtrArray) vms = NULL;
  int status;

  if (!banger_command_parse (group, command, options, &argc, &argv, 0, 0, &status))
    return status;

  daemon = banger_daemon_connect (&error);
  if (daemon == NULL)
    return banger_fail (error);
  vms = banger_daemon_list_vms (daemon);

  if (json)
    {
      g_autoptr(JsonNode) node = banger_vm_list_to_json (vms);
      banger_json_print (node);
    }
  else
    {
      g_autofree char *text = banger_vm_info_render_list (vms);
      fputs (text, stdout);
    }
  return BANGER_EXIT_OK;
}

static int
vm_show (const BangerCommandGroup *group,
         const BangerCommand      *command,
         int                       argc,
         char                    **argv)
{
  gboolean json = FALSE;
  const GOptionEntry options[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the VM as a JSON object"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(BangerDaemon) daemon = NULL;
  g_autoptr(BangerVM1) vm = NULL;
  g_autoptr(BangerVmInfo) info = NULL;
  int status;

  if (!banger_command_parse (group, command, options, &argc, &argv, 1, 1, &status))
    return status;
  if (!banger_vm_name_validate (argv[1], &error))
    return banger_fail (error);

  daemon = banger_daemon_connect (&error);
  if (daemon == NULL)
    return banger_fail (error);
  vm = banger_daemon_find_vm (daemon, argv[1], &error);
  if (vm == NULL)
    return banger_fail (error);
  info = banger_vm_info_from_proxy (vm);

  if (json)
    {
      g_autoptr(JsonNode) node = banger_vm_info_to_json (info);
      banger_json_print (node);
    }
  else
    {
      g_autofree char *text = banger_vm_info_render_show (info);
      fputs (text, stdout);
    }
  return BANGER_EXIT_OK;
}

static int
vm_delete (const BangerCommandGroup *group,
           const BangerCommand      *command,
           int                       argc,
           char                    **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BangerDaemon) daemon = NULL;
  g_autoptr(BangerVM1) vm = NULL;
  int status;

  if (!banger_command_parse (group, command, NULL, &argc, &argv, 1, 1, &status))
    return status;
  if (!banger_vm_name_validate (argv[1], &error))
    return banger_fail (error);

  daemon = banger_daemon_connect (&error);
  if (daemon == NULL)
    return banger_fail (error);
  vm = banger_daemon_find_vm (daemon, argv[1], &error);
  if (vm == NULL)
    return banger_fail (error);

  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (vm), DISK_CALL_TIMEOUT_MSEC);
  if (!banger_vm1_call_delete_sync (vm, g_variant_new ("a{sv}", NULL), NULL, &error))
    return fail_on_vm (error, argv[1]);

  printf (_("Deleted VM “%s”.\n"), argv[1]);
  return BANGER_EXIT_OK;
}

static int
vm_set (const BangerCommandGroup *group,
        const BangerCommand      *command,
        int                       argc,
        char                    **argv)
{
  g_autofree char *vcpus_text = NULL;
  g_autofree char *memory_text = NULL;
  const GOptionEntry options[] = {
    { "vcpus", 0, 0, G_OPTION_ARG_STRING, &vcpus_text, N_("Number of virtual CPUs"), N_("N") },
    { "memory", 0, 0, G_OPTION_ARG_STRING, &memory_text, N_("Guest memory, whole MiB: 512M, 2G"), N_("SIZE") },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GError) error = NULL;
  g_auto(GVariantBuilder) changes = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr(BangerDaemon) daemon = NULL;
  g_autoptr(BangerVM1) vm = NULL;
  g_autoptr(BangerVM1) updated = NULL;
  g_autoptr(BangerVmInfo) info = NULL;
  g_autofree char *summary = NULL;
  int status;

  if (!banger_command_parse (group, command, options, &argc, &argv, 1, 1, &status))
    return status;
  if (vcpus_text == NULL && memory_text == NULL)
    return banger_usage_error (group, command, "%s", _("Nothing to change; give --vcpus, --memory or both"));
  if (!banger_vm_name_validate (argv[1], &error))
    return banger_fail (error);
  if (!add_settings (&changes, vcpus_text, memory_text, NULL, &error))
    return banger_fail (error);

  daemon = banger_daemon_connect (&error);
  if (daemon == NULL)
    return banger_fail (error);
  vm = banger_daemon_find_vm (daemon, argv[1], &error);
  if (vm == NULL)
    return banger_fail (error);

  if (!banger_vm1_call_set_sync (vm, g_variant_builder_end (&changes), NULL, &error))
    return fail_on_vm (error, argv[1]);

  /* Read back what the daemon now holds rather than echo our input. */
  updated = banger_daemon_load_vm (daemon, g_dbus_proxy_get_object_path (G_DBUS_PROXY (vm)), &error);
  if (updated == NULL)
    return banger_fail (error);
  info = banger_vm_info_from_proxy (updated);
  summary = describe_vm (info);
  printf (_("Changed VM “%s” (%s).\n"), info->name, summary);
  return BANGER_EXIT_OK;
}

static const BangerCommand vm_commands[] = {
  { "create", N_("NAME"), N_("Create a VM"),
    N_("Create a VM called NAME (1-63 characters from a-z, 0-9 and '-'). It is\n"
       "created stopped. Settings you leave out come from the config file, from\n"
       "the host's resources or from banger's built-in defaults; 'banger vm show'\n"
       "says which. Sizes take binary units: 512M, 2G, 8GiB."),
    vm_create },
  { "list", NULL, N_("List VMs"),
    N_("List all VMs, sorted by name, with their state and resources."),
    vm_list },
  { "show", N_("NAME"), N_("Show a VM's settings and where they came from"),
    N_("Show everything banger knows about the VM NAME, and for each setting\n"
       "where its value came from: user (given by you), config (the config\n"
       "file), auto (derived from the host's resources) or builtin."),
    vm_show },
  { "delete", N_("NAME"), N_("Delete a VM and its disk"),
    N_("Delete the VM NAME and everything banger stored for it, including its\n"
       "writable disk. This cannot be undone."),
    vm_delete },
  { "set", N_("NAME"), N_("Change a stopped VM's vCPUs or memory"),
    N_("Change settings of the stopped VM NAME. Give at least one option; all\n"
       "changes are checked before any is applied."),
    vm_set },
  { NULL }
};

const BangerCommandGroup banger_vm_group = {
  "vm",
  N_("Create, list, show, change and delete VMs"),
  N_("Create, inspect, change and delete VMs. Each VM is a small Linux guest\n"
     "with its own writable disk; bangerd keeps them across restarts."),
  vm_commands,
};
