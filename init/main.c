/* main.c: banger-init's boot sequence, PID 1 of banger's initramfs
 * (docs/guest-boot.md). Any failure powers the VM off with a one-line
 * reason on the console; it never hangs and never offers a shell. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"

#define DISK_TIMEOUT_SECONDS 10
#define CMDLINE_MAX_BYTES    4096

static void
mount_or_die (const char *source, const char *target, const char *type,
              unsigned long flags, const char *data)
{
  mkdir_or_die (target, 0755);
  if (mount (source, target, type, flags, data) < 0 && errno != EBUSY)
    die ("cannot mount %s on %s: %s", type, target, strerror (errno));
}

static void
console_setup (void)
{
  int fd = open ("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);

  if (fd < 0)
    return;   /* keep whatever stdio the kernel gave us */
  for (int i = 0; i < 3; i++)
    dup2 (fd, i);
  if (fd > 2)
    close (fd);
}

int
main (int argc, char **argv)
{
  Cmdline cmdline;
  VmConf conf;
  Disks disks;
  char err[256];
  char *text, *ssh_key;
  size_t len, ssh_key_len = 0;
  int banger_fd, agent_fd;

  (void) argc;
  (void) argv;
  if (getpid () != 1)
    {
      dprintf (STDERR_FILENO, "banger-init: runs only as PID 1 of banger's initramfs\n");
      return 1;
    }
  umask (022);
  mount_or_die ("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
  console_setup ();
  mount_or_die ("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  mount_or_die ("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  say ("starting");

  modules_load ("/banger/modules");

  text = read_file_at (AT_FDCWD, "/proc/cmdline", CMDLINE_MAX_BYTES, NULL);
  if (text == NULL)
    die ("cannot read /proc/cmdline: %s", strerror (errno));
  if (!cmdline_parse (text, &cmdline, err, sizeof err))
    die ("%s", err);
  free (text);
  /* Only the agent channel in use: each module costs boot time. */
  modules_load (cmdline.agent == AGENT_VSOCK ? "/banger/modules.vsock" : "/banger/modules.vport");

  disks_find (&disks, DISK_TIMEOUT_SECONDS);
  /* No nosuid/nodev: this becomes the overlay root's upper layer. */
  mount_or_die (disks.disk, "/mnt/disk", "ext4", 0, NULL);
  disk_fix_ownership ("/mnt/disk");

  banger_fd = open ("/mnt/disk/banger", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (banger_fd < 0)
    die ("cannot open banger/ on the writable disk: %s", strerror (errno));
  text = read_file_at (banger_fd, "vm.conf", VM_CONF_MAX_BYTES, &len);
  if (text == NULL)
    die ("cannot read vm.conf from the writable disk: %s", strerror (errno));
  if (!vm_conf_parse (text, len, &conf, err, sizeof err))
    die ("%s", err);
  free (text);
  ssh_key = read_file_at (banger_fd, "authorized_keys", SSH_KEY_MAX_BYTES + 1, &ssh_key_len);
  if (ssh_key == NULL && errno != ENOENT)
    die ("cannot read authorized_keys from the writable disk: %s", strerror (errno));
  if (ssh_key != NULL && !ssh_key_valid (ssh_key, ssh_key_len, err, sizeof err))
    die ("%s", err);
  close (banger_fd);

  root_assemble (cmdline.root, &disks);
  root_apply_config (&conf, ssh_key, ssh_key_len);
  free (ssh_key);
  network_setup (&conf);

  agent_fd = agent_to_memfd ("/banger/agent");
  root_hand_over (&cmdline, agent_fd);
}
