/* stub-agent.c: stands in for banger-agent in the guest boot tests. It
 * reports its argv and where it runs from on the console, answers on the
 * virtio-serial port named by --vport, leaves a mark in the root file
 * system for the image's init to wait on, and as PID 1 (--pid1) powers the
 * VM off. Static plain C, like banger-init. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <unistd.h>

static void
say_to_port (const char *name, const char *text)
{
  DIR *dir = opendir ("/sys/class/virtio-ports");
  struct dirent *entry;

  if (dir == NULL)
    return;
  while ((entry = readdir (dir)) != NULL)
    {
      char path[512], port[128] = "";
      FILE *f;

      if (entry->d_name[0] == '.')
        continue;
      snprintf (path, sizeof path, "/sys/class/virtio-ports/%s/name", entry->d_name);
      f = fopen (path, "re");
      if (f == NULL)
        continue;
      if (fgets (port, sizeof port, f) != NULL)
        port[strcspn (port, "\n")] = '\0';
      fclose (f);
      if (strcmp (port, name) == 0)
        {
          int fd;

          snprintf (path, sizeof path, "/dev/%s", entry->d_name);
          fd = open (path, O_WRONLY | O_CLOEXEC);
          if (fd >= 0)
            {
              if (write (fd, text, strlen (text)) < 0)
                perror ("stub-agent: write");
              close (fd);
            }
        }
    }
  closedir (dir);
}

int
main (int argc, char **argv)
{
  char line[1024] = "stub-agent:";
  char exe[256] = "";
  const char *vport = NULL;
  int pid1 = 0;
  int fd;

  for (int i = 0; i < argc; i++)
    {
      strncat (line, " ", sizeof line - strlen (line) - 1);
      strncat (line, argv[i], sizeof line - strlen (line) - 1);
      if (strcmp (argv[i], "--pid1") == 0)
        pid1 = 1;
      if (strcmp (argv[i], "--vport") == 0 && i + 1 < argc)
        vport = argv[i + 1];
    }
  strncat (line, "\n", sizeof line - strlen (line) - 1);
  dprintf (STDERR_FILENO, "%s", line);
  if (readlink ("/proc/self/exe", exe, sizeof exe - 1) < 0)
    strcpy (exe, "?");
  dprintf (STDERR_FILENO, "stub-agent: pid=%d exe=%s\n", (int) getpid (), exe);
  if (vport != NULL)
    say_to_port (vport, line);

  fd = open ("/stub-agent.ran", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0)
    {
      dprintf (fd, "%s", line);
      close (fd);
    }
  if (pid1)
    {
      sync ();
      reboot (RB_POWER_OFF);
    }
  return 0;
}
