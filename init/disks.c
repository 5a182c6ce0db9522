/* disks.c: finds the VM's two virtio disks by content, not by order
 * (qemu microvm and firecracker enumerate them differently): the writable
 * disk is the ext4 labelled banger-disk, the image is the other one. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "init.h"

#define DISK_LABEL     "banger-disk"
#define EXT4_SB_OFFSET 1024
#define EXT4_MAGIC     0xEF53

/* Makes /dev/NAME from /sys/block/NAME/dev when devtmpfs has not. */
static void
ensure_node (const char *name, char *path, size_t path_size)
{
  char sys[128], text[32];
  unsigned major_nr, minor_nr;
  FILE *f;

  snprintf (path, path_size, "/dev/%s", name);
  if (access (path, F_OK) == 0)
    return;
  snprintf (sys, sizeof sys, "/sys/block/%s/dev", name);
  f = fopen (sys, "re");
  if (f == NULL || fgets (text, sizeof text, f) == NULL
      || sscanf (text, "%u:%u", &major_nr, &minor_nr) != 2)
    die ("cannot read %s: %s", sys, strerror (errno));
  fclose (f);
  if (mknod (path, S_IFBLK | 0600, makedev (major_nr, minor_nr)) < 0 && errno != EEXIST)
    die ("cannot create %s: %s", path, strerror (errno));
}

/* 1 when @path holds an ext4 (or ext2/3) superblock labelled banger-disk. */
static int
has_disk_label (const char *path)
{
  unsigned char sb[256];
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t n;

  if (fd < 0)
    die ("cannot open %s: %s", path, strerror (errno));
  n = pread (fd, sb, sizeof sb, EXT4_SB_OFFSET);
  close (fd);
  if (n != (ssize_t) sizeof sb)
    return 0;
  if ((sb[0x38] | (sb[0x39] << 8)) != EXT4_MAGIC)
    return 0;
  /* s_volume_name: 16 bytes, NUL-padded. */
  return memcmp (sb + 0x78, DISK_LABEL, sizeof DISK_LABEL) == 0;
}

static unsigned
list_virtio_disks (char names[][16], unsigned max)
{
  DIR *dir = opendir ("/sys/block");
  struct dirent *entry;
  unsigned n = 0;

  if (dir == NULL)
    die ("cannot open /sys/block: %s", strerror (errno));
  while ((entry = readdir (dir)) != NULL)
    {
      if (strncmp (entry->d_name, "vd", 2) != 0 || strlen (entry->d_name) >= 16)
        continue;
      if (n < max)
        strcpy (names[n], entry->d_name);
      n++;
    }
  closedir (dir);
  return n;
}

void
disks_find (Disks *out, int timeout_seconds)
{
  char names[8][16];
  unsigned n = 0;
  struct timespec start, now;
  int disk_index = -1;

  clock_gettime (CLOCK_MONOTONIC, &start);
  for (;;)
    {
      n = list_virtio_disks (names, 8);
      if (n >= 2)
        break;
      clock_gettime (CLOCK_MONOTONIC, &now);
      if (now.tv_sec - start.tv_sec >= timeout_seconds)
        die ("found %u virtio disk(s) after %d s; a VM needs its image and its writable disk",
             n, timeout_seconds);
      usleep (20 * 1000);
    }
  if (n > 2)
    die ("found %u virtio disks; expected exactly two (the image and the writable disk)", n);

  for (unsigned i = 0; i < 2; i++)
    {
      char path[32];

      ensure_node (names[i], path, sizeof path);
      if (has_disk_label (path))
        {
          if (disk_index >= 0)
            die ("both virtio disks are labelled %s", DISK_LABEL);
          disk_index = (int) i;
        }
    }
  if (disk_index < 0)
    die ("no virtio disk is an ext4 labelled %s", DISK_LABEL);
  snprintf (out->disk, sizeof out->disk, "/dev/%s", names[disk_index]);
  snprintf (out->image, sizeof out->image, "/dev/%s", names[1 - disk_index]);
  say ("writable disk %s, image %s", out->disk, out->image);
}

/* Opens @name below @dir_fd as a directory (not a symlink), chowns it to
 * root and sets @mode. */
static int
fix_dir (int dir_fd, const char *name, mode_t mode)
{
  int fd = openat (dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    die ("writable disk: cannot open directory %s: %s", name, strerror (errno));
  if (fchown (fd, 0, 0) < 0 || fchmod (fd, mode) < 0)
    die ("writable disk: cannot reset owner and mode of %s: %s", name, strerror (errno));
  return fd;
}

void
disk_fix_ownership (const char *mount_point)
{
  int root_fd = open (mount_point, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int overlay_fd, banger_fd;
  DIR *dir;
  struct dirent *entry;

  if (root_fd < 0)
    die ("cannot open %s: %s", mount_point, strerror (errno));
  overlay_fd = fix_dir (root_fd, "overlay", 0755);
  close (fix_dir (overlay_fd, "upper", 0755));
  close (fix_dir (overlay_fd, "work", 0755));
  close (overlay_fd);

  banger_fd = fix_dir (root_fd, "banger", 0755);
  dir = fdopendir (dup (banger_fd));
  if (dir == NULL)
    die ("writable disk: cannot list banger/: %s", strerror (errno));
  while ((entry = readdir (dir)) != NULL)
    {
      struct stat st;
      int fd;

      if (strcmp (entry->d_name, ".") == 0 || strcmp (entry->d_name, "..") == 0)
        continue;
      fd = openat (banger_fd, entry->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0 || fstat (fd, &st) < 0)
        die ("writable disk: cannot open banger/%.64s: %s", entry->d_name, strerror (errno));
      if (!S_ISREG (st.st_mode))
        die ("writable disk: banger/%.64s is not a regular file", entry->d_name);
      if (fchown (fd, 0, 0) < 0 || fchmod (fd, 0644) < 0)
        die ("writable disk: cannot reset owner and mode of banger/%.64s: %s", entry->d_name, strerror (errno));
      close (fd);
    }
  closedir (dir);
  close (banger_fd);
  close (root_fd);
}
