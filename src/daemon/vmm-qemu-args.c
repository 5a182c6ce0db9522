/* vmm-qemu-args.c: the qemu command line for one VM. Everything is given
 * at start-up; QMP only starts, checks and stops the machine. */
#define G_LOG_DOMAIN "bangerd-qemu"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "banger-error.h"
#include "vmm-qemu.h"

guint
qemu_host_tsc_khz (void)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/cpuinfo", &text, NULL, NULL))
    return 0;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *colon = strchr (lines[i], ':');
      char *end = NULL;
      double mhz;

      if (!g_str_has_prefix (lines[i], "cpu MHz") || colon == NULL)
        continue;
      mhz = g_ascii_strtod (colon + 1, &end);
      if (end == colon + 1 || mhz < 1.0 || mhz > 100000.0)
        return 0;
      return (guint) (mhz * 1000.0 + 0.5);
    }
  return 0;
}

static gboolean
has_word (const char *cmdline,
          const char *prefix)
{
  g_auto(GStrv) words = g_strsplit_set (cmdline != NULL ? cmdline : "", " \t", -1);

  for (guint i = 0; words[i] != NULL; i++)
    if (g_str_has_prefix (words[i], prefix))
      return TRUE;
  return FALSE;
}

char *
qemu_kernel_cmdline (const char *boot_args,
                     gboolean    kvm,
                     guint       tsc_khz,
                     gboolean    vsock)
{
  GString *cmdline = g_string_new (boot_args != NULL ? boot_args : "");

  if (!has_word (cmdline->str, "banger.agent="))
    g_string_append_printf (cmdline, "%s%s", cmdline->len > 0 ? " " : "",
                            vsock ? QEMU_AGENT_VSOCK_KERNEL_ARGS : QEMU_AGENT_SERIAL_KERNEL_ARGS);
  if (!kvm && tsc_khz > 0 && !has_word (cmdline->str, "tsc_early_khz="))
    g_string_append_printf (cmdline, " tsc_early_khz=%u", tsc_khz);
  return g_string_free (cmdline, FALSE);
}

char *
qemu_opt_escape (const char *value)
{
  GString *escaped = g_string_new (NULL);

  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == ',')
        g_string_append_c (escaped, ',');
      g_string_append_c (escaped, *p);
    }
  return g_string_free (escaped, FALSE);
}

static void
add (GPtrArray  *argv,
     const char *first,
     ...)
{
  va_list args;

  va_start (args, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (args);
}

static void
add_printf (GPtrArray  *argv,
            const char *option,
            const char *format,
            ...) G_GNUC_PRINTF (3, 4);

static void
add_printf (GPtrArray  *argv,
            const char *option,
            const char *format,
            ...)
{
  va_list args;

  g_ptr_array_add (argv, g_strdup (option));
  va_start (args, format);
  g_ptr_array_add (argv, g_strdup_vprintf (format, args));
  va_end (args);
}

static void
add_drive (GPtrArray  *argv,
           const char *id,
           const char *path,
           gboolean    read_only)
{
  g_autofree char *file = qemu_opt_escape (path);

  /* An absolute path: qemu never reads a "protocol:" prefix into it. The
   * host page cache serves the shared image to every VM. */
  add_printf (argv, "-drive", "id=%s,file=%s,format=raw,if=none,cache=writeback%s", id, file,
              read_only ? ",readonly=on" : ",discard=unmap");
  add_printf (argv, "-device", "virtio-blk-device,drive=%s", id);
}

GStrv
qemu_build_argv (const VmmBootSpec *spec,
                 gboolean           kvm,
                 guint              tsc_khz,
                 guint32            vsock_cid)
{
  GPtrArray *argv = g_ptr_array_new ();
  g_autofree char *name = qemu_opt_escape (spec->vm_name);
  g_autofree char *log_path = g_build_filename (spec->state_dir, "console.log", NULL);
  g_autofree char *log = qemu_opt_escape (log_path);
  g_autofree char *cmdline = qemu_kernel_cmdline (spec->boot_args, kvm, tsc_khz,
                                                       vsock_cid != 0);

  add (argv, spec->binary, NULL);
  add_printf (argv, "-name", "guest=%s", name);
  /* microvm's defaults stay: ACPI (devices are found through it, and the
   * power button is how a guest is asked to stop) and the RTC. */
  add (argv, "-M", "microvm", "-accel", kvm ? "kvm" : "tcg", NULL);
  if (kvm)
    add (argv, "-cpu", "host", NULL);
  add_printf (argv, "-m", "%" G_GUINT64_FORMAT "M", spec->memory_mib);
  add_printf (argv, "-smp", "%u", spec->vcpus);
  /* Paused until boot sends "cont"; a guest reboot ends qemu, as it ends
   * Firecracker. */
  add (argv, "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot", "-S", NULL);
  add_printf (argv, "-chardev", "file,id=console,path=%s,append=on", log);
  add (argv, "-serial", "chardev:console", NULL);
  add (argv, "-kernel", spec->kernel_path, NULL);
  if (spec->initrd_path != NULL)
    add (argv, "-initrd", spec->initrd_path, NULL);
  add (argv, "-append", cmdline, NULL);
  /* The image first and the disk second, as with Firecracker. */
  add_drive (argv, "image", spec->image_path, spec->image_read_only);
  add_drive (argv, "disk", spec->disk_path, FALSE);
  if (spec->tap != NULL)
    {
      g_autofree char *tap = qemu_opt_escape (spec->tap);

      /* The helper made the tap owned by the user: no privilege needed. */
      add_printf (argv, "-netdev", "tap,id=net0,ifname=%s,script=no,downscript=no", tap);
      if (spec->mac != NULL)
        {
          g_autofree char *mac = qemu_opt_escape (spec->mac);
          add_printf (argv, "-device", "virtio-net-device,netdev=net0,mac=%s", mac);
        }
      else
        add (argv, "-device", "virtio-net-device,netdev=net0", NULL);
    }
  add (argv, "-chardev", "socket,id=qmp,path=" QEMU_QMP_SOCKET ",server=on,wait=off",
       "-mon", "chardev=qmp,mode=control", NULL);
  if (vsock_cid != 0)
    /* qemu sets the same CID again on the descriptor that already holds
     * it, which the kernel allows; a CID is not free until qemu exits. */
    add_printf (argv, "-device", "vhost-vsock-device,id=" QEMU_AGENT_VSOCK_ID
                ",guest-cid=%u,vhostfd=%d", vsock_cid, QEMU_VHOST_VSOCK_FD);
  else
    add (argv, "-device", "virtio-serial-device",
         "-chardev", "socket,id=agent,path=" QEMU_AGENT_SOCKET ",server=on,wait=off",
         "-device", "virtserialport,id=" QEMU_AGENT_SERIAL_ID ",chardev=agent,name="
         QEMU_AGENT_PORT, NULL);
  g_ptr_array_add (argv, NULL);
  return (GStrv) g_ptr_array_free (argv, FALSE);
}
