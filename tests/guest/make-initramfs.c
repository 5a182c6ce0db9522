/* make-initramfs.c: runs bangerd's initramfs builder from the command
 * line, for the guest boot tests. */
#include "config.h"

#include <gio/gio.h>
#include <stdio.h>

#include "initramfs.h"

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;

  if (argc != 6)
    {
      fprintf (stderr, "usage: %s MODULES-ROOT KERNEL-VERSION INIT AGENT OUTPUT\n", argv[0]);
      return 2;
    }
  if (!initramfs_build (argv[1], argv[2], argv[3], argv[4], argv[5], NULL, &error))
    {
      fprintf (stderr, "make-initramfs: %s\n", error->message);
      return 1;
    }
  return 0;
}
