/* modules.c: loads the kernel modules the initramfs carries, one set at a
 * time (the base set, then the agent channel's), each in the order banger's
 * initramfs builder resolved from modules.dep (dependencies first). A
 * module the kernel already has is fine. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "init.h"

#define LIST_MAX_BYTES 16384

static void
load_one (int dir_fd, const char *relative)
{
  int fd;

  if (relative[0] == '/' || strstr (relative, "..") != NULL)
    die ("module list entry \"%.64s\" is not a path below /lib/modules", relative);
  fd = openat (dir_fd, relative, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    die ("cannot open module %s: %s", relative, strerror (errno));
  if (syscall (SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
    die ("cannot load module %s: %s", relative, strerror (errno));
  close (fd);
}

void
modules_load (const char *list_path)
{
  struct utsname uts;
  char dir[128 + sizeof uts.release];
  char *list, *save = NULL;
  int dir_fd;
  unsigned count = 0;

  list = read_file_at (AT_FDCWD, list_path, LIST_MAX_BYTES, NULL);
  if (list == NULL)
    die ("cannot read %s: %s", list_path, strerror (errno));
  if (uname (&uts) < 0)
    die ("uname: %s", strerror (errno));
  strcpy (dir, "/lib/modules/");
  strcat (dir, uts.release);
  dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0)
    {
      /* No modules at all is fine when the list is empty (all built in). */
      if (list[0] == '\0')
        {
          free (list);
          return;
        }
      die ("cannot open %s (the initramfs was built for another kernel?): %s", dir, strerror (errno));
    }

  for (char *line = strtok_r (list, "\n", &save); line != NULL; line = strtok_r (NULL, "\n", &save))
    {
      load_one (dir_fd, line);
      count++;
    }
  close (dir_fd);
  free (list);
  say ("loaded %u module%s of %s", count, count == 1 ? "" : "s", list_path);
}
