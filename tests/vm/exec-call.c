/* exec-call.c: calls dev.banger.VM1.Exec on the session bus with this
 * process' stdin, stdout and stderr passed as descriptors, which neither
 * busctl nor gdbus can do, so tests can make the raw call.
 *
 *   exec-call VM OPTIONS [ARG...]
 *
 * OPTIONS is an a{sv} in GVariant text form ("{}" for none); no ARG sends
 * an empty argv. Prints "exit_code signal" on stderr after the call; a
 * D-Bus error is printed as "NAME: MESSAGE" and exits 1.
 *
 * EXEC_CALL_FIRST=1 runs `true` on the same connection first;
 * EXEC_CALL_TWICE=1 makes the call twice at once (the first reply is
 * printed); both for tests of what bangerd keeps per caller. */
#include <stdio.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixfdlist.h>

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GVariant) options = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;
  gint exit_code, signal_number;

  if (argc < 3)
    {
      fprintf (stderr, "usage: exec-call VM OPTIONS [ARG...]\n");
      return 2;
    }
  options = g_variant_parse (G_VARIANT_TYPE_VARDICT, argv[2], NULL, NULL, &error);
  if (options == NULL)
    {
      fprintf (stderr, "exec-call: bad options: %s\n", error->message);
      return 2;
    }
  for (int fd = 0; fd < 3; fd++)
    if (g_unix_fd_list_append (fds, fd, &error) < 0)
      {
        fprintf (stderr, "exec-call: %s\n", error->message);
        return 2;
      }

  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  if (bus == NULL)
    {
      fprintf (stderr, "exec-call: %s\n", error->message);
      return 2;
    }
  escaped = g_dbus_escape_object_path (argv[1]);
  path = g_strconcat ("/dev/banger/Daemon1/vm/", escaped, NULL);
  if (g_getenv ("EXEC_CALL_FIRST") != NULL)
    {
      const char *true_argv[] = { "true", NULL };
      g_autoptr(GVariant) first = NULL;

      first = g_dbus_connection_call_with_unix_fd_list_sync (bus, "dev.banger.Daemon1", path,
                                                             "dev.banger.VM1", "Exec",
                                                             g_variant_new ("(^as@a{sv}hhh)", true_argv,
                                                                            g_variant_new ("a{sv}", NULL),
                                                                            0, 1, 2),
                                                             G_VARIANT_TYPE ("(ii)"),
                                                             G_DBUS_CALL_FLAGS_NONE, G_MAXINT,
                                                             fds, NULL, NULL, &error);
      if (first == NULL)
        {
          fprintf (stderr, "exec-call: the first call failed: %s\n", error->message);
          return 1;
        }
    }
  if (g_getenv ("EXEC_CALL_TWICE") != NULL)
    g_dbus_connection_call_with_unix_fd_list (bus, "dev.banger.Daemon1", path,
                                              "dev.banger.VM1", "Exec",
                                              g_variant_new ("(^as@a{sv}hhh)", argv + 3,
                                                             options, 0, 1, 2),
                                              G_VARIANT_TYPE ("(ii)"),
                                              G_DBUS_CALL_FLAGS_NONE, G_MAXINT,
                                              fds, NULL, NULL, NULL);
  reply = g_dbus_connection_call_with_unix_fd_list_sync (bus, "dev.banger.Daemon1", path,
                                                         "dev.banger.VM1", "Exec",
                                                         g_variant_new ("(^as@a{sv}hhh)", argv + 3,
                                                                        options, 0, 1, 2),
                                                         G_VARIANT_TYPE ("(ii)"),
                                                         G_DBUS_CALL_FLAGS_NONE, G_MAXINT,
                                                         fds, NULL, NULL, &error);
  if (reply == NULL)
    {
      g_autofree char *name = g_dbus_error_get_remote_error (error);

      g_dbus_error_strip_remote_error (error);
      fprintf (stderr, "%s: %s\n", name != NULL ? name : "(local)", error->message);
      return 1;
    }
  g_variant_get (reply, "(ii)", &exit_code, &signal_number);
  fprintf (stderr, "%d %d\n", exit_code, signal_number);
  return 0;
}
