/* exec-rtt.c: the round trip of dev.banger.VM1.Exec running `true` in a
 * running VM, N times in one process (no process start in the numbers):
 * D-Bus to bangerd, the agent protocol, fork/exec in the guest, the exit
 * status back. Prints p50, p95 and max in milliseconds.
 *
 *   exec-rtt VM N */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixfdlist.h>

static int
compare (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;
  g_autofree double *ms = NULL;
  int n, null_fd;

  if (argc != 3 || (n = atoi (argv[2])) <= 0)
    {
      fprintf (stderr, "usage: exec-rtt VM N\n");
      return 2;
    }
  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  if (bus == NULL)
    {
      fprintf (stderr, "exec-rtt: %s\n", error->message);
      return 1;
    }
  escaped = g_dbus_escape_object_path (argv[1]);
  path = g_strconcat ("/dev/banger/Daemon1/vm/", escaped, NULL);
  null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
  ms = g_new (double, n);
  for (int i = 0; i < n; i++)
    {
      const char *true_argv[] = { "true", NULL };
      g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
      g_autoptr(GVariant) reply = NULL;
      gint64 start;

      for (int j = 0; j < 3; j++)
        g_unix_fd_list_append (fds, null_fd, NULL);
      start = g_get_monotonic_time ();
      reply = g_dbus_connection_call_with_unix_fd_list_sync (
        bus, "dev.banger.Daemon1", path, "dev.banger.VM1", "Exec",
        g_variant_new ("(^as@a{sv}hhh)", true_argv,
                       g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0), 0, 1, 2),
        G_VARIANT_TYPE ("(ii)"), G_DBUS_CALL_FLAGS_NONE, 60000, fds, NULL, NULL, &error);
      if (reply == NULL)
        {
          fprintf (stderr, "exec-rtt: %s\n", error->message);
          return 1;
        }
      ms[i] = (g_get_monotonic_time () - start) / 1000.0;
    }
  qsort (ms, (size_t) n, sizeof *ms, compare);
  printf ("exec round trip (true), %d calls: p50 %.2f ms, p95 %.2f ms, max %.2f ms\n", n,
          ms[n / 2], ms[(n * 95) / 100 < n ? (n * 95) / 100 : n - 1], ms[n - 1]);
  return 0;
}
