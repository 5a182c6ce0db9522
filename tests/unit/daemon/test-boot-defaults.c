/* test-boot-defaults.c: the config file's boot keys: what a missing file
 * or key gives, that every choice key takes exactly its words, and that a
 * bad value names the file and the key. */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "banger-error.h"
#include "boot-defaults.h"

typedef struct {
  char *dir;
  char *path;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("banger-boot-defaults-XXXXXX", NULL);
  f->path = g_build_filename (f->dir, "config", NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_unlink (f->path);
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static gboolean
load (Fixture *f, const char *text, BootDefaults *out, GError **error)
{
  if (text != NULL)
    g_assert_true (g_file_set_contents (f->path, text, -1, NULL));
  return boot_defaults_load (f->path, out, error);
}

static void
test_missing_file (Fixture *f, gconstpointer data)
{
  g_auto(BootDefaults) defaults = { 0 };
  g_autoptr(GError) error = NULL;

  g_assert_true (load (f, NULL, &defaults, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (defaults.vmm, ==, "auto");
  g_assert_cmpstr (defaults.qemu, ==, "qemu-system-x86_64");
  g_assert_cmpstr (defaults.firecracker, ==, "firecracker");
  g_assert_cmpint (defaults.jailer, ==, JAILER_AUTO);
  g_assert_cmpint (defaults.qemu_agent_channel, ==, VMM_AGENT_CHANNEL_AUTO);
  g_assert_false (defaults.nat);
  g_assert_false (defaults.kernel_messages_all);
}

static void
test_choices (Fixture *f, gconstpointer data)
{
  static const struct {
    const char      *text;
    JailerMode       jailer;
    VmmAgentChannel  channel;
    gboolean         kernel_messages_all;
  } cases[] = {
    { "[qemu]\nagent-channel = vsock\n", JAILER_AUTO, VMM_AGENT_CHANNEL_VSOCK, FALSE },
    { "[qemu]\nagent-channel =  serial \n", JAILER_AUTO, VMM_AGENT_CHANNEL_SERIAL, FALSE },
    { "[qemu]\nagent-channel = auto\n[firecracker]\njailer = never\n", JAILER_NEVER,
      VMM_AGENT_CHANNEL_AUTO, FALSE },
    { "[firecracker]\njailer = always\n", JAILER_ALWAYS, VMM_AGENT_CHANNEL_AUTO, FALSE },
    { "[qemu]\nbinary = /opt/qemu/bin/qemu-system-x86_64\n", JAILER_AUTO,
      VMM_AGENT_CHANNEL_AUTO, FALSE },
    { "[guest]\nkernel-messages = all\n", JAILER_AUTO, VMM_AGENT_CHANNEL_AUTO, TRUE },
    { "[guest]\nkernel-messages = warnings\n", JAILER_AUTO, VMM_AGENT_CHANNEL_AUTO, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(BootDefaults) defaults = { 0 };
      g_autoptr(GError) error = NULL;

      g_assert_true (load (f, cases[i].text, &defaults, &error));
      g_assert_no_error (error);
      g_assert_cmpint (defaults.jailer, ==, cases[i].jailer);
      g_assert_cmpint (defaults.qemu_agent_channel, ==, cases[i].channel);
      g_assert_cmpint (defaults.kernel_messages_all, ==, cases[i].kernel_messages_all);
    }
}

static void
test_bad_values (Fixture *f, gconstpointer data)
{
  static const struct {
    const char *text;
    const char *key;
    const char *says;
  } cases[] = {
    { "[qemu]\nagent-channel = vhost\n", "agent-channel", "auto, vsock or serial" },
    { "[qemu]\nagent-channel = VSOCK\n", "agent-channel", "auto, vsock or serial" },
    { "[qemu]\nagent-channel =\n", "agent-channel", "auto, vsock or serial" },
    { "[firecracker]\njailer = sometimes\n", "jailer", "auto, always or never" },
    { "[vm-defaults]\nvmm = bochs\n", "vmm", "bochs" },
    { "[vm-defaults]\nnat = perhaps\n", "nat", "nat" },
    { "[qemu]\nbinary =\n", "binary", "program" },
    { "[guest]\nkernel-messages = debug\n", "kernel-messages", "warnings or all" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(BootDefaults) defaults = { 0 };
      g_autoptr(GError) error = NULL;

      g_assert_false (load (f, cases[i].text, &defaults, &error));
      g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, f->path));
      g_assert_nonnull (strstr (error->message, cases[i].key));
      g_assert_nonnull (strstr (error->message, cases[i].says));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/boot-defaults/missing-file", Fixture, NULL, fixture_setup, test_missing_file,
              fixture_teardown);
  g_test_add ("/boot-defaults/choices", Fixture, NULL, fixture_setup, test_choices,
              fixture_teardown);
  g_test_add ("/boot-defaults/bad-values", Fixture, NULL, fixture_setup, test_bad_values,
              fixture_teardown);
  return g_test_run ();
}
