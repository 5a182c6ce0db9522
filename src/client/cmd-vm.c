/* cmd-vm.c: 'banger vm …': the group's table, and create, list, show,
 * change and delete, each a thin call of bangerd's Manager1/VM1 methods. */
#define G_LOG_DOMAIN "banger-client-vm"

#include "config.h"

#include <stdio.h>

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "banger-error.h"
#include "banger-names.h"
#include "banger-size.h"
#include "cmd-vm.h"
#include "command.h"
#include "daemon-connection.h"
#include "output.h"
#include "values.h"

/* Creating and deleting a VM write or remove its disk; give the daemon
 * longer than the 25 s D-Bus default before calling it unresponsive. */
#define DISK_CALL_TIMEOUT_MSEC (5 * 60 * 1000)

int
banger_vm_fail (GError     *error,
                const char *name)
{
  banger_error_explain (error);
  if (g_error_matches (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND))
    banger_error_add_hint (error, _("see 'banger vm list'"));
  else if (g_error_matches (error, BANGER_ERROR, BANGER_ERROR_NOT_RUNNING))
    {
      g_autofree char *hint = g_strdup_printf (_("start it with 'banger vm start %s'"), name);
      banger_error_add_hint (error, hint);
    }
  else if (g_error_matches (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS))
    {
      g_autofree char *hint = g_strdup_printf (_("pick another name, or delete it first with 'banger vm delete %s'"),
                                               name);
      banger_error_add_hint (error, hint);
    }
  return banger_fail (error);
}

BangerVM1 *
banger_vm_lookup (const char    *name,
                  BangerDaemon **out_daemon,
                  int           *status)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BangerDaemon) daemon = NULL;
  BangerVM1 *vm;

  if (!banger_vm_name_validate (name, &error))
    {
      *status = banger_fail (error);
      return NULL;
    }
  daemon = banger_daemon_connect (&error);
  if (daemon == NULL)
    {
      *status = banger_fail (error);
      return NULL;
    }
  /* NotFound comes with its hint to 'banger vm list' already. */
  vm = banger_daemon_find_vm (daemon, name, &error);
  if (vm == NULL)
    {
      *status = banger_fail (error);
      return NULL;
    }
  *out_daemon = g_steal_pointer (&daemon);
  return vm;
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

/* The daemon wants absolute paths; resolve relative ones against our cwd. */
static char *
absolute_path (const char *path)
{
  if (path == NULL)
    return NULL;
  return g_canonicalize_filename (path, NULL);
}

char *
banger_vm_create_call (BangerDaemon              *daemon,
                       const char                *name,
                       const BangerVmCreateArgs  *args,
                       GError                   **error)
{
  g_auto(GVariantBuilder) settings = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  char *path = NULL;

  if (!add_settings (&settings, args->vcpus_text, args->memory_text, args->disk_text, error))
    return NULL;
  if (args->image != NULL)
    {
      g_autofree char *absolute = absolute_path (args->image);
      g_variant_builder_add (&settings, "{sv}", "Image", g_variant_new_string (absolute));
    }
  if (args->kernel != NULL)
    {
      g_autofree char *absolute = absolute_path (args->kernel);
      g_variant_builder_add (&settings, "{sv}", "Kernel", g_variant_new_string (absolute));
    }
  if (args->nat)
    g_variant_builder_add (&settings, "{sv}", "NAT", g_variant_new_boolean (TRUE));
  if (args->vmm != NULL)
    g_variant_builder_add (&settings, "{sv}", "VMM", g_variant_new_string (args->vmm));

  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (daemon->manager), DISK_CALL_TIMEOUT_MSEC);
  if (!banger_manager1_call_create_vm_sync (daemon->manager, name,
                                            g_variant_builder_end (&settings),
                                            &path, NULL, error))
    return NULL;
  return path;
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
  g_autofree char *image = NULL;
  g_autofree char *kernel = NULL;
  g_autofree char *vmm = NULL;
  gboolean nat = FALSE;
  gboolean copy_image = FALSE;
  gboolean json = FALSE;
  const GOptionEntry options[] = {
    { "vcpus", 0, 0, G_OPTION_ARG_STRING, &vcpus_text, N_("Number of virtual CPUs"), N_("N") },
    { "memory", 0, 0, G_OPTION_ARG_STRING, &memory_text, N_("Guest memory, whole MiB: 512M, 2G"), N_("SIZE") },
    { "disk", 0, 0, G_OPTION_ARG_STRING, &disk_text, N_("Size of the writable disk: 8G"), N_("SIZE") },
    { "image", 0, 0, G_OPTION_ARG_FILENAME, &image, N_("Read-only ext4 root image to boot"), N_("PATH") },
    { "kernel", 0, 0, G_OPTION_ARG_FILENAME, &kernel, N_("Uncompressed vmlinux kernel to boot"), N_("PATH") },
    { "nat", 0, 0, G_OPTION_ARG_NONE, &nat, N_("Let the VM reach the outside through the host (NAT)"), NULL },
    { "copy-image", 0, 0, G_OPTION_ARG_NONE, &copy_image,
      N_("Give the VM a private copy of the image (for images that cannot boot from a shared read-only copy)"), NULL },
    { "vmm", 0, 0, G_OPTION_ARG_STRING, &vmm, N_("VMM that runs the VM: firecracker, qemu or auto (firecracker where /dev/kvm is usable, else qemu)"), N_("VMM") },
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
  if (image != NULL)
    {
      g_autofree char *absolute = absolute_path (image);
      g_variant_builder_add (&settings, "{sv}", "Image", g_variant_new_string (absolute));
    }
  if (kernel != NULL)
    {
      g_autofree char *absolute = absolute_path (kernel);
      g_variant_builder_add (&settings, "{sv}", "Kernel", g_variant_new_string (absolute));
    }
  if (nat)
    g_variant_builder_add (&settings, "{sv}", "NAT", g_variant_new_boolean (TRUE));
  if (copy_image)
    g_variant_builder_add (&settings, "{sv}", "CopyImage", g_variant_new_boolean (TRUE));
  if (vmm != NULL)
    g_variant_builder_add (&settings, "{sv}", "VMM", g_variant_new_string (vmm));

  daemon = banger_daemon_connect (&error);
  if (daemon == NULL)
    return banger_fail (error);

  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (daemon->manager), DISK_CALL_TIMEOUT_MSEC);
  if (!banger_manager1_call_create_vm_sync (daemon->manager, name,
                                            g_variant_builder_end (&settings),
                                            &path, NULL, &error))
    return banger_vm_fail (error, name);

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
      g_autofree char *summary = banger_vm_info_describe (info);
      g_autofree char *address = banger_ipv4_address (info->ipv4);

      if (*address != '\0')
        /* Translators: "Created VM “web” at 172.30.0.2 (2 vCPUs, 1 GiB memory, 8 GiB disk)." */
        printf (_("Created VM “%s” at %s (%s).\n"), info->name, address, summary);
      else
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
  banger_print_json_or_text (json, banger_vm_list_to_json (vms), banger_vm_info_render_list (vms));
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
  g_autoptr(BangerDaemon) daemon = NULL;
  g_autoptr(BangerVM1) vm = NULL;
  g_autoptr(BangerVmInfo) info = NULL;
  int status;

  if (!banger_command_parse (group, command, options, &argc, &argv, 1, 1, &status))
    return status;
  vm = banger_vm_lookup (argv[1], &daemon, &status);
  if (vm == NULL)
    return status;
  info = banger_vm_info_from_proxy (vm);
  banger_print_json_or_text (json, banger_vm_info_to_json (info), banger_vm_info_render_show (info));
  return BANGER_EXIT_OK;
}

static int
vm_delete (const BangerCommandGroup *group,
           const BangerCommand      *command,
           int                       argc,
           char                    **argv)
{
  gboolean force = FALSE;
  const GOptionEntry options[] = {
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, N_("Stop the VM first if it runs (kills its VMM)"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GError) error = NULL;
  g_auto(GVariantBuilder) delete_options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr(BangerDaemon) daemon = NULL;
  g_autoptr(BangerVM1) vm = NULL;
  int status;

  if (!banger_command_parse (group, command, options, &argc, &argv, 1, 1, &status))
    return status;
  if (force)
    g_variant_builder_add (&delete_options, "{sv}", "Force", g_variant_new_boolean (TRUE));
  vm = banger_vm_lookup (argv[1], &daemon, &status);
  if (vm == NULL)
    return status;

  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (vm), DISK_CALL_TIMEOUT_MSEC);
  if (!banger_vm1_call_delete_sync (vm, g_variant_builder_end (&delete_options), NULL, &error))
    return banger_vm_fail (error, argv[1]);

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
  g_autofree char *nat_text = NULL;
  const GOptionEntry options[] = {
    { "vcpus", 0, 0, G_OPTION_ARG_STRING, &vcpus_text, N_("Number of virtual CPUs (VM stopped)"), N_("N") },
    { "memory", 0, 0, G_OPTION_ARG_STRING, &memory_text, N_("Guest memory, whole MiB: 512M, 2G (VM stopped)"), N_("SIZE") },
    { "nat", 0, 0, G_OPTION_ARG_STRING, &nat_text, N_("NAT to the outside, on or off (also while running)"), N_("on|off") },
    G_OPTION_ENTRY_NULL
  };
  gboolean nat = FALSE;
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
  if (vcpus_text == NULL && memory_text == NULL && nat_text == NULL)
    return banger_usage_error (group, command, "%s", _("Nothing to change; give --vcpus, --memory or --nat"));
  /* The name first, so a bad name is reported before a bad value. */
  if (!banger_vm_name_validate (argv[1], &error))
    return banger_fail (error);
  if (!add_settings (&changes, vcpus_text, memory_text, NULL, &error))
    return banger_fail (error);
  if (nat_text != NULL)
    {
      if (!banger_parse_on_off ("--nat", nat_text, &nat, &error))
        return banger_fail (error);
      g_variant_builder_add (&changes, "{sv}", "NAT", g_variant_new_boolean (nat));
    }

  vm = banger_vm_lookup (argv[1], &daemon, &status);
  if (vm == NULL)
    return status;

  if (!banger_vm1_call_set_sync (vm, g_variant_builder_end (&changes), NULL, &error))
    return banger_vm_fail (error, argv[1]);

  /* Read back what the daemon now holds rather than echo our input. */
  updated = banger_daemon_load_vm (daemon, g_dbus_proxy_get_object_path (G_DBUS_PROXY (vm)), &error);
  if (updated == NULL)
    return banger_fail (error);
  info = banger_vm_info_from_proxy (updated);
  summary = banger_vm_info_describe (info);
  printf (_("Changed VM “%s” (%s).\n"), info->name, summary);
  return BANGER_EXIT_OK;
}

static const BangerCommand vm_commands[] = {
  { "create", N_("NAME"), N_("Create a VM"),
    N_("Create a VM called NAME (1-63 characters from a-z, 0-9 and '-'). It is\n"
       "created stopped, with an IPv4 address of its own. Settings you leave out\n"
       "come from the config file, from the host's resources or from banger's\n"
       "built-in defaults; 'banger vm show' says which. Sizes take binary units:\n"
       "512M, 2G, 8GiB. Relative --image and --kernel paths are taken from the\n"
       "current directory."),
    vm_create },
  { "list", NULL, N_("List VMs"),
    N_("List all VMs, sorted by name, with their state, address and resources."),
    vm_list },
  { "show", N_("NAME"), N_("Show a VM's settings and where they came from"),
    N_("Show everything banger knows about the VM NAME, and for each setting\n"
       "where its value came from: user (given by you), config (the config\n"
       "file), auto (derived from the host's resources) or builtin. A failed VM\n"
       "shows why it failed right under its state."),
    vm_show },
  { "start", N_("NAME"), N_("Boot a VM"),
    N_("Boot the stopped or failed VM NAME and wait until it runs. On a terminal\n"
       "a progress bar shows each step on standard error. Ctrl-C cancels the\n"
       "start: bangerd undoes what it did, and banger waits for that and exits\n"
       "with status 130 (press Ctrl-C again to stop waiting)."),
    banger_vm_start_run },
  { "stop", N_("NAME"), N_("Shut a VM down"),
    N_("Shut the VM NAME down: ask the guest to power off, wait up to --timeout\n"
       "seconds (default 10) for it, then kill the VMM. --force kills it at once."),
    banger_vm_stop_run },
  { "restart", N_("NAME"), N_("Stop a VM, then boot it again"),
    N_("Stop the VM NAME as 'banger vm stop' does, then start it again as\n"
       "'banger vm start' does, with the same progress and Ctrl-C handling."),
    banger_vm_restart_run },
  { "logs", N_("NAME"), N_("Print a VM's console or VMM log"),
    N_("Print the serial console log of the VM NAME (the guest's kernel and boot\n"
       "messages), or with --vmm the VMM's own log. With --follow keep printing\n"
       "as the log grows, until the VM stops or you press Ctrl-C."),
    banger_vm_logs_run },
  { "exec", N_("NAME -- COMMAND [ARG…]"), N_("Run a command in a running VM"),
    N_("Run COMMAND in the running VM NAME, as root, with banger's standard\n"
       "input, output and error, and exit with its exit status (128 + N when\n"
       "signal N killed it). The command gets PATH and HOME=/root plus the\n"
       "--env variables, and runs in /root unless --cwd says otherwise. Ctrl-C\n"
       "and SIGTERM are passed on to the command; a second Ctrl-C kills it."),
    banger_vm_exec_run },
  { "run", N_("-- COMMAND [ARG…]"), N_("Create and start a VM, run a command in it"),
    N_("Create a VM (named run-XXXXXX unless --name is given; the other options\n"
       "are those of 'banger vm create'), start it, run COMMAND in it as 'banger\n"
       "vm exec' does and exit with its status. Only the command writes to\n"
       "standard output. With --rm the VM is deleted afterwards, also when\n"
       "something failed or Ctrl-C was pressed (Ctrl-C during the start cancels\n"
       "it; during the command it is passed on). --timings prints where the time\n"
       "went to standard error."),
    banger_vm_run_run },
  { "delete", N_("NAME"), N_("Delete a VM and its disk"),
    N_("Delete the VM NAME and everything banger stored for it, including its\n"
       "writable disk. This cannot be undone. A running VM is refused unless\n"
       "--force is given, which kills it first."),
    vm_delete },
  { "set", N_("NAME"), N_("Change a VM's vCPUs, memory or NAT"),
    N_("Change settings of the VM NAME. Give at least one option; all changes\n"
       "are checked before any is applied. --vcpus and --memory need the VM\n"
       "stopped; --nat also works on a running VM and takes effect at once."),
    vm_set },
  { NULL }
};

const BangerCommandGroup banger_vm_group = {
  "vm",
  N_("Create, start, stop, list, show, change and delete VMs"),
  N_("Create, boot, inspect, change and delete VMs. Each VM is a small Linux\n"
     "guest with its own writable disk and address; bangerd keeps them across\n"
     "restarts."),
  vm_commands,
};
