/* fake-jailer.c: a stand-in for Firecracker's jailer in tests: what of it
 * matters to banger-helper (chroot layout, uid/gid switch, pid namespace). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <sys/mount.h>
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
 * test whether the helper placed it there before exec.
 *
 * Tests whose VMM is a script (the fake Firecracker) need an interpreter
 * in the jail: when a file fake-jailer.binds sits beside this program,
 * each of its lines "bind DIR", "bind-rw DIR" or "link PATH TARGET" is
 * made inside the jail, in a private mount namespace that ends with the
 * VMM, so nothing of it is visible on the host. */

/* The helper gives the jailer /dev/null as stderr: a test that wants to
 * see why it failed creates fake-jailer.log beside it. */
static char log_path[PATH_MAX + 32];

static void
die (const char *what)
{
  int saved = errno;
  FILE *log = log_path[0] != '\0' ? fopen (log_path, "ae") : NULL;

  fprintf (stderr, "fake-jailer: %s: %s\n", what, strerror (saved));
  if (log != NULL)
    {
      fprintf (log, "fake-jailer: %s: %s\n", what, strerror (saved));
      fclose (log);
    }
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

/* mkdir -p of @path below @root (root-owned 0755 directories). */
static void
make_dirs (const char *root, const char *path)
{
  char buf[PATH_MAX * 2 + 1];

  snprintf (buf, sizeof buf, "%s%s", root, path);
  for (char *p = buf + strlen (root) + 1; ; p++)
    if (*p == '/' || *p == '\0')
      {
        char saved = *p;

        *p = '\0';
        /* chmod: the helper runs the jailer with umask 077. */
        if (mkdir (buf, 0755) == 0 ? chmod (buf, 0755) < 0 : errno != EEXIST)
          die (buf);
        *p = saved;
        if (saved == '\0')
          break;
      }
}

static void
apply_binds (const char *chroot_dir)
{
  char self[PATH_MAX], conf[PATH_MAX + 32], line[PATH_MAX * 2], target[PATH_MAX * 2 + 1];
  ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
  FILE *f;

  if (n < 0)
    die ("readlink /proc/self/exe");
  self[n] = '\0';
  snprintf (conf, sizeof conf, "%s/fake-jailer.binds", dirname (self));
  f = fopen (conf, "re");
  if (f == NULL)
    return;
  if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
    die ("a private mount namespace");
  while (fgets (line, sizeof line, f) != NULL)
    {
      char what[16], a[PATH_MAX], b[PATH_MAX];
      int fields = sscanf (line, "%15s %4095s %4095s", what, a, b);

      if (fields < 2)
        continue;
      snprintf (target, sizeof target, "%s%s", chroot_dir, a);
      if (strcmp (what, "link") == 0 && fields == 3)
        {
          if (symlink (b, target) < 0 && errno != EEXIST)
            die (target);
          continue;
        }
      make_dirs (chroot_dir, a);
      if (mount (a, target, NULL, MS_BIND | MS_REC, NULL) < 0)
        die (target);
      if (strcmp (what, "bind") == 0 &&
          mount (NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
        die (target);
    }
  fclose (f);
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

  if (realpath ("/proc/self/exe", exec_copy) != NULL)
    {
      snprintf (log_path, sizeof log_path, "%s/fake-jailer.log", dirname (exec_copy));
      if (access (log_path, W_OK) != 0)
        log_path[0] = '\0';
    }

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
  apply_binds (chroot_dir);

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
