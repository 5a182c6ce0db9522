/* fake-vmm.c: a stand-in for firecracker in tests, linked statically so
 * it runs inside an empty jail: reports who and where it is, then waits. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Writes /vmm-info (jail-relative) once it is ready:
 *   pid= uid= gid= euid= egid= groups=N api-sock=PATH
 *   file NAME rw|ro(errno) FIRST-LINE     for each regular file in /
 * creates the API socket it was given (--api-sock), and then waits.
 * SIGUSR1 appends a line to /signals; SIGTERM too, and then it exits. */

static void
note_signal (int signo)
{
  /* Async-signal-safe only. */
  const char *line = signo == SIGUSR1 ? "USR1\n" : signo == SIGTERM ? "TERM\n" : "other\n";
  int fd = open ("/signals", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

  if (fd >= 0)
    {
      (void) !write (fd, line, strlen (line));
      close (fd);
    }
  if (signo == SIGTERM)
    _exit (0);
}

int
main (int argc, char **argv)
{
  const char *api_sock = "/run/firecracker.socket";
  struct sigaction sa = { 0 };
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  gid_t groups[64];
  int n_groups = getgroups (64, groups);
  FILE *info = fopen ("/vmm-info.tmp", "we");
  DIR *root;
  struct dirent *entry;
  int sock;

  for (int i = 1; i + 1 < argc; i++)
    if (strcmp (argv[i], "--api-sock") == 0)
      api_sock = argv[i + 1];

  sa.sa_handler = note_signal;
  sigaction (SIGUSR1, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);

  if (info == NULL)
    return 1;
  fprintf (info, "pid=%d uid=%u gid=%u euid=%u egid=%u groups=%d api-sock=%s\n",
           (int) getpid (), (unsigned) getuid (), (unsigned) getgid (),
           (unsigned) geteuid (), (unsigned) getegid (), n_groups, api_sock);

  root = opendir ("/");
  while (root != NULL && (entry = readdir (root)) != NULL)
    {
      char line[64] = "";
      struct stat st;
      int fd;

      if (entry->d_name[0] == '.' || strcmp (entry->d_name, "vmm-info.tmp") == 0 ||
          lstat (entry->d_name, &st) < 0 || !S_ISREG (st.st_mode))
        continue;
      fd = open (entry->d_name, O_RDWR | O_CLOEXEC);
      if (fd >= 0)
        fprintf (info, "file %s rw ", entry->d_name);
      else
        {
          fprintf (info, "file %s ro(%d) ", entry->d_name, errno);
          fd = open (entry->d_name, O_RDONLY | O_CLOEXEC);
        }
      if (fd >= 0)
        {
          ssize_t n = read (fd, line, sizeof line - 1);
          line[n > 0 ? n : 0] = '\0';
          line[strcspn (line, "\n")] = '\0';
          close (fd);
        }
      fprintf (info, "%s\n", line);
    }
  if (root != NULL)
    closedir (root);

  sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  snprintf (addr.sun_path, sizeof addr.sun_path, "%s", api_sock);
  if (sock < 0 || bind (sock, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (sock, 1) < 0)
    fprintf (info, "api-sock-error=%d\n", errno);

  fclose (info);
  if (rename ("/vmm-info.tmp", "/vmm-info") < 0)
    return 1;
  for (;;)
    pause ();
}
