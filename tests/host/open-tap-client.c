/* open-tap-client.c: calls dev.banger.Helper1.OpenTap on the system bus,
 * as whoever runs it, and says what the fd it got back is attached to. */
#include "config.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixfdlist.h>

/* usage: open-tap-client TAP
 * Prints "NAME tap no_pi writable" for a tap fd in IFF_TAP | IFF_NO_PI
 * mode that takes a frame. On a D-Bus error prints it (with its name, as
 * gdbus does) on stderr and exits 1. */
int
main (int    argc,
      char **argv)
{
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GUnixFDList) fds = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  struct ifreq ifr = { 0 };
  /* A broadcast frame of a local experimental ethertype. */
  guint8 frame[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                       0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x88, 0xb5 };
  gint32 index;
  int fd;

  if (argc != 2)
    {
      g_printerr ("usage: %s TAP\n", argv[0]);
      return 2;
    }
  bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  if (bus != NULL)
    reply = g_dbus_connection_call_with_unix_fd_list_sync (bus, "dev.banger.Helper1",
                                                           "/dev/banger/Helper1",
                                                           "dev.banger.Helper1", "OpenTap",
                                                           g_variant_new ("(s)", argv[1]),
                                                           G_VARIANT_TYPE ("(h)"),
                                                           G_DBUS_CALL_FLAGS_NONE, 20000,
                                                           NULL, &fds, NULL, &error);
  if (reply == NULL)
    {
      g_printerr ("Error: %s\n", error->message);
      return 1;
    }

  g_variant_get (reply, "(h)", &index);
  fd = g_unix_fd_list_get (fds, index, &error);
  if (fd < 0)
    {
      g_printerr ("no fd in the reply: %s\n", error->message);
      return 1;
    }
  if (ioctl (fd, TUNGETIFF, &ifr) < 0)
    {
      g_printerr ("TUNGETIFF: %s\n", g_strerror (errno));
      return 1;
    }
  g_print ("%s%s%s%s\n", ifr.ifr_name,
           (ifr.ifr_flags & IFF_TAP) != 0 ? " tap" : "",
           (ifr.ifr_flags & IFF_NO_PI) != 0 ? " no_pi" : "",
           write (fd, frame, sizeof frame) == sizeof frame ? " writable" : "");
  close (fd);
  return 0;
}
