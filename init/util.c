/* util.c: console messages, the power-off-on-error rule, and file helpers
 * that never follow a symlink planted in the image or on the disk. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"

void
say (const char *format, ...)
{
  char line[512];
  va_list args;

  va_start (args, format);
  vsnprintf (line, sizeof line, format, args);
  va_end (args);
  dprintf (STDERR_FILENO, "banger-init: %s\n", line);
}

/* A guest that cannot boot powers off rather than hang or offer a shell:
 * the VMM exits, and the host sees the reason on the console log. */
void
die (const char *format, ...)
{
  char line[512];
  va_list args;

  va_start (args, format);
  vsnprintf (line, sizeof line, format, args);
  va_end (args);
  dprintf (STDERR_FILENO, "banger-init: error: %s\n", line);
  sync ();
  reboot (RB_POWER_OFF);
  /* Only reached when not PID 1 (or reboot failed): exiting PID 1 panics,
   * and panic=-1 with the VMM's no-reboot policy ends the VM too. */
  _exit (1);
}

char *
read_file_at (int dir_fd, const char *name, size_t max, size_t *out_len)
{
  int fd = openat (dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  struct stat st = { 0 };
  char *buf;
  size_t len = 0;

  if (fd < 0)
    return NULL;
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    {
      int saved = errno;

      if (S_ISREG (st.st_mode) == 0)
        saved = EINVAL;
      close (fd);
      errno = saved;
      return NULL;
    }
  buf = malloc (max + 2);
  if (buf == NULL)
    {
      close (fd);
      errno = ENOMEM;
      return NULL;
    }
  for (;;)
    {
      ssize_t n = read (fd, buf + len, max + 1 - len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          free (buf);
          close (fd);
          errno = saved;
          return NULL;
        }
      if (n == 0)
        break;
      len += (size_t) n;
      if (len > max)
        {
          free (buf);
          close (fd);
          errno = EFBIG;
          return NULL;
        }
    }
  close (fd);
  buf[len] = '\0';
  if (out_len != NULL)
    *out_len = len;
  return buf;
}

int
write_file_at (int dir_fd, const char *name, const char *contents, size_t len, unsigned mode)
{
  int fd;
  size_t done = 0;

  if (unlinkat (dir_fd, name, 0) < 0 && errno != ENOENT)
    return -1;
  fd = openat (dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0)
    return -1;
  while (done < len)
    {
      ssize_t n = write (fd, contents + done, len - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        goto fail;
      done += (size_t) n;
    }
  if (fchown (fd, 0, 0) < 0 || fchmod (fd, mode) < 0)
    goto fail;
  return close (fd);

fail:
  {
    int saved = errno;
    close (fd);
    errno = saved;
    return -1;
  }
}

int
open_dir_beneath (int root_fd, const char *path, unsigned mode, bool create)
{
  char copy[256];
  char *save = NULL;
  int fd = dup (root_fd);

  if (fd < 0)
    return -1;
  if (strlen (path) >= sizeof copy)
    {
      close (fd);
      errno = ENAMETOOLONG;
      return -1;
    }
  strcpy (copy, path);
  for (char *part = strtok_r (copy, "/", &save); part != NULL; part = strtok_r (NULL, "/", &save))
    {
      int next;

      if (strcmp (part, "..") == 0)
        {
          close (fd);
          errno = EINVAL;
          return -1;
        }
      if (create && mkdirat (fd, part, mode) == 0)
        {
          if (fchownat (fd, part, 0, 0, AT_SYMLINK_NOFOLLOW) < 0)
            {
              int saved = errno;
              close (fd);
              errno = saved;
              return -1;
            }
        }
      next = openat (fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      close (fd);
      if (next < 0)
        return -1;
      fd = next;
    }
  return fd;
}

void
mkdir_or_die (const char *path, unsigned mode)
{
  if (mkdir (path, mode) < 0 && errno != EEXIST)
    die ("cannot create %s: %s", path, strerror (errno));
}

void
str_copy (char *dst, size_t dst_size, const char *src)
{
  size_t len = strnlen (src, dst_size - 1);

  memcpy (dst, src, len);
  dst[len] = '\0';
}
