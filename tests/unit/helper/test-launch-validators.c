/* test-launch-validators.c: Launch's, Signal's and the executable checks'
 * validators fed hostile input; filesystem cases use temp dirs. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-error.h"
#include "exec-check.h"
#include "launch-spec.h"
#include "user-files.h"

#define HOME "/home/u"

/* --------------------------------------------------------------- paths */

static void
test_path_accepts_canonical (void)
{
  g_autofree char *long_name = g_strnfill (255, 'a');
  g_autofree char *long_ok = g_strconcat ("/", long_name, NULL);
  g_autoptr(GString) max_path = g_string_new (NULL);
  const char *ok[] = {
    "/a", "/home/u/.local/state/banger/kernel", "/a/b-c_d.e", "/a/...", "/a/.hidden",
    "/a/..b", "/a/b..", "/a/b c", "/a/é", long_ok,
  };

  while (max_path->len + 2 <= 4095)
    g_string_append (max_path, "/a");
  g_assert_cmpuint (max_path->len, <=, 4095);

  for (guint i = 0; i < G_N_ELEMENTS (ok); i++)
    {
      g_autoptr(GError) error = NULL;
      g_assert_true (launch_path_check_canonical (ok[i], &error));
      g_assert_no_error (error);
    }
  g_assert_true (launch_path_check_canonical (max_path->str, NULL));
}

static void
test_path_refuses_hostile (void)
{
  g_autofree char *long_name = g_strnfill (256, 'a');
  g_autofree char *long_component = g_strconcat ("/", long_name, NULL);
  g_autoptr(GString) too_long = g_string_new (NULL);
  /* What the C function gets from a D-Bus string that (impossibly) held
   * a NUL: only what comes before it. */
  const char with_nul[] = "/home/u/.local/state/banger/\0/../../.ssh/id_rsa";
  const char *hostile[] = {
    "", "relative", "./x", "~/x", "/", "//", "//a", "/a//b", "/a/", "/a/b/",
    "/.", "/..", "/a/.", "/a/..", "/a/./b", "/a/../b", "/../etc/shadow",
    "/home/u/.local/state/banger/../../.ssh/id_rsa",
    "/home/u/.local/state/banger/./../../../etc/shadow",
    "/home/u/.local/state/banger/x/..",
    "/a\nb", "/a\tb", "/a\rb", "/\x01", "/a\x7f", "/a\x1b[31m", "/\xff\xfe", "/a\xc3",
    long_component, with_nul,
  };

  while (too_long->len <= 4095)
    g_string_append (too_long, "/a");

  g_assert_false (launch_path_check_canonical (NULL, NULL));
  g_assert_false (launch_path_check_canonical (too_long->str, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (hostile); i++)
    {
      g_autoptr(GError) error = NULL;

      g_test_message ("case %u", i);
      g_assert_false (launch_path_check_canonical (hostile[i], &error));
      g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
      /* The message goes back over D-Bus: it must be valid UTF-8. */
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
    }
}

static void
test_path_allowed_dirs (void)
{
  const char *ok[] = {
    HOME "/.local/state/banger/kernel",
    HOME "/.local/state/banger/images/web/rootfs.ext4",
    HOME "/.local/share/banger/kernels/vmlinux",
  };
  const char *refused[] = {
    HOME "/.local/state/banger",            /* the dir itself */
    HOME "/.local/share/banger",
    HOME "/.local/state/bangerx/k",         /* prefix without the slash */
    HOME "/.local/state/banger-evil/k",
    HOME "u/.local/state/banger/k",         /* /home/uu: another home */
    HOME "/.local/state/k",
    HOME "/.local/banger/k",
    HOME "/.ssh/id_rsa",
    HOME "/.local/state/banger/../../.ssh/id_rsa",
    HOME "/.local/state/banger//k",
    "/etc/shadow",
    "/home/other/.local/state/banger/k",
    "/root/.local/state/banger/k",
    "/proc/self/root" HOME "/.local/state/banger/k",
    "/.local/state/banger/k",               /* home "/" is not this home */
    HOME "/.local/state/banger/k/",
  };

  for (guint i = 0; i < G_N_ELEMENTS (ok); i++)
    {
      g_autoptr(GError) error = NULL;
      g_assert_true (launch_path_check_allowed (ok[i], HOME, &error));
      g_assert_no_error (error);
    }
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(GError) error = NULL;

      g_test_message ("case %s", refused[i]);
      g_assert_false (launch_path_check_allowed (refused[i], HOME, &error));
      g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
    }

  /* A home of "/" (some system users) still works; broken homes refuse. */
  g_assert_true (launch_path_check_allowed ("/.local/state/banger/k", "/", NULL));
  g_assert_false (launch_path_check_allowed (HOME "/.local/state/banger/k", HOME "/", NULL));
  g_assert_false (launch_path_check_allowed (HOME "/.local/state/banger/k", "home/u", NULL));
  g_assert_false (launch_path_check_allowed (HOME "/.local/state/banger/k", NULL, NULL));
  g_assert_false (launch_path_check_allowed (HOME "/.local/state/banger/k", "", NULL));
  g_assert_false (launch_path_check_allowed ("/home/u/../u/.local/state/banger/k",
                                             "/home/u/../u", NULL));
}

/* ---------------------------------------------------------------- spec */

static GVariant *
spec_from_text (const char *text)
{
  g_autoptr(GError) error = NULL;
  /* g_variant_parse() returns a non-floating reference. */
  GVariant *v = g_variant_parse (NULL, text, NULL, NULL, &error);

  g_assert_no_error (error);
  return v;
}

static void
test_spec_accepts (void)
{
  g_autoptr(GVariant) minimal = spec_from_text ("{'kernel': <'" HOME "/.local/state/banger/vmlinux'>}");
  g_autoptr(GVariant) full = spec_from_text (
    "{'kernel': <'/k/vmlinux'>, 'initrd': <'/k/initrd.img'>,"
    " 'drives': <[('/d/root.ext4', false), ('/d/data.ext4', true)]>}");
  g_autoptr(LaunchSpec) spec = NULL;
  g_autoptr(GError) error = NULL;
  LaunchDrive *drive;

  spec = launch_spec_parse (minimal, "firecracker", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (spec->kernel, ==, HOME "/.local/state/banger/vmlinux");
  g_assert_null (spec->initrd);
  g_assert_cmpuint (spec->drives->len, ==, 0);
  g_clear_pointer (&spec, launch_spec_free);

  spec = launch_spec_parse (full, "firecracker", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (spec->initrd, ==, "/k/initrd.img");
  g_assert_cmpuint (spec->drives->len, ==, 2);
  drive = spec->drives->pdata[0];
  g_assert_cmpstr (drive->path, ==, "/d/root.ext4");
  g_assert_false (drive->read_only);
  drive = spec->drives->pdata[1];
  g_assert_cmpstr (drive->path, ==, "/d/data.ext4");
  g_assert_true (drive->read_only);
  g_assert_cmpstr (launch_path_basename (drive->path), ==, "data.ext4");
}

static void
test_spec_refuses_hostile (void)
{
  g_autoptr(GString) many = g_string_new ("{'kernel': <'/k/k'>, 'drives': <[");
  const char *hostile[] = {
    "@a{sv} {}",                                            /* no kernel */
    "{'initrd': <'/k/i'>}",
    "{'kernel': <'/k/k'>, 'jailer': <'/tmp/evil'>}",        /* unknown keys */
    "{'kernel': <'/k/k'>, 'exec-file': <'/bin/sh'>}",
    "{'Kernel': <'/k/k'>}",
    "{'kernel ': <'/k/k'>}",
    "{'kernel': <uint32 1>}",                               /* wrong types */
    "{'kernel': <@o '/k/k'>}",
    "{'kernel': <b'/k/k'>}",
    "{'kernel': <['/k/k']>}",
    "{'kernel': <<'/k/k'>>}",
    "{'kernel': <'/k/k'>, 'initrd': <@as []>}",
    "{'kernel': <'/k/k'>, 'drives': <[('/d/a', 'yes')]>}",
    "{'kernel': <'/k/k'>, 'drives': <['/d/a']>}",
    "{'kernel': <'/k/k'>, 'drives': <('/d/a', true)>}",
    "{'kernel': <'/k/k'>, 'drives': <[('/d/a', true, 1)]>}",
    "{'kernel': <'k'>}",                                    /* bad paths */
    "{'kernel': <''>}",
    "{'kernel': <'/k/../etc/shadow'>}",
    "{'kernel': <'/k/k'>, 'initrd': <'/k//i'>}",
    "{'kernel': <'/k/k'>, 'drives': <[('/d/a/', false)]>}",
    "{'kernel': <'/k/k'>, 'drives': <[('', false)]>}",
    "{'kernel': <'/k/k'>, 'drives': <[('/d/\\u0001', false)]>}",
    "{'kernel': <'/k/x'>, 'drives': <[('/d/x', false)]>}",  /* name clashes */
    "{'kernel': <'/k/x'>, 'initrd': <'/i/x'>}",
    "{'kernel': <'/k/k'>, 'drives': <[('/d/a', false), ('/e/a', true)]>}",
    "{'kernel': <'/k/api.sock'>}",                          /* the jail's names */
    "{'kernel': <'/k/k'>, 'drives': <[('/d/dev', false)]>}",
    "{'kernel': <'/k/run'>}",
    "{'kernel': <'/k/firecracker'>}",
    "{'kernel': <'/k/firecracker.pid'>}",
  };

  /* Repeated keys: a D-Bus a{sv} is a list and may hold them. */
  {
    g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE_VARDICT);
    g_autoptr(GVariant) twice = NULL;
    g_autoptr(GError) error = NULL;

    g_variant_builder_add (builder, "{sv}", "kernel", g_variant_new_string ("/k/a"));
    g_variant_builder_add (builder, "{sv}", "kernel", g_variant_new_string ("/k/b"));
    twice = g_variant_ref_sink (g_variant_builder_end (builder));
    g_assert_null (launch_spec_parse (twice, "firecracker", &error));
    g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
  }
  {
    g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE_VARDICT);
    g_autoptr(GVariant) twice = NULL;

    g_variant_builder_add (builder, "{sv}", "kernel", g_variant_new_string ("/k/a"));
    g_variant_builder_add (builder, "{sv}", "drives", g_variant_new_parsed ("@a(sb) []"));
    g_variant_builder_add (builder, "{sv}", "drives", g_variant_new_parsed ("[('/d/x', false)]"));
    twice = g_variant_ref_sink (g_variant_builder_end (builder));
    g_assert_null (launch_spec_parse (twice, "firecracker", NULL));
  }

  /* Not a dictionary at all. */
  {
    g_autoptr(GVariant) list = spec_from_text ("['/k/k']");
    g_assert_null (launch_spec_parse (list, "firecracker", NULL));
    g_assert_null (launch_spec_parse (NULL, "firecracker", NULL));
  }

  /* Too many drives. */
  for (guint i = 0; i <= LAUNCH_MAX_DRIVES; i++)
    g_string_append_printf (many, "%s('/d/d%u', false)", i > 0 ? ", " : "", i);
  g_string_append (many, "]>}");
  {
    g_autoptr(GVariant) v = spec_from_text (many->str);
    g_autoptr(GError) error = NULL;
    g_assert_null (launch_spec_parse (v, "firecracker", &error));
    g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
  }

  /* Serialized bytes from the wire with a NUL inside the string: GVariant
   * treats the malformed string as "" and the path check refuses it. */
  {
    static const char wire[] = "/k/vmlinux\0/../../etc/shadow";
    g_autoptr(GVariant) s = g_variant_ref_sink (
      g_variant_new_from_data (G_VARIANT_TYPE_STRING, wire, sizeof wire, FALSE, NULL, NULL));
    g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE_VARDICT);
    g_autoptr(GVariant) v = NULL;
    g_autoptr(GError) error = NULL;

    g_variant_builder_add (builder, "{sv}", "kernel", s);
    v = g_variant_ref_sink (g_variant_builder_end (builder));
    g_assert_null (launch_spec_parse (v, "firecracker", &error));
    g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
  }

  for (guint i = 0; i < G_N_ELEMENTS (hostile); i++)
    {
      g_autoptr(GVariant) v = spec_from_text (hostile[i]);
      g_autoptr(GError) error = NULL;

      g_test_message ("spec %s", hostile[i]);
      g_assert_null (launch_spec_parse (v, "firecracker", &error));
      g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
    }
}

/* -------------------------------------------------------------- signals */

static void
test_signal_allowlist (void)
{
  static const struct { const char *name; int signo; } ok[] = {
    { "TERM", SIGTERM }, { "KILL", SIGKILL }, { "INT", SIGINT }, { "HUP", SIGHUP },
    { "QUIT", SIGQUIT }, { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "ABRT", SIGABRT },
  };
  const char *refused[] = {
    "", "term", "Term", "SIGTERM", "SIGKILL", "15", "9", "0", "-9", "+15", "0x9",
    "TERM ", " TERM", "TERM\n", "TERM\0KILL", "STOP", "CONT", "SEGV", "TSTP", "TTIN",
    "CHLD", "USR3", "RTMIN", "RTMIN+1", "SYS", "KILLKILL", "K", "\xff", "TERM;KILL",
  };
  g_autofree char *long_name = g_strnfill (4096, 'K');

  for (guint i = 0; i < G_N_ELEMENTS (ok); i++)
    {
      int signo = -1;
      g_assert_true (launch_signal_parse (ok[i].name, &signo, NULL));
      g_assert_cmpint (signo, ==, ok[i].signo);
    }
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(GError) error = NULL;
      int signo = -1;
      g_autofree char *shown = g_strescape (refused[i], NULL);

      g_test_message ("signal “%s”", shown);
      /* "TERM\0KILL" reaches C as "TERM": that one is fine. */
      if (g_str_equal (refused[i], "TERM"))
        continue;
      g_assert_false (launch_signal_parse (refused[i], &signo, &error));
      g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      g_assert_cmpint (signo, ==, -1);
    }
  g_assert_false (launch_signal_parse (NULL, &(int) { 0 }, NULL));
  g_assert_false (launch_signal_parse (long_name, &(int) { 0 }, NULL));
}

/* ---------------------------------------------------------- executables */

static struct stat
fake_stat (mode_t mode,
           uid_t  uid)
{
  struct stat st = { 0 };

  st.st_mode = mode;
  st.st_uid = uid;
  return st;
}

static void
test_exec_stat_policy (void)
{
  static const struct { mode_t mode; uid_t uid; gboolean ok; } cases[] = {
    { S_IFREG | 0755, 0, TRUE },
    { S_IFREG | 0700, 0, TRUE },
    { S_IFREG | 0500, 0, TRUE },
    { S_IFREG | 04755, 0, TRUE },
    { S_IFREG | 0775, 0, FALSE },      /* group-writable */
    { S_IFREG | 0757, 0, FALSE },      /* world-writable */
    { S_IFREG | 0777, 0, FALSE },
    { S_IFREG | 0644, 0, FALSE },      /* not executable */
    { S_IFREG | 0755, 1000, FALSE },   /* not root's */
    { S_IFREG | 0755, 65534, FALSE },
    { S_IFDIR | 0755, 0, FALSE },
    { S_IFLNK | 0777, 0, FALSE },
    { S_IFCHR | 0755, 0, FALSE },
    { S_IFIFO | 0755, 0, FALSE },
    { S_IFSOCK | 0755, 0, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      struct stat st = fake_stat (cases[i].mode, cases[i].uid);
      g_autoptr(GError) error = NULL;

      g_test_message ("mode %o uid %u", (guint) cases[i].mode, (guint) cases[i].uid);
      g_assert_cmpint (exec_check_file_stat ("/usr/bin/jailer", &st, &error), ==, cases[i].ok);
      if (!cases[i].ok)
        g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED);
    }
}

static void
assert_exec_refused (const char *path)
{
  g_autoptr(GError) error = NULL;
  int fd;

  g_test_message ("executable %s", path);
  fd = exec_check_open (path, &error);
  g_assert_cmpint (fd, <, 0);
  /* Whatever is wrong, it is the administrator's to fix. */
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED);
}

static void
test_exec_open_system_paths (void)
{
  g_autofree char *tmp = g_dir_make_tmp ("launch-exec-XXXXXX", NULL);
  g_autofree char *tmp_file = g_build_filename (tmp, "jailer", NULL);
  struct stat st;

  /* A system program in root's directories is fine. */
  if (stat ("/usr/bin/true", &st) == 0 && st.st_uid == 0 && (st.st_mode & 022) == 0)
    {
      g_autoptr(GError) error = NULL;
      int fd = exec_check_open ("/usr/bin/true", &error);

      g_assert_no_error (error);
      g_assert_cmpint (fd, >=, 0);
      close (fd);
    }

  assert_exec_refused ("/usr/bin");                     /* a directory */
  assert_exec_refused ("/nonexistent/jailer");
  assert_exec_refused ("usr/bin/true");                 /* relative */
  assert_exec_refused ("/usr/bin/../bin/true");
  assert_exec_refused ("/dev/null");                    /* not regular */
  /* Merged /usr: /bin is a symlink, and the helper follows none. */
  if (lstat ("/bin", &st) == 0 && S_ISLNK (st.st_mode))
    assert_exec_refused ("/bin/true");

  /* Below /tmp (world-writable, sticky or not): refused. */
  g_assert_true (g_file_set_contents (tmp_file, "#!/bin/true\n", -1, NULL));
  g_assert_cmpint (chmod (tmp_file, 0755), ==, 0);
  g_assert_cmpint (chmod (tmp, 0755), ==, 0);
  assert_exec_refused (tmp_file);

  g_unlink (tmp_file);
  g_rmdir (tmp);
}

/* Needs root: files owned by root in a directory only root can write,
 * made one property wrong at a time. */
static void
test_exec_open_root_cases (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *good = NULL;
  g_autofree char *sub = NULL;
  g_autofree char *sub_file = NULL;
  g_autofree char *cmd = NULL;
  g_autoptr(GError) error = NULL;
  struct {
    const char *name;
    mode_t      mode;
    uid_t       uid;
  } files[] = {
    { "group-writable", 0775, 0 },
    { "world-writable", 0757, 0 },
    { "not-executable", 0644, 0 },
    { "users", 0755, 4242 },
  };
  int fd;

  if (getuid () != 0 || !g_file_test ("/run", G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("needs root and /run (a root-owned directory)");
      return;
    }
  dir = g_build_filename ("/run", "banger-exec-test-XXXXXX", NULL);
  g_assert_nonnull (g_mkdtemp_full (dir, 0755));
  g_assert_cmpint (chmod (dir, 0755), ==, 0);

  good = g_build_filename (dir, "good", NULL);
  g_assert_true (g_file_set_contents (good, "\x7f" "ELF", -1, NULL));
  g_assert_cmpint (chmod (good, 0755), ==, 0);
  fd = exec_check_open (good, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fd, >=, 0);
  close (fd);

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (dir, files[i].name, NULL);

      g_assert_true (g_file_set_contents (path, "x", -1, NULL));
      g_assert_cmpint (chmod (path, files[i].mode), ==, 0);
      g_assert_cmpint (chown (path, files[i].uid, 0), ==, 0);
      assert_exec_refused (path);
    }

  /* A symlink to the good file; a good file below a g+w or user-owned dir. */
  {
    g_autofree char *link = g_build_filename (dir, "link", NULL);
    g_assert_cmpint (symlink (good, link), ==, 0);
    assert_exec_refused (link);
  }
  sub = g_build_filename (dir, "sub", NULL);
  sub_file = g_build_filename (sub, "jailer", NULL);
  g_assert_cmpint (mkdir (sub, 0755), ==, 0);
  g_assert_true (g_file_set_contents (sub_file, "x", -1, NULL));
  g_assert_cmpint (chmod (sub_file, 0755), ==, 0);
  fd = exec_check_open (sub_file, NULL);
  g_assert_cmpint (fd, >=, 0);
  close (fd);
  g_assert_cmpint (chmod (sub, 0775), ==, 0);
  assert_exec_refused (sub_file);
  g_assert_cmpint (chmod (sub, 0755), ==, 0);
  g_assert_cmpint (chown (sub, 4242, 0), ==, 0);
  assert_exec_refused (sub_file);

  cmd = g_strdup_printf ("rm -rf -- '%s'", dir);
  g_assert_cmpint (system (cmd), ==, 0);
}

/* ----------------------------------------------------------- user files */

static void
test_user_stat_policy (void)
{
  struct stat reg = fake_stat (S_IFREG | 0600, 1000);
  struct stat foreign = fake_stat (S_IFREG | 0644, 0);
  struct stat dir = fake_stat (S_IFDIR | 0755, 1000);
  struct stat link = fake_stat (S_IFLNK | 0777, 1000);
  struct stat dev = fake_stat (S_IFBLK | 0600, 1000);
  struct stat fifo = fake_stat (S_IFIFO | 0600, 1000);

  g_assert_true (user_file_check_stat ("/f", &reg, 1000, NULL));
  g_assert_false (user_file_check_stat ("/f", &reg, 1001, NULL));
  g_assert_false (user_file_check_stat ("/f", &foreign, 1000, NULL));
  g_assert_false (user_file_check_stat ("/f", &dir, 1000, NULL));
  g_assert_false (user_file_check_stat ("/f", &link, 1000, NULL));
  g_assert_false (user_file_check_stat ("/f", &dev, 1000, NULL));
  g_assert_false (user_file_check_stat ("/f", &fifo, 1000, NULL));
}

typedef struct {
  char         *home;
  char         *state;   /* home/.local/state/banger */
  LaunchCaller  caller;
} UserFixture;

static void
user_fixture_setup (UserFixture   *fx,
                    gconstpointer  data)
{
  fx->home = g_dir_make_tmp ("launch-home-XXXXXX", NULL);
  g_assert_nonnull (fx->home);
  fx->state = g_build_filename (fx->home, ".local", "state", "banger", NULL);
  g_assert_cmpint (g_mkdir_with_parents (fx->state, 0700), ==, 0);
  fx->caller.uid = getuid ();
  fx->caller.gid = getgid ();
  fx->caller.home = g_strdup (fx->home);
}

static void
user_fixture_teardown (UserFixture   *fx,
                       gconstpointer  data)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf -- '%s'", fx->home);

  g_assert_cmpint (system (cmd), ==, 0);
  launch_caller_clear (&fx->caller);
  g_free (fx->state);
  g_free (fx->home);
}

static char *
make_file (const char *dir,
           const char *name)
{
  char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, name, -1, NULL));
  return path;
}

static void
assert_user_refused (UserFixture *fx,
                     const char  *path,
                     gint         code)
{
  g_autoptr(GError) error = NULL;

  g_test_message ("user file %s", path);
  g_assert_cmpint (launch_user_file_open (&fx->caller, path, &error), <, 0);
  g_assert_error (error, BANGER_ERROR, code);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
}

static void
test_user_open_own_file (UserFixture   *fx,
                         gconstpointer  data)
{
  g_autofree char *kernel = make_file (fx->state, "vmlinux");
  g_autoptr(GError) error = NULL;
  struct stat want, got;
  int fd;

  fd = launch_user_file_open (&fx->caller, kernel, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (stat (kernel, &want), ==, 0);
  g_assert_cmpint (fstat (fd, &got), ==, 0);
  g_assert_cmpuint (want.st_ino, ==, got.st_ino);
  g_assert_cmpuint (want.st_dev, ==, got.st_dev);
  /* O_PATH: not readable through this fd, only usable for linking. */
  g_assert_cmpint (fcntl (fd, F_GETFL) & O_PATH, !=, 0);
  close (fd);
}

static void
test_user_open_refuses_hostile (UserFixture   *fx,
                                gconstpointer  data)
{
  g_autofree char *kernel = make_file (fx->state, "vmlinux");
  g_autofree char *real_dir = g_build_filename (fx->state, "real", NULL);
  g_autofree char *real_file = NULL;
  g_autofree char *link_leaf = g_build_filename (fx->state, "leaf-link", NULL);
  g_autofree char *link_dir = g_build_filename (fx->state, "dir-link", NULL);
  g_autofree char *via_link_dir = g_build_filename (link_dir, "real-file", NULL);
  g_autofree char *to_etc = g_build_filename (fx->state, "shadow", NULL);
  g_autofree char *fifo = g_build_filename (fx->state, "fifo", NULL);
  g_autofree char *outside = make_file (fx->home, "id_rsa");
  g_autofree char *dotdot = g_build_filename (fx->state, "..", "..", "..", "id_rsa", NULL);
  g_autofree char *missing = g_build_filename (fx->state, "missing", NULL);
  g_autofree char *local_link = g_build_filename (fx->home, ".local", "share", NULL);
  g_autofree char *via_home_link = g_build_filename (local_link, "banger", "vmlinux", NULL);
  g_autofree char *local_state = g_build_filename (fx->home, ".local", "state", NULL);

  g_assert_cmpint (mkdir (real_dir, 0700), ==, 0);
  real_file = make_file (real_dir, "real-file");
  g_assert_cmpint (symlink (kernel, link_leaf), ==, 0);
  g_assert_cmpint (symlink (real_dir, link_dir), ==, 0);
  g_assert_cmpint (symlink ("/etc/shadow", to_etc), ==, 0);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  /* ~/.local/share -> ~/.local/state: an intermediate symlink in the
   * allowed prefix itself. */
  g_assert_cmpint (symlink (local_state, local_link), ==, 0);

  /* Sanity: the file behind every link is acceptable by its real path. */
  {
    int fd = launch_user_file_open (&fx->caller, real_file, NULL);
    g_assert_cmpint (fd, >=, 0);
    close (fd);
  }

  assert_user_refused (fx, link_leaf, BANGER_ERROR_INVALID_ARGUMENT);
  assert_user_refused (fx, via_link_dir, BANGER_ERROR_INVALID_ARGUMENT);
  assert_user_refused (fx, via_home_link, BANGER_ERROR_INVALID_ARGUMENT);
  assert_user_refused (fx, to_etc, BANGER_ERROR_INVALID_ARGUMENT);
  assert_user_refused (fx, fifo, BANGER_ERROR_INVALID_ARGUMENT);
  assert_user_refused (fx, real_dir, BANGER_ERROR_INVALID_ARGUMENT);
  assert_user_refused (fx, outside, BANGER_ERROR_INVALID_ARGUMENT);
  assert_user_refused (fx, dotdot, BANGER_ERROR_INVALID_ARGUMENT);
  assert_user_refused (fx, "/etc/shadow", BANGER_ERROR_INVALID_ARGUMENT);
  assert_user_refused (fx, missing, BANGER_ERROR_INVALID_ARGUMENT);

  /* The symlink error names the component that is a link. */
  {
    g_autoptr(GError) error = NULL;
    g_assert_cmpint (launch_user_file_open (&fx->caller, via_link_dir, &error), <, 0);
    g_assert_nonnull (strstr (error->message, link_dir));
  }
}

/* Needs root: files and directories of another uid inside the home. */
static void
test_user_open_refuses_foreign (UserFixture   *fx,
                                gconstpointer  data)
{
  g_autofree char *foreign = make_file (fx->state, "foreign");
  g_autofree char *dir = g_build_filename (fx->state, "foreign-dir", NULL);
  g_autofree char *in_dir = NULL;

  if (getuid () != 0)
    {
      g_test_skip ("needs root to make files of another uid");
      return;
    }
  g_assert_cmpint (chown (foreign, 4242, 4242), ==, 0);
  assert_user_refused (fx, foreign, BANGER_ERROR_INVALID_ARGUMENT);

  /* A file of the caller's inside a directory another user owns. */
  g_assert_cmpint (mkdir (dir, 0755), ==, 0);
  in_dir = make_file (dir, "mine");
  g_assert_cmpint (chown (dir, 4242, 4242), ==, 0);
  assert_user_refused (fx, in_dir, BANGER_ERROR_INVALID_ARGUMENT);

  /* And as uid 4242: root's file of the caller (uid 0 here) is foreign. */
  {
    LaunchCaller other = { 4242, 4242, fx->home };
    g_autoptr(GError) error = NULL;
    g_autofree char *mine = make_file (fx->state, "roots");

    g_assert_cmpint (launch_user_file_open (&other, mine, &error), <, 0);
    g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
  }
}

static void
test_caller_lookup (void)
{
  g_auto(LaunchCaller) caller = { 0 };
  g_autoptr(GError) error = NULL;

  g_assert_false (launch_caller_lookup (0, &caller, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);

  /* No passwd entry, no home: refused. */
  g_assert_false (launch_caller_lookup (3999999999u, &caller, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* nobody (Debian: uid and gid 65534) has an entry: accepted, gid from it. */
  if (launch_caller_lookup (65534, &caller, NULL))
    {
      g_assert_cmpuint (caller.uid, ==, 65534);
      g_assert_cmpuint (caller.gid, !=, 0);
      g_assert_nonnull (caller.home);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/helper/launch/path/accepts-canonical", test_path_accepts_canonical);
  g_test_add_func ("/helper/launch/path/refuses-hostile", test_path_refuses_hostile);
  g_test_add_func ("/helper/launch/path/only-banger-dirs", test_path_allowed_dirs);
  g_test_add_func ("/helper/launch/spec/accepts-kernel-initrd-drives", test_spec_accepts);
  g_test_add_func ("/helper/launch/spec/refuses-hostile", test_spec_refuses_hostile);
  g_test_add_func ("/helper/launch/signal/allowlist-only", test_signal_allowlist);
  g_test_add_func ("/helper/launch/exec/stat-policy", test_exec_stat_policy);
  g_test_add_func ("/helper/launch/exec/refuses-unsafe-system-paths", test_exec_open_system_paths);
  g_test_add_func ("/helper/launch/exec/refuses-writable-or-foreign", test_exec_open_root_cases);
  g_test_add_func ("/helper/launch/user-files/stat-policy", test_user_stat_policy);
  g_test_add ("/helper/launch/user-files/opens-own-file", UserFixture, NULL,
              user_fixture_setup, test_user_open_own_file, user_fixture_teardown);
  g_test_add ("/helper/launch/user-files/refuses-symlinks-and-escapes", UserFixture, NULL,
              user_fixture_setup, test_user_open_refuses_hostile, user_fixture_teardown);
  g_test_add ("/helper/launch/user-files/refuses-foreign-owner", UserFixture, NULL,
              user_fixture_setup, test_user_open_refuses_foreign, user_fixture_teardown);
  g_test_add_func ("/helper/launch/caller/never-root", test_caller_lookup);

  return g_test_run ();
}
