/* test-vmm-driver.c: the parts of the VMM drivers that need no guest: the
 * qemu command line and version parsing, the KVM probe, the driver choice
 * with a fake PATH, and Firecracker's vsock handshake against a fake
 * vsock socket served by a thread of this test. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>

#include "banger-error.h"
#include "kvm.h"
#include "vmm-driver.h"
#include "vhost-vsock.h"
#include "vmm-qemu.h"

static const VmmBootSpec base_spec = {
  .vm_name = "web,1",
  .binary = "/usr/bin/qemu-system-x86_64",
  .state_dir = "/state/dir,with,commas",
  .runtime_dir = "/run/banger/abc",
  .kernel_path = "/k/vmlinuz",
  .initrd_path = "/k/initrd",
  .image_path = "/img/root,1.ext4",
  .image_read_only = TRUE,
  .disk_path = "/state/disk.ext4",
  .vcpus = 2,
  .memory_mib = 512,
  .tap = "bg-abc",
  .mac = "02:00:00:00:00:01",
  .boot_args = "console=ttyS0 reboot=k panic=1",
};

/* The value following @option's @nth occurrence. */
static const char *
option_value (char **argv, const char *option, guint nth)
{
  for (guint i = 0; argv[i] != NULL && argv[i + 1] != NULL; i++)
    if (g_str_equal (argv[i], option) && nth-- == 0)
      return argv[i + 1];
  return NULL;
}

static void
test_argv_tcg (void)
{
  g_auto(GStrv) argv = qemu_build_argv (&base_spec, FALSE, 2096023, 0);
  g_autofree char *joined = g_strjoinv (" ", argv);

  g_assert_cmpstr (argv[0], ==, base_spec.binary);
  g_assert_cmpstr (option_value (argv, "-M", 0), ==, "microvm");
  g_assert_cmpstr (option_value (argv, "-accel", 0), ==, "tcg");
  g_assert_null (option_value (argv, "-cpu", 0));
  g_assert_cmpstr (option_value (argv, "-m", 0), ==, "512M");
  g_assert_cmpstr (option_value (argv, "-smp", 0), ==, "2");
  g_assert_true (g_strv_contains ((const char * const *) argv, "-S"));
  g_assert_true (g_strv_contains ((const char * const *) argv, "-nodefaults"));
  g_assert_cmpstr (option_value (argv, "-name", 0), ==, "guest=web,,1");
  g_assert_cmpstr (option_value (argv, "-append", 0), ==,
                   "console=ttyS0 reboot=k panic=1 banger.agent=vport:dev.banger.agent "
                   "tsc_early_khz=2096023");
  /* Commas in paths are doubled, as qemu's option syntax quotes them. */
  g_assert_cmpstr (option_value (argv, "-chardev", 0), ==,
                   "file,id=console,path=/state/dir,,with,,commas/console.log,append=on");
  g_assert_cmpstr (option_value (argv, "-drive", 0), ==,
                   "id=image,file=/img/root,,1.ext4,format=raw,if=none,cache=writeback,"
                   "readonly=on");
  g_assert_cmpstr (option_value (argv, "-drive", 1), ==,
                   "id=disk,file=/state/disk.ext4,format=raw,if=none,cache=writeback,"
                   "discard=unmap");
  g_assert_cmpstr (option_value (argv, "-netdev", 0), ==,
                   "tap,id=net0,ifname=bg-abc,script=no,downscript=no");
  g_assert_nonnull (strstr (joined, "virtio-net-device,netdev=net0,mac=02:00:00:00:00:01"));
  g_assert_nonnull (strstr (joined, "-chardev socket,id=qmp,path=qmp.sock,server=on,wait=off "
                                    "-mon chardev=qmp,mode=control"));
  g_assert_nonnull (strstr (joined, "-chardev socket,id=agent,path=agent.sock,server=on,"
                                    "wait=off -device virtserialport,id=agent-serial,"
                                    "chardev=agent,name=dev.banger.agent"));
  g_assert_null (strstr (joined, "vsock"));
}

/* With a claimed CID: the vhost-vsock device on the inherited descriptor,
 * the guest told to listen on vsock, and no virtio-serial port. */
static void
test_argv_vsock (void)
{
  g_auto(GStrv) argv = qemu_build_argv (&base_spec, FALSE, 2096023, 1234567);
  g_autofree char *joined = g_strjoinv (" ", argv);

  g_assert_cmpstr (option_value (argv, "-append", 0), ==,
                   "console=ttyS0 reboot=k panic=1 banger.agent=vsock:52 "
                   "tsc_early_khz=2096023");
  g_assert_nonnull (strstr (joined, "-device vhost-vsock-device,id=agent-vsock,"
                                    "guest-cid=1234567,vhostfd=3"));
  g_assert_null (strstr (joined, "virtio-serial"));
  g_assert_null (strstr (joined, "agent.sock"));
}

static void
test_argv_kvm_no_tap (void)
{
  VmmBootSpec spec = base_spec;
  g_auto(GStrv) argv = NULL;

  spec.tap = NULL;
  spec.initrd_path = NULL;
  spec.image_read_only = FALSE;
  spec.boot_args = "console=ttyS0 banger.agent=custom";
  argv = qemu_build_argv (&spec, TRUE, 2096023, 0);
  g_assert_cmpstr (option_value (argv, "-accel", 0), ==, "kvm");
  g_assert_cmpstr (option_value (argv, "-cpu", 0), ==, "host");
  g_assert_null (option_value (argv, "-netdev", 0));
  g_assert_null (option_value (argv, "-initrd", 0));
  g_assert_null (strstr (option_value (argv, "-drive", 0), "readonly"));
  /* No tsc_early_khz with KVM; an agent word already there stays alone. */
  g_assert_cmpstr (option_value (argv, "-append", 0), ==, "console=ttyS0 banger.agent=custom");
}

static void
test_cmdline (void)
{
  g_autofree char *a = qemu_kernel_cmdline ("x tsc_early_khz=5", FALSE, 9, FALSE);
  g_autofree char *b = qemu_kernel_cmdline (NULL, FALSE, 0, FALSE);
  g_autofree char *c = qemu_kernel_cmdline ("", FALSE, 7, FALSE);
  g_autofree char *d = qemu_kernel_cmdline ("x", TRUE, 7, TRUE);
  g_autofree char *e = qemu_kernel_cmdline ("x banger.agent=vsock:9", TRUE, 7, FALSE);

  g_assert_cmpstr (a, ==, "x tsc_early_khz=5 banger.agent=vport:dev.banger.agent");
  g_assert_cmpstr (b, ==, "banger.agent=vport:dev.banger.agent");
  g_assert_cmpstr (c, ==, "banger.agent=vport:dev.banger.agent tsc_early_khz=7");
  g_assert_cmpstr (d, ==, "x banger.agent=vsock:52");
  g_assert_cmpstr (e, ==, "x banger.agent=vsock:9");
}

static void
test_escape (void)
{
  g_autofree char *a = qemu_opt_escape ("a,b,,c");
  g_autofree char *b = qemu_opt_escape ("");

  g_assert_cmpstr (a, ==, "a,,b,,,,c");
  g_assert_cmpstr (b, ==, "");
}

static void
test_version_parse (void)
{
  g_autoptr(GError) error = NULL;
  guint major = 0, minor = 0, micro = 0;

  g_assert_true (qemu_version_parse ("QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7)\n"
                                     "Copyright (c) 2003-2022 Fabrice Bellard\n",
                                     &major, &minor, &micro, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (major, ==, 7);
  g_assert_cmpuint (minor, ==, 2);
  g_assert_cmpuint (micro, ==, 22);
  g_assert_true (qemu_version_parse ("QEMU emulator version 9.1\n", &major, &minor, &micro,
                                     &error));
  g_assert_cmpuint (major, ==, 9);
  g_assert_cmpuint (micro, ==, 0);
  g_assert_false (qemu_version_parse ("Firecracker v1.14.4\n", &major, &minor, &micro, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "Firecracker v1.14.4"));
}

static void
test_tsc (void)
{
  g_autofree char *cpuinfo = NULL;

  g_assert_true (g_file_get_contents ("/proc/cpuinfo", &cpuinfo, NULL, NULL));
  if (strstr (cpuinfo, "cpu MHz") == NULL)
    {
      g_assert_cmpuint (qemu_host_tsc_khz (), ==, 0);
      return;
    }
  g_assert_cmpuint (qemu_host_tsc_khz (), >, 1000);
}

static void
test_kvm_check (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (kvm_check ("/nonexistent/kvm", &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "No such file or directory"));
  g_clear_error (&error);
  /* Opens, but is no KVM. */
  g_assert_false (kvm_check ("/dev/null", &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "KVM_GET_API_VERSION"));
}

/* The CPUID check agrees with the kernel's view of the CPU, and a KVM
 * device on a CPU without VMX or SVM (PVM) is refused with that reason. */
static void
test_kvm_cpu (void)
{
  g_autofree char *cpuinfo = NULL;
  g_autoptr(GRegex) flag = g_regex_new ("^flags\\s*:.*\\b(vmx|svm)\\b", G_REGEX_MULTILINE, 0, NULL);
  g_autoptr(GError) error = NULL;
  gboolean has_virt;
  int fd;

  g_assert_true (g_file_get_contents ("/proc/cpuinfo", &cpuinfo, NULL, NULL));
  has_virt = g_regex_match (flag, cpuinfo, 0, NULL);
  /* Only one way: the kernel hides the flag when firmware disabled it. */
  if (has_virt)
    g_assert_nonnull (kvm_cpu_virtualization ());

  fd = open (KVM_DEVICE, O_RDWR | O_CLOEXEC);
  if (fd < 0 || kvm_cpu_virtualization () != NULL)
    {
      if (fd >= 0)
        close (fd);
      g_test_skip ("needs a /dev/kvm this process opens on a CPU without VMX or SVM");
      return;
    }
  close (fd);
  g_assert_false (kvm_usable (&error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "no hardware virtualization"));
}

static void
test_choose (void)
{
  g_autofree char *dir = g_dir_make_tmp ("banger-choose-XXXXXX", NULL);
  g_autofree char *fake = g_build_filename (dir, "firecracker", NULL);
  g_autofree char *old_path = g_strdup (g_getenv ("PATH"));
  g_autoptr(GError) kvm_error = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *reason = NULL;
  gboolean kvm = kvm_usable (&kvm_error);
  const VmmDriver *driver;

  /* Configured names are taken as they are. */
  driver = vmm_driver_choose ("qemu", "firecracker", &reason, &error);
  g_assert_true (driver == &vmm_driver_qemu);
  g_clear_pointer (&reason, g_free);
  driver = vmm_driver_choose ("firecracker", "firecracker", &reason, &error);
  g_assert_true (driver == &vmm_driver_firecracker);
  g_clear_pointer (&reason, g_free);
  g_assert_null (vmm_driver_choose ("bochs", "firecracker", &reason, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);

  /* No firecracker in PATH: qemu, and the reason says so. */
  g_setenv ("PATH", dir, TRUE);
  driver = vmm_driver_choose ("auto", "firecracker", &reason, &error);
  g_assert_no_error (error);
  g_assert_true (driver == &vmm_driver_qemu);
  g_assert_nonnull (strstr (reason, "not installed"));
  g_clear_pointer (&reason, g_free);

  /* A firecracker in PATH: firecracker exactly when /dev/kvm works here. */
  g_assert_true (g_file_set_contents (fake, "#!/bin/sh\n", -1, NULL));
  g_assert_cmpint (g_chmod (fake, 0755), ==, 0);
  driver = vmm_driver_choose ("auto", "firecracker", &reason, &error);
  g_assert_no_error (error);
  if (kvm)
    g_assert_true (driver == &vmm_driver_firecracker);
  else
    {
      g_assert_true (driver == &vmm_driver_qemu);
      g_assert_nonnull (strstr (reason, "/dev/kvm is not usable"));
      g_assert_true (g_str_has_suffix (reason, "so qemu"));
    }
  g_clear_pointer (&reason, g_free);
  /* An absolute path is not looked up in PATH. */
  driver = vmm_driver_choose ("auto", "/nonexistent/firecracker", &reason, &error);
  g_assert_true (driver == &vmm_driver_qemu);
  g_assert_nonnull (strstr (reason, "not installed"));

  g_setenv ("PATH", old_path, TRUE);
  g_unlink (fake);
  g_rmdir (dir);
}

static void
test_driver_members (void)
{
  g_assert_cmpstr (vmm_driver_firecracker.kernel_args, ==, "banger.agent=vsock:52");
  /* qemu's depend on the channel its launch got (test_argv_*). */
  g_assert_null (vmm_driver_qemu.kernel_args);
  g_assert_nonnull (vmm_driver_firecracker.agent_connect_async);
  g_assert_nonnull (vmm_driver_qemu.agent_connect_async);
  g_assert_true (vmm_driver_lookup ("qemu", NULL) == &vmm_driver_qemu);
}

/* ---- Firecracker's vsock handshake against a fake UDS ------------------- */

typedef struct {
  int   listen_fd;
  char *reply;          /* sent after the CONNECT line */
  char *request;        /* what the client sent, up to the newline */
} FakeVsock;

static gpointer
fake_vsock_main (gpointer user_data)
{
  FakeVsock *fv = user_data;
  int fd = accept (fv->listen_fd, NULL, NULL);
  GString *line = g_string_new (NULL);
  char c;

  g_assert_cmpint (fd, >=, 0);
  while (read (fd, &c, 1) == 1 && c != '\n')
    g_string_append_c (line, c);
  fv->request = g_string_free (line, FALSE);
  if (fv->reply != NULL)
    g_assert_cmpint (write (fd, fv->reply, strlen (fv->reply)), ==, (gssize) strlen (fv->reply));
  close (fd);
  return NULL;
}

static void
on_result (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* Connects through vmm_firecracker_agent_connect to a fake vsock socket
 * that answers @reply; returns the stream or NULL with @error. */
static GIOStream *
handshake_with (const char *reply, char **out_request, GError **error)
{
  g_autofree char *dir = g_dir_make_tmp ("banger-vsock-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, VMM_FIRECRACKER_VSOCK_SOCKET, NULL);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  FakeVsock fv = { .reply = (char *) reply };
  g_autoptr(GAsyncResult) result = NULL;
  VmmInstance *instance;
  GThread *thread;
  GIOStream *stream;

  g_strlcpy (addr.sun_path, path, sizeof addr.sun_path);
  fv.listen_fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (bind (fv.listen_fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (listen (fv.listen_fd, 1), ==, 0);
  thread = g_thread_new ("fake-vsock", fake_vsock_main, &fv);

  instance = vmm_instance_new (&vmm_driver_firecracker, NULL, dir, NULL);
  vmm_driver_firecracker.agent_connect_async (instance, NULL, on_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  stream = vmm_driver_firecracker.agent_connect_finish (result, error);
  g_thread_join (thread);
  vmm_instance_free (instance);
  close (fv.listen_fd);
  g_unlink (path);
  g_rmdir (dir);
  *out_request = fv.request;
  return stream;
}

static void
test_vsock_handshake_ok (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *request = NULL;
  g_autoptr(GIOStream) stream = handshake_with ("OK 1073741824\nhello", &request, &error);
  char buffer[16] = { 0 };
  gsize n = 0;

  g_assert_no_error (error);
  g_assert_nonnull (stream);
  g_assert_cmpstr (request, ==, "CONNECT 52");
  /* What follows the OK line is the agent's and reaches the caller. */
  g_assert_true (g_input_stream_read_all (g_io_stream_get_input_stream (stream), buffer,
                                          sizeof buffer - 1, &n, NULL, &error));
  g_assert_cmpstr (buffer, ==, "hello");
}

static void
test_vsock_handshake_bad (void)
{
  const char *replies[] = { "NOPE\n", "OK notanumber\n", "", "OK 5" };

  for (guint i = 0; i < G_N_ELEMENTS (replies); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *request = NULL;
      g_autoptr(GIOStream) stream = handshake_with (replies[i], &request, &error);

      g_assert_null (stream);
      g_assert_error (error, BANGER_ERROR, BANGER_ERROR_FAILED);
      g_assert_cmpstr (request, ==, "CONNECT 52");
    }
}

static void
test_vsock_no_socket (void)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  VmmInstance *instance = vmm_instance_new (&vmm_driver_firecracker, NULL, "/nonexistent", NULL);

  vmm_driver_firecracker.agent_connect_async (instance, NULL, on_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_null (vmm_driver_firecracker.agent_connect_finish (result, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "vsock"));
  vmm_instance_free (instance);
}

/* ---- vhost-vsock: the CID claim and the AF_VSOCK connect ----------------- */

typedef struct {
  guint64 taken_below;   /* CIDs under this are "in use" */
  guint64 taken_from;    /* and so are those from this on */
  int     other_errno;   /* not 0: every call fails with it */
  guint   calls;
  guint64 last;
} FakeCids;

static FakeCids fake_cids;

static int
fake_set_cid (int fd, guint64 cid)
{
  g_assert_cmpint (fd, ==, 42);
  fake_cids.calls++;
  fake_cids.last = cid;
  g_assert_cmpuint (cid, >=, 3);
  g_assert_cmpuint (cid, <=, 0x7fffffff);
  if (fake_cids.other_errno != 0)
    {
      errno = fake_cids.other_errno;
      return -1;
    }
  if (cid < fake_cids.taken_below || cid >= fake_cids.taken_from)
    {
      errno = EADDRINUSE;
      return -1;
    }
  return 0;
}

static void
test_cid_claim (void)
{
  g_autoptr(GError) error = NULL;
  guint32 cid = 0;

  /* Busy CIDs are skipped. */
  fake_cids = (FakeCids) { .taken_below = 1005, .taken_from = G_MAXUINT64 };
  g_assert_true (vhost_vsock_claim_cid (42, 1000, fake_set_cid, &cid, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (cid, ==, 1005);
  g_assert_cmpuint (fake_cids.calls, ==, 6);

  /* The top of the range wraps to the first guest CID. */
  fake_cids = (FakeCids) { .taken_below = 0, .taken_from = 0x7ffffffe };
  g_assert_true (vhost_vsock_claim_cid (42, 0x7ffffffd, fake_set_cid, &cid, &error));
  g_assert_cmpuint (cid, ==, 0x7ffffffd);
  fake_cids = (FakeCids) { .taken_below = 3, .taken_from = 0x7ffffffe };
  g_assert_true (vhost_vsock_claim_cid (42, 0x7ffffffe, fake_set_cid, &cid, &error));
  g_assert_cmpuint (cid, ==, 3);

  /* Reserved or out-of-range starts begin at 3. */
  fake_cids = (FakeCids) { .taken_below = 0, .taken_from = G_MAXUINT64 };
  g_assert_true (vhost_vsock_claim_cid (42, 1, fake_set_cid, &cid, &error));
  g_assert_cmpuint (cid, ==, 3);

  /* A full host: a bounded number of tries, then Busy. */
  fake_cids = (FakeCids) { .taken_below = G_MAXUINT64, .taken_from = G_MAXUINT64 };
  g_assert_false (vhost_vsock_claim_cid (42, 500, fake_set_cid, &cid, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_BUSY);
  g_assert_cmpuint (fake_cids.calls, ==, 64);
  g_clear_error (&error);

  /* Any other failure is the device's, and stops at once. */
  fake_cids = (FakeCids) { .other_errno = ENOTTY };
  g_assert_false (vhost_vsock_claim_cid (42, 500, fake_set_cid, &cid, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED);
  g_assert_cmpuint (fake_cids.calls, ==, 1);
}

/* Not the device: a missing node, and a node that is no vhost-vsock. */
static void
test_cid_open_errors (void)
{
  g_autoptr(GError) error = NULL;
  guint32 cid = 0;

  g_assert_cmpint (vhost_vsock_open_claimed ("/nonexistent/vhost-vsock", &cid, &error), ==, -1);
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "/nonexistent/vhost-vsock"));
  g_clear_error (&error);
  g_assert_cmpint (vhost_vsock_open_claimed ("/dev/null", &cid, &error), ==, -1);
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED);
  g_assert_cmpuint (cid, ==, 0);
}

/* Nothing answers on this CID: the connect fails within its bound (the
 * agent's retry loop depends on that) instead of hanging, and a cancelled
 * one reports the cancel. */
static void
test_vsock_connect_nobody (void)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  gint64 start;
  int probe = socket (AF_VSOCK, SOCK_STREAM, 0);

  if (probe < 0)
    {
      g_test_skip ("no AF_VSOCK on this host");
      return;
    }
  close (probe);
  start = g_get_monotonic_time ();
  vhost_vsock_connect_async (0x7ffffff0, 52, NULL, on_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_null (vhost_vsock_connect_finish (result, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "vsock"));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_TIME_SPAN_SECOND);
  g_clear_error (&error);
  g_clear_object (&result);

  vhost_vsock_connect_async (0x7ffffff0, 52, cancellable, on_result, &result);
  g_cancellable_cancel (cancellable);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_null (vhost_vsock_connect_finish (result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* Nothing of the connect is left to fire later. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* The descriptor qemu gets the claimed device on: inherited under the
 * asked number, whether that differs from ours (dup2) or is the same
 * (only O_CLOEXEC cleared); no other descriptor reaches the VMM, not even
 * one its parent left inheritable. */
static void
spawn_and_read (int         pass_fd,
                int         pass_as,
                int         read_fd,
                const char *expected_fds)
{
  g_autofree char *script = g_strdup_printf ("echo through-%d >&%d; exec ls /proc/self/fd >&%d",
                                             pass_as, pass_as, pass_as);
  const char *argv[] = { "/bin/sh", "-c", script, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autofree char *expected = g_strdup_printf ("through-%d\n%s", pass_as, expected_fds);
  VmmProcess *process;
  char buffer[512] = "";
  gsize length = 0;
  gssize n;
  int log_fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  int stray = dup (log_fd);   /* inheritable, as a careless parent might leave one */

  g_assert_cmpint (stray, >, 2);
  process = vmm_process_spawn_with_fd (argv, "/", log_fd, pass_fd, pass_as, &error);
  g_assert_no_error (error);
  g_assert_nonnull (process);
  close (stray);
  close (log_fd);
  close (pass_fd);
  while ((n = read (read_fd, buffer + length, sizeof buffer - 1 - length)) > 0)
    length += (gsize) n;
  close (read_fd);
  /* ls's own directory descriptor is the lowest free one. */
  g_assert_cmpstr (buffer, ==, expected);
  vmm_process_wait_async (process, 5000, on_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (vmm_process_wait_finish (process, result, &error));
  vmm_process_free (process);
}

static void
test_spawn_with_fd (void)
{
  g_autofree char *expected = NULL;
  int fds[2];
  int same;

  g_assert_cmpint (pipe2 (fds, O_CLOEXEC), ==, 0);
  spawn_and_read (fds[1], 3, fds[0], "0\n1\n2\n3\n4\n");
  /* The shell only takes one-digit descriptors: a free one of those. */
  for (same = 9; same > 3 && fcntl (same, F_GETFD) != -1; same--)
    ;
  g_assert_cmpint (same, >, 3);
  g_assert_cmpint (pipe2 (fds, O_CLOEXEC), ==, 0);
  g_assert_cmpint (dup3 (fds[1], same, O_CLOEXEC), ==, same);
  close (fds[1]);
  expected = g_strdup_printf ("0\n1\n2\n3\n%d\n", same);
  spawn_and_read (same, same, fds[0], expected);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vmm-driver/qemu/argv-tcg", test_argv_tcg);
  g_test_add_func ("/vmm-driver/qemu/argv-kvm-no-tap", test_argv_kvm_no_tap);
  g_test_add_func ("/vmm-driver/qemu/argv-vsock", test_argv_vsock);
  g_test_add_func ("/vmm-driver/qemu/cid-claim", test_cid_claim);
  g_test_add_func ("/vmm-driver/spawn-with-fd", test_spawn_with_fd);
  g_test_add_func ("/vmm-driver/qemu/cid-open-errors", test_cid_open_errors);
  g_test_add_func ("/vmm-driver/qemu/vsock-connect-nobody", test_vsock_connect_nobody);
  g_test_add_func ("/vmm-driver/qemu/cmdline", test_cmdline);
  g_test_add_func ("/vmm-driver/qemu/escape", test_escape);
  g_test_add_func ("/vmm-driver/qemu/version-parse", test_version_parse);
  g_test_add_func ("/vmm-driver/qemu/tsc", test_tsc);
  g_test_add_func ("/vmm-driver/kvm-check", test_kvm_check);
  g_test_add_func ("/vmm-driver/kvm-cpu", test_kvm_cpu);
  g_test_add_func ("/vmm-driver/choose", test_choose);
  g_test_add_func ("/vmm-driver/members", test_driver_members);
  g_test_add_func ("/vmm-driver/firecracker/vsock-handshake-ok", test_vsock_handshake_ok);
  g_test_add_func ("/vmm-driver/firecracker/vsock-handshake-bad", test_vsock_handshake_bad);
  g_test_add_func ("/vmm-driver/firecracker/vsock-no-socket", test_vsock_no_socket);
  return g_test_run ();
}
