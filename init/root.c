/* root.c: puts the VM's root together (overlay of the read-only image and
 * the writable disk, or the image alone in direct mode), writes the VM's
 * identity into it, and hands over: switch_root, then the image's init
 * with the agent beside it, or the agent alone as PID 1. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <linux/magic.h>
#include <unistd.h>

#include "init.h"

#define NEWROOT "/newroot"
#define HOSTS_MAX_BYTES 65536

void
root_assemble (RootMode mode, const Disks *disks)
{
  if (mode == ROOT_DIRECT)
    {
      if (mount (disks->image, NEWROOT, "ext4", 0, NULL) < 0)
        die ("cannot mount the image %s read-write on %s: %s", disks->image, NEWROOT, strerror (errno));
      /* The writable disk only carried the config in this mode. */
      if (umount ("/mnt/disk") < 0)
        die ("cannot unmount the writable disk: %s", strerror (errno));
      say ("root: the image, read-write (direct)");
      return;
    }

  mkdir_or_die ("/mnt/image", 0755);
  /* noload: a shared image on a read-only device is never replayed. */
  if (mount (disks->image, "/mnt/image", "ext4", MS_RDONLY, "noload") < 0)
    die ("cannot mount the image %s read-only: %s", disks->image, strerror (errno));
  if (mount ("overlay", NEWROOT, "overlay", 0,
             "lowerdir=/mnt/image,upperdir=/mnt/disk/overlay/upper,workdir=/mnt/disk/overlay/work") < 0)
    die ("cannot mount the overlay root: %s", strerror (errno));
  /* The overlay holds both file systems; their own mounts are not needed
   * and would only be left behind in the initramfs. */
  if (umount2 ("/mnt/image", MNT_DETACH) < 0 || umount2 ("/mnt/disk", MNT_DETACH) < 0)
    die ("cannot detach the overlay's layers: %s", strerror (errno));
  say ("root: overlay of the image and the writable disk");
}

static void
write_or_die (int dir_fd, const char *what, const char *name, const char *text, size_t len, unsigned mode)
{
  if (write_file_at (dir_fd, name, text, len, mode) < 0)
    die ("cannot write %s: %s", what, strerror (errno));
}

/* /etc/hosts keeps the image's lines but gets our own 127.0.1.1 line, the
 * Debian convention for the machine's own name. */
static void
write_hosts (int etc_fd, const char *hostname)
{
  size_t len = 0, out_len = 0;
  char *old = read_file_at (etc_fd, "hosts", HOSTS_MAX_BYTES, &len);
  char *text, *save = NULL;

  if (old == NULL && errno != ENOENT && errno != ELOOP && errno != EINVAL)
    die ("cannot read the image's /etc/hosts: %s", strerror (errno));
  if (old == NULL)
    {
      old = strdup ("127.0.0.1\tlocalhost\n");
      if (old == NULL)
        die ("out of memory");
      len = strlen (old);
    }
  text = malloc (len + 128);
  if (text == NULL)
    die ("out of memory");
  for (char *line = strtok_r (old, "\n", &save); line != NULL; line = strtok_r (NULL, "\n", &save))
    {
      if (strncmp (line, "127.0.1.1", 9) == 0 && (line[9] == ' ' || line[9] == '\t'))
        continue;
      out_len += (size_t) sprintf (text + out_len, "%s\n", line);
    }
  out_len += (size_t) sprintf (text + out_len, "127.0.1.1\t%s\n", hostname);
  write_or_die (etc_fd, "/etc/hosts", "hosts", text, out_len, 0644);
  free (text);
  free (old);
}

void
root_apply_config (const VmConf *conf, const char *ssh_key, size_t ssh_key_len)
{
  int root_fd = open (NEWROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int etc_fd;
  char text[256];
  size_t len = 0;

  if (root_fd < 0)
    die ("cannot open %s: %s", NEWROOT, strerror (errno));
  if (sethostname (conf->hostname, strlen (conf->hostname)) < 0)
    die ("sethostname: %s", strerror (errno));

  etc_fd = open_dir_beneath (root_fd, "etc", 0755, true);
  if (etc_fd < 0)
    die ("cannot open the image's /etc (a symlink?): %s", strerror (errno));
  len = (size_t) snprintf (text, sizeof text, "%s\n", conf->hostname);
  write_or_die (etc_fd, "/etc/hostname", "hostname", text, len, 0644);
  write_hosts (etc_fd, conf->hostname);

  /* A symlink here (systemd-resolved's stub) is replaced, not followed. */
  if (conf->n_resolvers > 0)
    {
      len = 0;
      for (unsigned i = 0; i < conf->n_resolvers; i++)
        len += (size_t) snprintf (text + len, sizeof text - len, "nameserver %s\n", conf->resolvers[i]);
      write_or_die (etc_fd, "/etc/resolv.conf", "resolv.conf", text, len, 0644);
    }
  close (etc_fd);

  if (ssh_key != NULL)
    {
      int home_fd = open_dir_beneath (root_fd, "root", 0700, true);
      int ssh_fd;

      if (home_fd < 0)
        die ("cannot open the image's /root (a symlink?): %s", strerror (errno));
      ssh_fd = open_dir_beneath (home_fd, ".ssh", 0700, true);
      if (ssh_fd < 0)
        die ("cannot open /root/.ssh (a symlink?): %s", strerror (errno));
      if (fchown (ssh_fd, 0, 0) < 0 || fchmod (ssh_fd, 0700) < 0)
        die ("cannot reset owner and mode of /root/.ssh: %s", strerror (errno));
      write_or_die (ssh_fd, "/root/.ssh/authorized_keys", "authorized_keys", ssh_key, ssh_key_len, 0600);
      close (ssh_fd);
      close (home_fd);
    }
  close (root_fd);
  say ("hostname %s, %u resolver(s)%s", conf->hostname, conf->n_resolvers,
       ssh_key != NULL ? ", SSH key installed" : "");
}

int
agent_to_memfd (const char *path)
{
  int in = open (path, O_RDONLY | O_CLOEXEC);
  int out = memfd_create ("banger-agent", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  char buf[65536];

  if (in < 0)
    die ("cannot open the agent %s: %s", path, strerror (errno));
  if (out < 0)
    die ("memfd_create: %s", strerror (errno));
  for (;;)
    {
      ssize_t n = read (in, buf, sizeof buf);
      ssize_t done = 0;

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        die ("cannot read the agent: %s", strerror (errno));
      if (n == 0)
        break;
      while (done < n)
        {
          ssize_t w = write (out, buf + done, (size_t) (n - done));

          if (w < 0 && errno == EINTR)
            continue;
          if (w < 0)
            die ("cannot copy the agent: %s", strerror (errno));
          done += w;
        }
    }
  close (in);
  /* Nothing in the guest can change the agent behind our back. */
  if (fcntl (out, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
    die ("cannot seal the agent's memfd: %s", strerror (errno));
  return out;
}

/* Removes the initramfs' files to give their memory back, never crossing
 * into another file system (busybox switch_root does the same). */
static void
delete_contents (int dir_fd, dev_t root_dev)
{
  DIR *dir = fdopendir (dir_fd);
  struct dirent *entry;

  if (dir == NULL)
    return;
  while ((entry = readdir (dir)) != NULL)
    {
      struct stat st;

      if (strcmp (entry->d_name, ".") == 0 || strcmp (entry->d_name, "..") == 0)
        continue;
      if (fstatat (dirfd (dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != root_dev)
        continue;
      if (S_ISDIR (st.st_mode))
        {
          int child = openat (dirfd (dir), entry->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

          if (child >= 0)
            delete_contents (child, root_dev);
          unlinkat (dirfd (dir), entry->d_name, AT_REMOVEDIR);
        }
      else
        unlinkat (dirfd (dir), entry->d_name, 0);
    }
  closedir (dir);
}

/* /dev, /proc and /sys move along when the image has places for them, so
 * its init and the agent start with them mounted, as after any initramfs. */
static void
move_api_mounts (void)
{
  static const char *const names[] = { "dev", "proc", "sys" };

  for (unsigned i = 0; i < 3; i++)
    {
      char from[16], to[32];
      struct stat st;

      snprintf (from, sizeof from, "/%s", names[i]);
      snprintf (to, sizeof to, NEWROOT "/%s", names[i]);
      if (lstat (to, &st) == 0 && S_ISDIR (st.st_mode))
        {
          if (mount (from, to, NULL, MS_MOVE, NULL) < 0)
            die ("cannot move %s into the new root: %s", from, strerror (errno));
        }
      else if (umount2 (from, MNT_DETACH) < 0)
        die ("cannot unmount %s: %s", from, strerror (errno));
    }
}

static void
switch_root (void)
{
  struct statfs sfs;
  struct stat root_st, new_st;
  int root_fd;

  if (chdir (NEWROOT) < 0)
    die ("chdir %s: %s", NEWROOT, strerror (errno));
  if (stat ("/", &root_st) < 0 || stat (".", &new_st) < 0)
    die ("stat: %s", strerror (errno));
  if (root_st.st_dev == new_st.st_dev)
    die ("%s is not a mount point", NEWROOT);
  /* Only ever empty an initramfs, never a real disk. */
  if (statfs ("/", &sfs) < 0 || (sfs.f_type != RAMFS_MAGIC && sfs.f_type != TMPFS_MAGIC))
    die ("/ is not an initramfs; refusing to delete its contents");
  move_api_mounts ();

  root_fd = open ("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd >= 0)
    delete_contents (root_fd, root_st.st_dev);
  if (mount (".", "/", NULL, MS_MOVE, NULL) < 0)
    die ("cannot move the new root onto /: %s", strerror (errno));
  if (chroot (".") < 0 || chdir ("/") < 0)
    die ("cannot enter the new root: %s", strerror (errno));
}

static void
exec_agent (int agent_fd, const Cmdline *cmdline, bool pid1)
{
  char *argv[5];
  int argc = 0;

  argv[argc++] = (char *) "banger-agent";
  argv[argc++] = (char *) (cmdline->agent == AGENT_VSOCK ? "--vsock" : "--vport");
  argv[argc++] = (char *) cmdline->agent_arg;
  if (pid1)
    argv[argc++] = (char *) "--pid1";
  argv[argc] = NULL;
  syscall (SYS_execveat, agent_fd, "", argv, environ, AT_EMPTY_PATH);
}

/* The first command in a new VM usually is, or runs through, the image's
 * shell (in the built image busybox, which is also every other command).
 * Reading it from the disk on that command's page faults, one readahead
 * window at a time, made the first Exec cost ~70 ms more than the next
 * under TCG; asked for now, the reads overlap the rest of the boot.
 * Best effort: an image without /bin/sh loses nothing. */
static void
prefetch_shell (void)
{
  int fd = open ("/bin/sh", O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat st;

  if (fd < 0)
    return;
  if (fstat (fd, &st) == 0 && S_ISREG (st.st_mode)
      && posix_fadvise (fd, 0, 0, POSIX_FADV_WILLNEED) == 0)
    say ("reading /bin/sh ahead (%lld bytes)", (long long) st.st_size);
  close (fd);
}

void
root_hand_over (const Cmdline *cmdline, int agent_fd)
{
  struct stat st;
  bool has_init;
  pid_t pid;

  switch_root ();
  prefetch_shell ();

  /* Resolved inside the new root: /sbin/init -> /lib/systemd/systemd is
   * followed within the image, never out of it. */
  has_init = stat (cmdline->init, &st) == 0 && S_ISREG (st.st_mode) && (st.st_mode & 0111) != 0;
  if (!has_init)
    {
      say ("no executable %s in the image; the agent runs as PID 1", cmdline->init);
      exec_agent (agent_fd, cmdline, true);
      die ("cannot start the agent: %s", strerror (errno));
    }

  pid = fork ();
  if (pid < 0)
    die ("fork: %s", strerror (errno));
  if (pid == 0)
    {
      setsid ();
      exec_agent (agent_fd, cmdline, false);
      dprintf (STDERR_FILENO, "banger-init: error: cannot start the agent: %s\n", strerror (errno));
      _exit (127);
    }
  close (agent_fd);
  say ("starting %s", cmdline->init);
  {
    char *argv[] = { cmdline->init[0] != '\0' ? (char *) cmdline->init : NULL, NULL };

    execve (cmdline->init, argv, environ);
  }
  die ("cannot start %s: %s", cmdline->init, strerror (errno));
}
