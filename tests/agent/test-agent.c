/* test-agent.c: the real guest agent (run on the host over a unix socket)
 * driven by bangerd's agent client: output, status, stdin, flow control,
 * signals, cancellation, reconnects and power-off. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "agent-client.h"
#include "agent-wire.h"

#define TIMEOUT_S 120

/* Set (BANGER_AGENT_SOCKET) when the agent runs in a real guest behind
 * qemu's virtio-serial chardev: the tests then connect there and only
 * check what is visible from the host. */
static const char *guest_socket;
/* The tests (and the agents they start) have mounts of their own: a test
 * may mount there, and nothing of it outlives the test program. */
static gboolean private_mounts;

typedef struct {
  char *dir;
  char *socket_path;
  GSubprocess *agent;
  AgentClient *client;
} Fixture;

/* --- helpers ------------------------------------------------------------- */

static gboolean
on_timeout (gpointer user_data)
{
  g_error ("timed out waiting for %s", (const char *) user_data);
  return G_SOURCE_REMOVE;
}

/* Iterates the main loop until *@flag is set. */
static void
wait_for (const gboolean *flag, const char *what)
{
  guint timeout = g_timeout_add_seconds (TIMEOUT_S, on_timeout, (gpointer) what);

  while (!*flag)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (timeout);
}

static void
on_async_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* Iterates the main loop until *@slot is set; fails after @seconds. */
static GAsyncResult *
wait_result_within (GAsyncResult **slot, guint seconds, const char *what)
{
  guint timeout = g_timeout_add_seconds (seconds, on_timeout, (gpointer) what);

  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (timeout);
  return *slot;
}

static GAsyncResult *
wait_result (GAsyncResult **slot, const char *what)
{
  return wait_result_within (slot, TIMEOUT_S, what);
}

static AgentClient *
connect_agent (Fixture *fx)
{
  g_autoptr(GSocketClient) sc = g_socket_client_new ();
  g_autoptr(GSocketAddress) addr = g_unix_socket_address_new (fx->socket_path);
  g_autoptr(GSocketConnection) conn = NULL;
  g_autoptr(GError) error = NULL;

  /* The agent may take a while to listen on a loaded machine. */
  for (int i = 0; i < 3000 && conn == NULL; i++)
    {
      g_clear_error (&error);
      conn = g_socket_client_connect (sc, G_SOCKET_CONNECTABLE (addr), NULL, &error);
      if (conn == NULL)
        g_usleep (10 * 1000);
    }
  g_assert_no_error (error);
  return agent_client_new (G_IO_STREAM (conn));
}

static AgentGuestInfo *
hello (AgentClient *client)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  AgentGuestInfo *info;

  agent_client_hello_async (client, NULL, on_async_done, &result);
  info = agent_client_hello_finish (client, wait_result (&result, "HELLO"), &error);
  g_assert_no_error (error);
  return info;
}

/* A failed assertion must not leave the agent behind. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  const char *agent = g_getenv ("BANGER_AGENT");
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr(GError) error = NULL;
  g_autoptr(AgentGuestInfo) info = NULL;

  fx->dir = g_dir_make_tmp ("banger-agent-XXXXXX", &error);
  g_assert_no_error (error);
  if (guest_socket != NULL)
    {
      fx->socket_path = g_strdup (guest_socket);
      fx->client = connect_agent (fx);
      info = hello (fx->client);
      return;
    }
  g_assert_nonnull (agent);
  fx->socket_path = g_build_filename (fx->dir, "agent.sock", NULL);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  fx->agent = g_subprocess_launcher_spawn (launcher, &error, agent, "--unix", fx->socket_path,
                                           "--test-no-poweroff", NULL);
  g_assert_no_error (error);
  fx->client = connect_agent (fx);
  info = hello (fx->client);
}

static void
remove_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  if (fx->client != NULL)
    {
      agent_client_close (fx->client);
      g_clear_object (&fx->client);
    }
  if (fx->agent != NULL)
    {
      g_subprocess_force_exit (fx->agent);
      g_subprocess_wait (fx->agent, NULL, NULL);
      g_clear_object (&fx->agent);
    }
  /* Let the stream close finish so nothing leaks under ASan. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  remove_dir (fx->dir);
  g_free (fx->dir);
  g_free (fx->socket_path);
}

static int
tmp_fd (Fixture *fx, const char *name, const void *content, gsize len)
{
  g_autofree char *path = g_build_filename (fx->dir, name, NULL);
  int fd = open (path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

  g_assert_cmpint (fd, >=, 0);
  if (len > 0)
    g_assert_cmpint (write (fd, content, len), ==, (gssize) len);
  lseek (fd, 0, SEEK_SET);
  return fd;
}

static char *
read_fd (int fd, gsize *len)
{
  g_autoptr(GByteArray) all = g_byte_array_new ();
  guint8 chunk[65536];
  gssize n;

  lseek (fd, 0, SEEK_SET);
  while ((n = read (fd, chunk, sizeof chunk)) > 0)
    g_byte_array_append (all, chunk, (guint) n);
  if (len != NULL)
    *len = all->len;
  g_byte_array_append (all, (const guint8 *) "", 1);
  return (char *) g_byte_array_free (g_steal_pointer (&all), FALSE);
}

typedef struct {
  guint32 id;
  GAsyncResult *result;
  int out_fd, err_fd;
} Run;

/* With @env and in @cwd (NULL: the fixture's directory, or / in a guest). */
static void
run_start_in (Fixture *fx, Run *run, const char * const *argv, const char * const *env,
              const char *cwd, int stdin_fd, GCancellable *cancellable)
{
  static int counter;
  g_autofree char *out_name = g_strdup_printf ("out-%d", counter);
  g_autofree char *err_name = g_strdup_printf ("err-%d", counter++);

  memset (run, 0, sizeof *run);
  run->out_fd = tmp_fd (fx, out_name, NULL, 0);
  run->err_fd = tmp_fd (fx, err_name, NULL, 0);
  if (cwd == NULL)
    cwd = guest_socket ? NULL : fx->dir;
  run->id = agent_client_exec_async (fx->client, argv, env, cwd, stdin_fd, run->out_fd,
                                     run->err_fd, cancellable, on_async_done, &run->result);
  g_assert_cmpuint (run->id, !=, 0);
}

static void
run_start (Fixture *fx, Run *run, const char * const *argv, int stdin_fd, GCancellable *cancellable)
{
  static const char * const env[] = { "PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C", NULL };

  run_start_in (fx, run, argv, env, NULL, stdin_fd, cancellable);
}

/* Waits for @run; returns stdout, *@err gets stderr. */
static char *
run_finish (Fixture *fx, Run *run, AgentExitStatus *status, char **err, GError **error)
{
  char *out;

  agent_client_exec_finish (fx->client, wait_result (&run->result, "an exec"), status, error);
  g_clear_object (&run->result);
  out = read_fd (run->out_fd, NULL);
  if (err != NULL)
    *err = read_fd (run->err_fd, NULL);
  close (run->out_fd);
  close (run->err_fd);
  return out;
}

static char *
run_sync (Fixture *fx, const char * const *argv, int stdin_fd, AgentExitStatus *status, char **err)
{
  g_autoptr(GError) error = NULL;
  Run run;
  char *out;

  run_start (fx, &run, argv, stdin_fd, NULL);
  out = run_finish (fx, &run, status, err, &error);
  g_assert_no_error (error);
  return out;
}

static char *
run_sync_in (Fixture *fx, const char * const *argv, const char * const *env, const char *cwd,
             AgentExitStatus *status, char **err)
{
  g_autoptr(GError) error = NULL;
  Run run;
  char *out;

  run_start_in (fx, &run, argv, env, cwd, -1, NULL);
  out = run_finish (fx, &run, status, err, &error);
  g_assert_no_error (error);
  return out;
}

/* Dead or a zombie: both mean the process no longer runs. */
static gboolean
process_gone (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *stat = NULL;
  const char *paren;

  if (kill (pid, 0) < 0 && errno == ESRCH)
    return TRUE;
  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return TRUE;
  paren = strrchr (stat, ')');
  return paren != NULL && (paren[2] == 'Z' || paren[2] == 'X');
}

static char *run_sync (Fixture *fx, const char * const *argv, int stdin_fd,
                       AgentExitStatus *status, char **err);

/* In a guest the agent itself says whether @pid still runs (it reaps
 * everything as PID 1, so no zombies linger). */
static gboolean
guest_process_gone (Fixture *fx, pid_t pid)
{
  g_autofree char *script = g_strdup_printf ("kill -0 %d 2>/dev/null && echo alive || echo gone", pid);
  const char *argv[] = { "sh", "-c", script, NULL };
  AgentExitStatus status;
  g_autofree char *out = run_sync (fx, argv, -1, &status, NULL);

  return g_str_equal (out, "gone\n");
}

static void
assert_gone_soon (Fixture *fx, pid_t pid)
{
  if (guest_socket != NULL)
    {
      for (int i = 0; i < 100 && !guest_process_gone (fx, pid); i++)
        g_usleep (50 * 1000);
      g_assert_true (guest_process_gone (fx, pid));
      return;
    }
  for (int i = 0; i < 500 && !process_gone (pid); i++)
    g_usleep (10 * 1000);
  g_assert_true (process_gone (pid));
}

/* The sleeper prints "SHELLPID SLEEPPID\n" and waits forever. */
static const char * const sleeper[] = { "sh", "-c", "sleep 1000 & echo $$ $!; wait", NULL };

static void
wait_pids (Run *run, pid_t *sh_pid, pid_t *sleep_pid)
{
  for (int i = 0; i < 1000; i++)
    {
      g_autofree char *out = read_fd (run->out_fd, NULL);

      if (sscanf (out, "%d %d\n", sh_pid, sleep_pid) == 2 && strchr (out, '\n'))
        {
          g_assert_true (guest_socket != NULL || !process_gone (*sh_pid));
          g_assert_true (guest_socket != NULL || !process_gone (*sleep_pid));
          return;
        }
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10 * 1000);
    }
  g_error ("the sleeper never printed its pids");
}

/* --- tests --------------------------------------------------------------- */

static void
test_hello (Fixture *fx, gconstpointer data)
{
  g_autoptr(AgentGuestInfo) info = hello (fx->client);
  g_autofree char *release = NULL, *hostname = NULL;

  g_assert_true (g_file_get_contents ("/proc/sys/kernel/osrelease", &release, NULL, NULL));
  g_assert_true (g_file_get_contents ("/proc/sys/kernel/hostname", &hostname, NULL, NULL));
  g_strstrip (release);
  g_strstrip (hostname);
  g_assert_cmpuint (info->protocol_version, ==, AGENT_WIRE_VERSION);
  g_assert_cmpuint (info->uptime_ms, >, 0);
  if (guest_socket != NULL)
    {
      /* The guest runs the cloud kernel the test booted. */
      g_assert_cmpstr (info->kernel_release, ==, g_getenv ("GUEST_KERNEL_VERSION"));
      return;
    }
  g_assert_cmpstr (info->kernel_release, ==, release);
  g_assert_cmpstr (info->hostname, ==, hostname);
}

static void
test_echo_and_exit_codes (Fixture *fx, gconstpointer data)
{
  const char *echo[] = { "echo", "hi", NULL };
  const char *seven[] = { "sh", "-c", "echo to-err >&2; exit 7", NULL };
  const char *env[] = { "env", NULL };
  AgentExitStatus status;
  g_autofree char *out = NULL, *err = NULL, *out2 = NULL, *env_out = NULL;

  out = run_sync (fx, echo, -1, &status, NULL);
  g_assert_cmpstr (out, ==, "hi\n");
  g_assert_cmpint (status.exit_code, ==, 0);
  g_assert_cmpint (status.signal, ==, 0);

  out2 = run_sync (fx, seven, -1, &status, &err);
  g_assert_cmpstr (out2, ==, "");
  g_assert_cmpstr (err, ==, "to-err\n");
  g_assert_cmpint (status.exit_code, ==, 7);

  /* The environment is exactly the one given. */
  env_out = run_sync (fx, env, -1, &status, NULL);
  g_assert_cmpstr (env_out, ==, "PATH=/usr/local/bin:/usr/bin:/bin\nLC_ALL=C\n");
}

static void
test_killed_by_signal (Fixture *fx, gconstpointer data)
{
  const char *argv[] = { "sh", "-c", "kill -TERM $$; sleep 5", NULL };
  AgentExitStatus status;
  g_autofree char *out = run_sync (fx, argv, -1, &status, NULL);

  g_assert_cmpint (status.signal, ==, SIGTERM);
  g_assert_cmpint (status.exit_code, ==, -1);
}

static void
test_stdin (Fixture *fx, gconstpointer data)
{
  const char *cat[] = { "cat", NULL };
  const char *wc[] = { "wc", "-c", NULL };
  const char *head[] = { "head", "-c", "3", NULL };
  gsize len = 3 * 1024 * 1024 + 17;
  g_autofree guint8 *input = g_malloc (len);
  g_autofree char *out = NULL, *count = NULL, *three = NULL;
  AgentExitStatus status;
  Run run;
  gsize out_len;
  int in_fd;

  for (gsize i = 0; i < len; i++)
    input[i] = (guint8) g_random_int ();
  in_fd = tmp_fd (fx, "stdin", input, len);
  run_start (fx, &run, cat, in_fd, NULL);
  close (in_fd); /* the client holds its own copy */
  agent_client_exec_finish (fx->client, wait_result (&run.result, "cat"), &status, NULL);
  g_clear_object (&run.result);
  out = read_fd (run.out_fd, &out_len);
  close (run.out_fd);
  close (run.err_fd);
  g_assert_cmpint (status.exit_code, ==, 0);
  g_assert_cmpuint (out_len, ==, len);
  g_assert_true (memcmp (out, input, len) == 0);

  in_fd = tmp_fd (fx, "stdin", input, len);
  count = run_sync (fx, wc, in_fd, &status, NULL);
  close (in_fd);
  g_assert_cmpuint (g_ascii_strtoull (count, NULL, 10), ==, len);

  /* A command that stops reading early does not hang the exec. */
  in_fd = tmp_fd (fx, "stdin", input, len);
  three = run_sync (fx, head, in_fd, &status, NULL);
  close (in_fd);
  g_assert_cmpint (status.exit_code, ==, 0);
  g_assert_cmpuint (strlen (three), <=, 3);
}

typedef struct {
  GChecksum *sum;
  guint64 bytes;
  gboolean eof;
  gboolean paused;
  int fd;
} Drain;

static gboolean
on_drain (int fd, GIOCondition condition, gpointer user_data)
{
  Drain *drain = user_data;
  guint8 chunk[65536];
  gssize n = read (fd, chunk, sizeof chunk);

  if (n > 0)
    {
      if (drain->sum != NULL)
        g_checksum_update (drain->sum, chunk, n);
      drain->bytes += (guint64) n;
      return G_SOURCE_CONTINUE;
    }
  drain->eof = TRUE;
  return G_SOURCE_REMOVE;
}

static void
test_big_output (Fixture *fx, gconstpointer data)
{
  g_autofree char *produced = g_build_filename (fx->dir, "produced", NULL);
  g_autofree char *script = g_strdup_printf ("head -c 50000000 /dev/urandom | tee %s", produced);
  const char *argv[] = { "sh", "-c", script, NULL };
  g_autoptr(GChecksum) want = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr(GError) error = NULL;
  g_autofree char *content = NULL;
  Drain drain = { .sum = g_checksum_new (G_CHECKSUM_SHA256) };
  GAsyncResult *result = NULL;
  AgentExitStatus status;
  gsize content_len;
  int pipefd[2];

  g_assert_true (g_unix_open_pipe (pipefd, FD_CLOEXEC, NULL));
  g_unix_fd_add (pipefd[0], G_IO_IN | G_IO_HUP, on_drain, &drain);
  agent_client_exec_async (fx->client, argv, NULL, NULL, -1, pipefd[1], -1, NULL,
                           on_async_done, &result);
  close (pipefd[1]);
  agent_client_exec_finish (fx->client, wait_result (&result, "50 MB of output"), &status, &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  wait_for (&drain.eof, "EOF on the output pipe");
  close (pipefd[0]);
  g_assert_cmpint (status.exit_code, ==, 0);

  g_assert_true (g_file_get_contents (produced, &content, &content_len, NULL));
  g_assert_cmpuint (content_len, ==, 50000000);
  g_checksum_update (want, (const guint8 *) content, content_len);
  g_assert_cmpuint (drain.bytes, ==, 50000000);
  g_assert_cmpstr (g_checksum_get_string (drain.sum), ==, g_checksum_get_string (want));
  g_checksum_free (drain.sum);
}

static void
test_concurrent (Fixture *fx, gconstpointer data)
{
  enum { N = 20 };
  Run runs[N];
  char *scripts[N];

  for (int i = 0; i < N; i++)
    {
      const char *argv[] = { "sh", "-c", NULL, NULL };

      /* Each sleeps so that all are running at once. */
      scripts[i] = g_strdup_printf ("echo start-%d; sleep 0.3; seq 1 %d; echo end-%d >&2; exit %d",
                                    i, (i + 1) * 1000, i, i);
      argv[2] = scripts[i];
      run_start (fx, &runs[i], argv, -1, NULL);
    }
  for (int i = 0; i < N; i++)
    {
      g_autoptr(GString) want = g_string_new (NULL);
      g_autofree char *out = NULL, *err = NULL, *want_err = g_strdup_printf ("end-%d\n", i);
      g_autoptr(GError) error = NULL;
      AgentExitStatus status;

      g_string_append_printf (want, "start-%d\n", i);
      for (int k = 1; k <= (i + 1) * 1000; k++)
        g_string_append_printf (want, "%d\n", k);
      out = run_finish (fx, &runs[i], &status, &err, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (out, ==, want->str);
      g_assert_cmpstr (err, ==, want_err);
      g_assert_cmpint (status.exit_code, ==, i);
      g_free (scripts[i]);
    }
}

static void
test_slow_reader_does_not_stall_others (Fixture *fx, gconstpointer data)
{
  /* Far more than the stream window and the pipes hold; smaller in a
   * guest, where TCG makes every byte slow. */
  const char *size = guest_socket ? "2000000" : "20000000";
  const char *flood[] = { "head", "-c", size, "/dev/zero", NULL };
  const char *quick[] = { "sh", "-c", "echo quick", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  Drain drain = { 0 };
  GAsyncResult *flood_result = NULL;
  AgentExitStatus status;
  int pipefd[2];
  guint source;

  /* Nobody reads the flood's pipe for now. */
  g_assert_true (g_unix_open_pipe (pipefd, FD_CLOEXEC, NULL));
  agent_client_exec_async (fx->client, flood, NULL, NULL, -1, pipefd[1], -1, NULL,
                           on_async_done, &flood_result);
  close (pipefd[1]);
  for (int i = 0; i < 50; i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5 * 1000);
    }

  for (int i = 0; i < 5; i++)
    {
      g_autofree char *again = run_sync (fx, quick, -1, &status, NULL);
      g_assert_cmpstr (again, ==, "quick\n");
    }
  /* The flood is still stuck behind its reader, not finished. */
  g_assert_null (flood_result);

  source = g_unix_fd_add (pipefd[0], G_IO_IN | G_IO_HUP, on_drain, &drain);
  agent_client_exec_finish (fx->client, wait_result (&flood_result, "the flood"), &status, &error);
  g_assert_no_error (error);
  g_clear_object (&flood_result);
  wait_for (&drain.eof, "EOF of the flood");
  (void) source;
  close (pipefd[0]);
  g_assert_cmpint (status.exit_code, ==, 0);
  g_assert_cmpuint (drain.bytes, ==, g_ascii_strtoull (size, NULL, 10));
}

/* The caller closing its read end of stdout: the client drops that output
 * (no SIGPIPE, no stall) and the command still runs to its end. */
static void
test_closed_output_reader (Fixture *fx, gconstpointer data)
{
  const char *argv[] = { "sh", "-c", "head -c 2000000 /dev/zero; echo done >&2", NULL };
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;
  AgentExitStatus status;
  int pipefd[2], err_fd = tmp_fd (fx, "closed-reader-err", NULL, 0);
  g_autofree char *err = NULL;

  signal (SIGPIPE, SIG_DFL); /* as bangerd runs */
  g_assert_true (g_unix_open_pipe (pipefd, FD_CLOEXEC, NULL));
  close (pipefd[0]);
  agent_client_exec_async (fx->client, argv, NULL, NULL, -1, pipefd[1], err_fd, NULL,
                           on_async_done, &result);
  close (pipefd[1]);
  agent_client_exec_finish (fx->client, wait_result (&result, "the exec"), &status, &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  signal (SIGPIPE, SIG_IGN);
  g_assert_cmpint (status.exit_code, ==, 0);
  err = read_fd (err_fd, NULL);
  close (err_fd);
  g_assert_cmpstr (err, ==, "done\n");
}

/* stdout and stderr share one window: a pipe that finds it used up by the
 * other must wait, not be taken for closed. */
static void
test_shared_window_loses_nothing (Fixture *fx, gconstpointer data)
{
  const char *argv[] = { "sh", "-c",
                         "head -c 4000000 /dev/zero & i=0; while [ $i -lt 3000 ]; do i=$((i+1)); echo e$i >&2; done; wait",
                         NULL };
  g_autoptr(GString) want = g_string_new (NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(GError) error = NULL;
  AgentExitStatus status;
  Run run;
  gsize out_len;

  for (int i = 1; i <= 3000; i++)
    g_string_append_printf (want, "e%d\n", i);
  run_start (fx, &run, argv, -1, NULL);
  agent_client_exec_finish (fx->client, wait_result (&run.result, "the exec"), &status, &error);
  g_assert_no_error (error);
  g_clear_object (&run.result);
  out = read_fd (run.out_fd, &out_len);
  err = read_fd (run.err_fd, NULL);
  close (run.out_fd);
  close (run.err_fd);
  g_assert_cmpint (status.exit_code, ==, 0);
  g_assert_cmpuint (out_len, ==, 4000000);
  g_assert_cmpstr (err, ==, want->str);
}

static void
test_cancel_kills_group (Fixture *fx, gconstpointer data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  pid_t sh_pid, sleep_pid;
  Run run;

  run_start (fx, &run, sleeper, -1, cancellable);
  wait_pids (&run, &sh_pid, &sleep_pid);
  g_cancellable_cancel (cancellable);
  out = run_finish (fx, &run, NULL, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  assert_gone_soon (fx, sh_pid);
  assert_gone_soon (fx, sleep_pid);

  /* The connection is still fine afterwards. */
  {
    const char *echo[] = { "echo", "after", NULL };
    AgentExitStatus status;
    g_autofree char *after = run_sync (fx, echo, -1, &status, NULL);
    g_assert_cmpstr (after, ==, "after\n");
  }
}

static void
test_signal_kills_group (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  AgentExitStatus status;
  pid_t sh_pid, sleep_pid;
  Run run;

  run_start (fx, &run, sleeper, -1, NULL);
  wait_pids (&run, &sh_pid, &sleep_pid);
  agent_client_signal_exec (fx->client, run.id, SIGTERM);
  out = run_finish (fx, &run, &status, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (status.signal, ==, SIGTERM);
  assert_gone_soon (fx, sleep_pid);
}

static void
test_unknown_command (Fixture *fx, gconstpointer data)
{
  const char *missing[] = { "no-such-command-banger", "arg", NULL };
  g_autofree char *plain = g_build_filename (fx->dir, "not-executable", NULL);
  const char *not_exec[] = { plain, NULL };
  g_autofree char *out = NULL, *err = NULL, *out2 = NULL, *err2 = NULL;
  AgentExitStatus status;

  if (guest_socket != NULL)
    return;
  /* No execute bit at all: refused even for root. */
  g_assert_true (g_file_set_contents_full (plain, "echo no\n", -1, 0, 0644, NULL));

  out = run_sync (fx, missing, -1, &status, &err);
  g_assert_cmpint (status.exit_code, ==, 127);
  g_assert_cmpint (status.exec_errno, ==, ENOENT);
  g_assert_cmpstr (err, ==, "banger-agent: no-such-command-banger: command not found\n");

  out2 = run_sync (fx, not_exec, -1, &status, &err2);
  g_assert_cmpint (status.exit_code, ==, 126);
  g_assert_cmpint (status.exec_errno, ==, EACCES);
  g_assert_nonnull (strstr (err2, "not-executable: Permission denied"));
}

/* PATH from the command's env, searched as execvp() does: missing entries
 * and non-directories are passed over, a found but non-executable file is
 * remembered (126) while a later entry may still have the command, and an
 * empty entry is the working directory. */
static void
test_path_search (Fixture *fx, gconstpointer data)
{
  g_autofree char *missing = g_build_filename (fx->dir, "missing", NULL);
  g_autofree char *file = g_build_filename (fx->dir, "a-file", NULL);
  g_autofree char *noexec = g_build_filename (fx->dir, "noexec", NULL);
  g_autofree char *bin = g_build_filename (fx->dir, "bin", NULL);
  g_autofree char *noexec_cmd = g_build_filename (noexec, "banger-cmd", NULL);
  g_autofree char *bin_cmd = g_build_filename (bin, "banger-cmd", NULL);
  g_autofree char *all = g_strdup_printf ("PATH=%s:%s:%s:%s", missing, file, noexec, bin);
  g_autofree char *no_bin = g_strdup_printf ("PATH=%s:%s:%s", missing, file, noexec);
  g_autofree char *gone = g_build_filename (fx->dir, "gone", NULL);
  g_autofree char *gone_err = g_strdup_printf ("banger-agent: cannot change to directory %s: "
                                               "No such file or directory\n", gone);
  const char *argv[] = { "banger-cmd", "x", NULL };
  const char *env_all[] = { all, NULL };
  const char *env_no_bin[] = { no_bin, NULL };
  const char *env_cwd[] = { "PATH=/nonexistent-banger:", NULL };
  const char *env_none[] = { "PATH=", NULL };
  char *out, *err;
  AgentExitStatus status;

  if (guest_socket != NULL)
    return;
  g_assert_cmpint (g_mkdir (noexec, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (bin, 0755), ==, 0);
  g_assert_true (g_file_set_contents_full (file, "", -1, 0, 0644, NULL));
  g_assert_true (g_file_set_contents_full (noexec_cmd, "#!/bin/sh\necho wrong\n", -1, 0, 0644, NULL));
  g_assert_true (g_file_set_contents_full (bin_cmd, "#!/bin/sh\necho \"ran $0 $1\"\n", -1, 0, 0755, NULL));

  out = run_sync_in (fx, argv, env_all, NULL, &status, &err);
  g_assert_cmpint (status.exit_code, ==, 0);
  g_assert_cmpint (status.exec_errno, ==, 0);
  g_assert_true (g_str_has_prefix (out, "ran ") && g_str_has_suffix (out, "/bin/banger-cmd x\n"));
  g_assert_cmpstr (err, ==, "");
  g_free (out);
  g_free (err);

  out = run_sync_in (fx, argv, env_no_bin, NULL, &status, &err);
  g_assert_cmpint (status.exit_code, ==, 126);
  g_assert_cmpint (status.exec_errno, ==, EACCES);
  g_assert_cmpstr (err, ==, "banger-agent: banger-cmd: Permission denied\n");
  g_free (out);
  g_free (err);

  out = run_sync_in (fx, argv, env_cwd, bin, &status, &err);
  g_assert_cmpint (status.exit_code, ==, 0);
  g_assert_cmpstr (out, ==, "ran banger-cmd x\n");
  g_free (out);
  g_free (err);

  out = run_sync_in (fx, argv, env_none, bin, &status, &err);
  g_assert_cmpint (status.exit_code, ==, 0);
  g_assert_cmpstr (out, ==, "ran banger-cmd x\n");
  g_free (out);
  g_free (err);

  out = run_sync_in (fx, argv, env_all, gone, &status, &err);
  g_assert_cmpint (status.exit_code, ==, 127);
  g_assert_cmpint (status.exec_errno, ==, ENOENT);
  g_assert_cmpstr (err, ==, gone_err);
  g_free (out);
  g_free (err);
}

static void
on_closed (AgentClient *client, GError *reason, gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

static void
test_disconnect_kills_and_reconnect_works (Fixture *fx, gconstpointer data)
{
  const char *echo[] = { "echo", "again", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(AgentGuestInfo) info = NULL;
  g_autofree char *out = NULL, *again = NULL;
  gboolean closed = FALSE;
  AgentExitStatus status;
  pid_t sh_pid, sleep_pid;
  Run run;

  g_signal_connect (fx->client, "closed", G_CALLBACK (on_closed), &closed);
  run_start (fx, &run, sleeper, -1, NULL);
  wait_pids (&run, &sh_pid, &sleep_pid);
  agent_client_close (fx->client);
  g_assert_true (closed);
  out = run_finish (fx, &run, NULL, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
  g_clear_object (&fx->client);

  fx->client = connect_agent (fx);
  info = hello (fx->client);
  g_assert_cmpuint (info->protocol_version, ==, AGENT_WIRE_VERSION);
  assert_gone_soon (fx, sh_pid);
  assert_gone_soon (fx, sleep_pid);
  again = run_sync (fx, echo, -1, &status, NULL);
  g_assert_cmpstr (again, ==, "again\n");
}

/* Hosts that come and go in quick succession each get their HELLO
 * answered, also with the guest busy. On a virtio-serial port the new
 * host's bytes can reach the guest before the port reports it connected;
 * that moment must not pass for a hang-up that throws the answer away. */
static void
test_quick_reconnects_are_answered (Fixture *fx, gconstpointer data)
{
  /* In its own session, so the reconnections do not kill it; bounded in
   * case the test dies first. */
  const char *hog[] = { "sh", "-c",
                        "setsid timeout 300 sh -c 'while :; do :; done' "
                        "</dev/null >/dev/null 2>&1 & echo $!",
                        NULL };
  g_autofree char *hog_pid = NULL;
  AgentExitStatus status;

  if (guest_socket != NULL)
    {
      hog_pid = g_strstrip (run_sync (fx, hog, -1, &status, NULL));
      g_assert_cmpint (atoi (hog_pid), >, 1);
    }

  for (int i = 0; i < 40; i++)
    {
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(AgentGuestInfo) info = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *what = g_strdup_printf ("the HELLO of reconnection %d", i + 1);

      agent_client_close (fx->client);
      g_clear_object (&fx->client);
      fx->client = connect_agent (fx);
      agent_client_hello_async (fx->client, NULL, on_async_done, &result);
      info = agent_client_hello_finish (fx->client, wait_result_within (&result, 20, what), &error);
      g_assert_no_error (error);
    }

  if (hog_pid != NULL)
    {
      const char *kill_hog[] = { "kill", "-9", hog_pid, NULL };
      g_autofree char *out = run_sync (fx, kill_hog, -1, &status, NULL);

      g_assert_cmpint (status.exit_code, ==, 0);
    }
}

/* Runs @argv and checks it exits 0 having printed exactly @expected. */
static void
assert_prints (Fixture *fx, const char * const *argv, const char *expected)
{
  g_autofree char *out = NULL;
  AgentExitStatus status;

  out = run_sync (fx, argv, -1, &status, NULL);
  g_assert_cmpint (status.exit_code, ==, 0);
  g_assert_cmpstr (out, ==, expected);
}

/* Only stdin, stdout and stderr reach a command: ls lists its own
 * descriptors, 0-2 and the directory it reads (3), nothing more. */
static void
test_command_gets_only_stdio (Fixture *fx, gconstpointer data)
{
  const char *fds[] = { "ls", "/proc/self/fd", NULL };

  for (int i = 0; i < 3; i++)
    assert_prints (fx, fds, "0\n1\n2\n3\n");
}

/* A command line near the largest the protocol carries runs. */
static void
test_largest_command_line (Fixture *fx, gconstpointer data)
{
  g_autofree char *big = g_strnfill (60000, 'x');
  const char *length[] = { "sh", "-c", "echo ${#1}", "sh", big, NULL };

  for (int i = 0; i < 2; i++)
    assert_prints (fx, length, "60000\n");
}

/* --- raw frames, for what the client never sends ------------------------- */

static GSocketConnection *
raw_connect (Fixture *fx)
{
  g_autoptr(GSocketClient) sc = g_socket_client_new ();
  g_autoptr(GSocketAddress) addr = g_unix_socket_address_new (fx->socket_path);
  GSocketConnection *conn = NULL;
  g_autoptr(GError) error = NULL;

  /* A chardev takes one client at a time. */
  if (fx->client != NULL)
    agent_client_close (fx->client);
  g_clear_object (&fx->client);
  for (int i = 0; i < 3000 && conn == NULL; i++)
    {
      g_clear_error (&error);
      conn = g_socket_client_connect (sc, G_SOCKET_CONNECTABLE (addr), NULL, &error);
      if (conn == NULL)
        g_usleep (10 * 1000);
    }
  g_assert_no_error (error);
  g_socket_set_timeout (g_socket_connection_get_socket (conn), 20);
  return conn;
}

static void
raw_send (GSocketConnection *conn, const void *data, gsize len)
{
  g_autoptr(GError) error = NULL;

  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)),
                             data, len, NULL, NULL, &error);
  g_assert_no_error (error);
}

/* Reads one frame into @buf (AGENT_WIRE_HEADER_SIZE + AGENT_WIRE_MAX_PAYLOAD
 * bytes) and checks its type; false if none came within @seconds (the
 * connection is then of no further use). */
static gboolean
raw_read_frame (GSocketConnection *conn, guint8 type, guint seconds, guint8 *buf,
                AgentWireFrame *frame)
{
  GSocket *socket = g_socket_connection_get_socket (conn);
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  g_autoptr(GError) error = NULL;
  guint32 length;
  size_t used;

  g_socket_set_timeout (socket, seconds);
  g_input_stream_read_all (in, buf, AGENT_WIRE_HEADER_SIZE, NULL, NULL, &error);
  g_socket_set_timeout (socket, 20);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return FALSE;
  g_assert_no_error (error);
  memcpy (&length, buf, sizeof length);
  length = GUINT32_FROM_LE (length);
  g_assert_cmpuint (length, <=, AGENT_WIRE_MAX_PAYLOAD);
  g_input_stream_read_all (in, buf + AGENT_WIRE_HEADER_SIZE, length, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (agent_wire_decode (buf, AGENT_WIRE_HEADER_SIZE + length, frame, &used, NULL),
                   ==, AGENT_WIRE_FRAME);
  g_assert_cmpstr (agent_wire_type_name (frame->type), ==, agent_wire_type_name (type));
  return TRUE;
}

static gboolean
raw_expect_within (GSocketConnection *conn, guint8 type, guint seconds)
{
  g_autofree guint8 *buf = g_malloc (AGENT_WIRE_HEADER_SIZE + AGENT_WIRE_MAX_PAYLOAD);
  AgentWireFrame frame;

  return raw_read_frame (conn, type, seconds, buf, &frame);
}

/* Reads one frame and checks its type; fails after 20 s. */
static void
raw_expect (GSocketConnection *conn, guint8 type)
{
  g_assert_true (raw_expect_within (conn, type, 20));
}

static void
raw_send_hello (GSocketConnection *conn)
{
  AgentWireHello request = { .version = AGENT_WIRE_VERSION };
  AgentWireBuf buf = { 0 };

  g_assert_true (agent_wire_put_hello (&buf, &request));
  raw_send (conn, buf.data, buf.len);
  agent_wire_buf_clear (&buf);
}

/* Sends all of an EXEC frame but its last @missing bytes: a host cut off
 * just before the end of a command it asked for. */
static void
raw_send_cut_exec (GSocketConnection *conn, gsize missing)
{
  const char *argv[] = { "sh", "-c", "echo the cut-off command ran", NULL };
  const char *envp[] = { NULL };
  AgentWireExec request = { .cwd = (char *) "/", .argv = (char **) argv, .envp = (char **) envp };
  AgentWireBuf buf = { 0 };

  g_assert_true (agent_wire_put_exec (&buf, 7, &request));
  g_assert_cmpuint (buf.len, >, missing);
  raw_send (conn, buf.data, buf.len - missing);
  agent_wire_buf_clear (&buf);
}

static void
raw_hello (GSocketConnection *conn)
{
  raw_send_hello (conn);
  raw_expect (conn, AGENT_MSG_HELLO);
}

/* A host cut off in the middle of a frame (killed while it streamed
 * stdin, say) must not keep the next host from being answered: on a port
 * the next host's bytes arrive right behind the unfinished frame. */
static void
test_cut_off_frame_then_hello (Fixture *fx, gconstpointer data)
{
  g_autoptr(GSocketConnection) conn = raw_connect (fx);
  g_autofree guint8 *payload = g_malloc0 (30000);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(AgentGuestInfo) info = NULL;
  g_autoptr(GError) error = NULL;
  AgentWireBuf buf = { 0 };

  raw_hello (conn);
  g_assert_true (agent_wire_put_frame (&buf, AGENT_MSG_STDIN, 7, payload, 30000));
  raw_send (conn, buf.data, 1000);
  agent_wire_buf_clear (&buf);
  g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);

  fx->client = connect_agent (fx);
  agent_client_hello_async (fx->client, NULL, on_async_done, &result);
  info = agent_client_hello_finish (fx->client,
                                    wait_result_within (&result, 20, "the HELLO after a cut-off frame"),
                                    &error);
  g_assert_no_error (error);
}

/* On a port, a host cut off a few bytes before the end of a frame leaves
 * less than a HELLO missing: the next host's HELLO would finish that
 * frame and be split. A HELLO arriving after the frame stopped growing
 * starts a new host: its answer is the next frame, not an ERROR about the
 * cut-off one. */
static void
test_hello_after_stalled_frame (Fixture *fx, gconstpointer data)
{
  g_autoptr(GSocketConnection) conn = raw_connect (fx);

  raw_hello (conn);
  for (gsize missing = 1; missing < 32; missing += 15)
    {
      raw_send_cut_exec (conn, missing);
      g_usleep (1500 * 1000);
      raw_send_hello (conn);
      raw_expect (conn, AGENT_MSG_HELLO);
    }
}

/* The same after a real hang-up and reconnect, which may come before the
 * frame counts as stalled: answered at once or, as bangerd does, after
 * one more HELLO. */
static void
test_reconnect_after_cut_frame (Fixture *fx, gconstpointer data)
{
  for (gsize missing = 1; missing < 32; missing += 15)
    {
      g_autoptr(GSocketConnection) old = raw_connect (fx);
      g_autoptr(GSocketConnection) conn = NULL;

      raw_hello (old);
      raw_send_cut_exec (old, missing);
      g_io_stream_close (G_IO_STREAM (old), NULL, NULL);
      g_usleep (100 * 1000);
      conn = raw_connect (fx);
      raw_send_hello (conn);
      if (!raw_expect_within (conn, AGENT_MSG_HELLO, 3))
        {
          raw_send_hello (conn);
          raw_expect (conn, AGENT_MSG_HELLO);
        }
      g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
    }
  fx->client = connect_agent (fx);
  assert_prints (fx, (const char *[]) { "echo", "still-works", NULL }, "still-works\n");
}

/* On a port, which the agent cannot close, garbage gets an ERROR and the
 * agent listens again from the next HELLO on. */
static void
test_garbage_then_hello_on_port (Fixture *fx, gconstpointer data)
{
  static const guint8 garbage[] = { 4, 0, 0, 0, 9, 0x77, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4 };
  g_autoptr(GSocketConnection) conn = raw_connect (fx);

  raw_hello (conn);
  raw_send (conn, garbage, sizeof garbage);
  raw_expect (conn, AGENT_MSG_ERROR);
  raw_send (conn, garbage, sizeof garbage); /* ignored: no second ERROR */
  raw_hello (conn);
  g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
  fx->client = connect_agent (fx);
  {
    g_autoptr(AgentGuestInfo) info = hello (fx->client);
  }
}

/* A second connection replaces the first, whose client sees it close. */
static void
test_new_connection_replaces_old (Fixture *fx, gconstpointer data)
{
  g_autoptr(AgentClient) second = NULL;
  g_autoptr(AgentGuestInfo) info = NULL;
  gboolean closed = FALSE;

  g_signal_connect (fx->client, "closed", G_CALLBACK (on_closed), &closed);
  second = connect_agent (fx);
  info = hello (second);
  wait_for (&closed, "the old connection to close");
  g_assert_true (agent_client_is_closed (fx->client));
  agent_client_close (second);
}

/* Garbage gets an ERROR and a closed connection, not a crash. */
static void
test_malformed_input (Fixture *fx, gconstpointer data)
{
  g_autoptr(GSocketClient) sc = g_socket_client_new ();
  g_autoptr(GSocketAddress) addr = g_unix_socket_address_new (fx->socket_path);
  g_autoptr(GSocketConnection) conn = NULL;
  g_autoptr(GError) error = NULL;
  static const guint8 garbage[] = { 4, 0, 0, 0, 1, 0x77, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4 };
  guint8 reply[256];
  gsize got = 0;
  gssize n;
  AgentWireFrame frame;
  AgentWireError err;
  size_t used;

  conn = g_socket_client_connect (sc, G_SOCKET_CONNECTABLE (addr), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)),
                                            garbage, sizeof garbage, NULL, NULL, &error));
  while ((n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (conn)),
                                   reply + got, sizeof reply - got, NULL, &error)) > 0)
    got += (gsize) n;
  g_assert_cmpint (agent_wire_decode (reply, got, &frame, &used, NULL), ==, AGENT_WIRE_FRAME);
  g_assert_cmpuint (frame.type, ==, AGENT_MSG_ERROR);
  g_assert_true (agent_wire_parse_error (&frame, &err));
  g_assert_cmpuint (err.code, ==, AGENT_ERR_PROTOCOL);
  agent_wire_error_clear (&err);
  g_assert_cmpuint (used, ==, got); /* then the agent hung up */

  g_clear_object (&fx->client);
  fx->client = connect_agent (fx);
  {
    g_autoptr(AgentGuestInfo) info = hello (fx->client);
  }
}

/* An EXEC for @argv on @stream, as bangerd sends it. */
static void
raw_put_exec (AgentWireBuf *buf, guint32 stream, const char * const *argv)
{
  const char *envp[] = { "PATH=/usr/local/bin:/usr/bin:/bin", NULL };
  AgentWireExec request = { .cwd = (char *) "/", .argv = (char **) argv, .envp = (char **) envp };

  g_assert_true (agent_wire_put_exec (buf, stream, &request));
}

/* A SIGNAL in the same write as its EXEC is read before the command has a
 * pid (the agent starts it on another thread): it must still reach it. */
static void
test_signal_before_the_pid (Fixture *fx, gconstpointer data)
{
  static const char * const argv[] = { "sleep", "1000", NULL };
  g_autoptr(GSocketConnection) conn = raw_connect (fx);
  g_autofree guint8 *frame_buf = g_malloc (AGENT_WIRE_HEADER_SIZE + AGENT_WIRE_MAX_PAYLOAD);
  AgentWireBuf buf = { 0 };
  AgentWireFrame frame;
  AgentWireExit status;

  raw_hello (conn);
  raw_put_exec (&buf, 5, argv);
  g_assert_true (agent_wire_put_u32 (&buf, AGENT_MSG_SIGNAL, 5, SIGTERM));
  raw_send (conn, buf.data, buf.len);
  agent_wire_buf_clear (&buf);
  g_assert_true (raw_read_frame (conn, AGENT_MSG_EXIT, 20, frame_buf, &frame));
  g_assert_cmpuint (frame.stream, ==, 5);
  g_assert_true (agent_wire_parse_exit (&frame, &status));
  g_assert_cmpuint (status.kind, ==, AGENT_EXIT_SIGNAL);
  g_assert_cmpuint (status.value, ==, SIGTERM);
}

/* Processes whose command line is exactly @argv; killed with @kill_them. */
static guint
count_processes (const char * const *argv, gboolean kill_them)
{
  g_autoptr(GString) want = g_string_new (NULL);
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;
  guint count = 0;

  for (guint i = 0; argv[i] != NULL; i++)
    g_string_append_len (want, argv[i], (gssize) strlen (argv[i]) + 1);
  while (proc != NULL && (name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc", name, "cmdline", NULL);
      g_autofree char *cmdline = NULL;
      gsize len;

      if (!g_ascii_isdigit (name[0]) || !g_file_get_contents (path, &cmdline, &len, NULL)
          || len != want->len || memcmp (cmdline, want->str, len) != 0
          || process_gone ((pid_t) atoi (name)))
        continue;
      count++;
      if (kill_them)
        kill ((pid_t) atoi (name), SIGKILL);
    }
  return count;
}

/* A host that hangs up right after asking for commands leaves none of
 * them running, also those the agent was still starting. */
static void
test_hangup_while_starting (Fixture *fx, gconstpointer data)
{
  static const char * const argv[] = { "sleep", "987.25", NULL };
  g_autoptr(GSocketConnection) conn = raw_connect (fx);
  g_autoptr(AgentGuestInfo) info = NULL;
  AgentWireBuf buf = { 0 };
  guint left = 0;

  g_assert_cmpuint (count_processes (argv, TRUE), ==, 0);
  raw_hello (conn);
  for (guint32 id = 1; id <= 10; id++)
    raw_put_exec (&buf, id, argv);
  raw_send (conn, buf.data, buf.len);
  agent_wire_buf_clear (&buf);
  g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);

  fx->client = connect_agent (fx);
  info = hello (fx->client);
  for (int i = 0; i < 500 && (left = count_processes (argv, FALSE)) > 0; i++)
    g_usleep (10 * 1000);
  count_processes (argv, TRUE);
  g_assert_cmpuint (left, ==, 0);
}

/* A FUSE file system whose server never answers: every lookup in it
 * waits (killably) for good, like a hung network file system. Returns the
 * /dev/fuse fd that keeps it so, or -1 (with the test skipped). */
static int
mount_hung_fs (const char *dir)
{
  g_autofree char *options = NULL;
  int fd;

  if (!private_mounts)
    {
      g_test_skip ("needs root for a mount namespace of its own");
      return -1;
    }
  fd = open ("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    {
      g_test_skip ("no /dev/fuse");
      return -1;
    }
  options = g_strdup_printf ("fd=%d,rootmode=40000,user_id=0,group_id=0", fd);
  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  if (mount ("banger-hung", dir, "fuse.banger-hung", MS_NOSUID | MS_NODEV, options) < 0)
    {
      g_test_skip_printf ("cannot mount a FUSE file system: %s", g_strerror (errno));
      close (fd);
      return -1;
    }
  return fd;
}

/* A command stuck before its exec (its working directory on a file system
 * that never answers) holds up neither the agent nor other commands, and
 * a signal still ends it. */
static void
test_stuck_start (Fixture *fx, gconstpointer data)
{
  static const char * const env[] = { "PATH=/usr/local/bin:/usr/bin:/bin", NULL };
  static const char * const argv[] = { "true", NULL };
  g_autofree char *hung = g_build_filename (fx->dir, "hung", NULL);
  g_autofree char *cwd = g_build_filename (hung, "sub", NULL);
  g_autoptr(GError) error = NULL;
  AgentExitStatus status;
  int fuse_fd = mount_hung_fs (hung);
  Run stuck;

  if (fuse_fd < 0)
    return;
  run_start_in (fx, &stuck, argv, env, cwd, -1, NULL);
  g_usleep (300 * 1000);
  g_assert_null (stuck.result);
  assert_prints (fx, (const char *[]) { "echo", "not held up", NULL }, "not held up\n");
  g_assert_null (stuck.result);
  agent_client_signal_exec (fx->client, stuck.id, SIGKILL);
  agent_client_exec_finish (fx->client, wait_result_within (&stuck.result, 20, "the stuck command's end"),
                            &status, &error);
  g_assert_no_error (error);
  g_clear_object (&stuck.result);
  close (stuck.out_fd);
  close (stuck.err_fd);
  g_assert_cmpint (status.signal, ==, SIGKILL);
  g_assert_cmpint (umount2 (hung, MNT_DETACH), ==, 0);
  close (fuse_fd);
  g_rmdir (hung);
}

static void
test_poweroff (Fixture *fx, gconstpointer data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  agent_client_poweroff_async (fx->client, NULL, on_async_done, &result);
  g_assert_true (agent_client_poweroff_finish (fx->client, wait_result (&result, "POWEROFF"), &error));
  g_assert_no_error (error);
  if (guest_socket != NULL)
    return; /* guest-agent.sh checks that qemu exits */
  g_assert_true (g_subprocess_wait (fx->agent, NULL, &error));
  g_assert_true (g_subprocess_get_if_exited (fx->agent));
  g_assert_cmpint (g_subprocess_get_exit_status (fx->agent), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  signal (SIGPIPE, SIG_IGN);
  guest_socket = g_getenv ("BANGER_AGENT_SOCKET");
  /* Private, and not shared back: what a test mounts goes with it. */
  private_mounts = guest_socket == NULL && geteuid () == 0 && unshare (CLONE_NEWNS) == 0
                   && mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;

#define ADD(path, fn) g_test_add ("/agent/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("hello/reports-the-guest", test_hello);
  ADD ("exec/streams-output-and-exit-code", test_echo_and_exit_codes);
  ADD ("exec/reports-the-killing-signal", test_killed_by_signal);
  ADD ("exec/streams-stdin", test_stdin);
  if (guest_socket == NULL)
    ADD ("exec/50mb-output-arrives-intact", test_big_output);
  ADD ("exec/20-concurrent-keep-their-output", test_concurrent);
  ADD ("flow/slow-reader-does-not-stall-others", test_slow_reader_does_not_stall_others);
  ADD ("flow/closed-reader-drops-output", test_closed_output_reader);
  ADD ("flow/stdout-and-stderr-share-the-window", test_shared_window_loses_nothing);
  ADD ("exec/cancel-kills-the-process-group", test_cancel_kills_group);
  ADD ("exec/signal-reaches-the-process-group", test_signal_kills_group);
  ADD ("exec/signal-before-the-pid-is-known", test_signal_before_the_pid);
  if (guest_socket == NULL)
    ADD ("exec/hangup-while-starting-leaves-nothing", test_hangup_while_starting);
  if (guest_socket == NULL)
    ADD ("exec/a-start-stuck-on-a-hung-fs-holds-up-nothing", test_stuck_start);
  ADD ("exec/unknown-command-is-127", test_unknown_command);
  ADD ("exec/path-search-is-execvp-s", test_path_search);
  ADD ("connection/disconnect-kills-execs-and-reconnect-works", test_disconnect_kills_and_reconnect_works);
  ADD ("connection/quick-reconnects-are-answered", test_quick_reconnects_are_answered);
  ADD ("connection/cut-off-frame-then-hello-is-answered", test_cut_off_frame_then_hello);
  if (guest_socket != NULL)
    {
      ADD ("connection/garbage-then-hello-on-a-port", test_garbage_then_hello_on_port);
      ADD ("connection/hello-after-a-stalled-frame-is-answered", test_hello_after_stalled_frame);
      ADD ("connection/reconnect-after-a-cut-frame-is-answered", test_reconnect_after_cut_frame);
    }
  ADD ("exec/command-gets-only-stdio", test_command_gets_only_stdio);
  ADD ("exec/largest-command-line-runs", test_largest_command_line);
  /* A chardev takes one client at a time, and garbage sent to a port
   * leaves the agent draining until the host hangs up: host only. */
  if (guest_socket == NULL)
    {
      ADD ("connection/new-one-replaces-old", test_new_connection_replaces_old);
      ADD ("connection/malformed-input-is-refused", test_malformed_input);
    }
  ADD ("poweroff/answers-then-exits", test_poweroff);
  return g_test_run ();
}
