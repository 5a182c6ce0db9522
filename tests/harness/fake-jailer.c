/* fake-jailer.c: a stand-in for Firecracker's jailer in tests: what of it
 * matters to banger-helper (chroot layout, uid/gid switch, pid namespace). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Like the real jailer (src/jailer/src/env.rs, v1.14): the chroot is
 * BASE/basename(EXEC)/ID/root; the exec file is copied in and handed to
 * UID:GID; the chroot's root becomes UID:GID 0700; with --new-pid-ns the
 * VMM is forked into a new pid namespace, its pid written to
 * <chroot>/<exec name>.pid, and the jailer exits 0; then chroot, drop to
 * UID:GID, exec /<exec name> --id ID <args after -->.
 * It also writes <chroot>/jailer-info (root-owned): its argv and the
 * cgroup it found itself in at its first instruction, which tells the
 * test whether the helper placed it there before exec. */

static void
die (const char *what)
{
  fprintf (stderr, "fake-jailer: %s: %s\n", what, strerror (errno));
  exit (1);
}

static void
copy_exec (const char *src, int root_fd, const char *name, uid_t uid, gid_t gid)
{
  char buf[65536];
  ssize_t n;
  int in = open (src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  int out = openat (root_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0700);

  if (in < 0 || out < 0)
    die ("copying the exec file into the jail");
  while ((n = read (in, buf, sizeof buf)) > 0)
    if (write (out, buf, (size_t) n) != n)
      die ("writing the exec file");
  /* Mode first: after the chown only CAP_FOWNER could change it. */
  if (n < 0 || fchmod (out, 0700) < 0 || fchown (out, uid, gid) < 0)
    die ("finishing the exec file");
  close (in);
  close (out);
}

static void
write_info (int root_fd, int argc, char **argv)
{
  char cgroup[4096] = "";
  FILE *cg = fopen ("/proc/self/cgroup", "re");
  int fd = openat (root_fd, "jailer-info", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  FILE *out;

  while (cg != NULL && fgets (cgroup, sizeof cgroup, cg) != NULL)
    if (strncmp (cgroup, "0::", 3) == 0)
      break;
  if (cg != NULL)
    fclose (cg);
  if (fd < 0 || (out = fdopen (fd, "w")) == NULL)
    die ("writing jailer-info");
  fprintf (out, "cgroup=%s", cgroup + (strncmp (cgroup, "0::", 3) == 0 ? 3 : 0));
  fprintf (out, "uid=%u\n", (unsigned) getuid ());
  for (int i = 0; i < argc; i++)
    fprintf (out, "argv=%s\n", argv[i]);
  fclose (out);
}

int
main (int argc, char **argv)
{
  const char *id = NULL, *exec_file = NULL, *base = NULL;
  long uid = -1, gid = -1;
  int new_pid_ns = 0, rest = argc;
  char chroot_dir[PATH_MAX], exec_copy[PATH_MAX], exec_name[NAME_MAX + 1], pid_name[NAME_MAX + 8];
  char **vmm_argv;
  int root_fd, n = 0;

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--") == 0)
        {
          rest = i + 1;
          break;
        }
      if (strcmp (argv[i], "--new-pid-ns") == 0)
        new_pid_ns = 1;
      else if (i + 1 < argc && strcmp (argv[i], "--id") == 0)
        id = argv[++i];
      else if (i + 1 < argc && strcmp (argv[i], "--exec-file") == 0)
        exec_file = argv[++i];
      else if (i + 1 < argc && strcmp (argv[i], "--uid") == 0)
        uid = strtol (argv[++i], NULL, 10);
      else if (i + 1 < argc && strcmp (argv[i], "--gid") == 0)
        gid = strtol (argv[++i], NULL, 10);
      else if (i + 1 < argc && strcmp (argv[i], "--chroot-base-dir") == 0)
        base = argv[++i];
      else
        {
          fprintf (stderr, "fake-jailer: unknown argument %s\n", argv[i]);
          return 153;
        }
    }
  if (id == NULL || exec_file == NULL || base == NULL || uid <= 0 || gid <= 0)
    {
      fprintf (stderr, "fake-jailer: --id, --exec-file, --uid, --gid (not 0) and --chroot-base-dir are required\n");
      return 153;
    }

  snprintf (exec_copy, sizeof exec_copy, "%s", exec_file);
  snprintf (exec_name, sizeof exec_name, "%s", basename (exec_copy));
  snprintf (chroot_dir, sizeof chroot_dir, "%s/%s/%s/root", base, exec_name, id);
  root_fd = open (chroot_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (root_fd < 0)
    die (chroot_dir);

  write_info (root_fd, argc, argv);
  copy_exec (exec_file, root_fd, exec_name, (uid_t) uid, (gid_t) gid);
  if (fchmod (root_fd, 0700) < 0 || fchown (root_fd, (uid_t) uid, (gid_t) gid) < 0)
    die ("handing the chroot to the user");

  if (new_pid_ns)
    {
      pid_t pid;

      if (unshare (CLONE_NEWPID) < 0)
        die ("unshare(CLONE_NEWPID)");
      pid = fork ();
      if (pid < 0)
        die ("fork");
      if (pid > 0)
        {
          char text[32];
          int fd;

          snprintf (pid_name, sizeof pid_name, "%s.pid", exec_name);
          fd = openat (root_fd, pid_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
          snprintf (text, sizeof text, "%d", (int) pid);
          if (fd < 0 || write (fd, text, strlen (text)) < 0)
            die ("writing the pid file");
          close (fd);
          return 0;
        }
    }

  if (chroot (chroot_dir) < 0 || chdir ("/") < 0)
    die ("chroot");
  if (setgroups (0, NULL) < 0 || setgid ((gid_t) gid) < 0 || setuid ((uid_t) uid) < 0)
    die ("dropping to the user");
  if (getuid () == 0 || geteuid () == 0 || getgid () == 0)
    {
      fprintf (stderr, "fake-jailer: still root after dropping privileges\n");
      return 1;
    }

  vmm_argv = calloc ((size_t) (argc - rest) + 4, sizeof (char *));
  if (vmm_argv == NULL)
    die ("calloc");
  snprintf (exec_copy, sizeof exec_copy, "/%s", exec_name);
  vmm_argv[n++] = exec_copy;
  vmm_argv[n++] = (char *) "--id";
  vmm_argv[n++] = (char *) id;
  for (int i = rest; i < argc; i++)
    vmm_argv[n++] = argv[i];
  vmm_argv[n] = NULL;
  execve (exec_copy, vmm_argv, (char *[]) { NULL });
  die ("exec");
}
