/* boot-defaults.c: reads the boot-related keys of the user's config file.
 * Like the size defaults, it is re-read on each use so edits apply at once. */
#define G_LOG_DOMAIN "bangerd-config"

#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include <glib/gi18n.h>

#include "banger-error.h"
#include "boot-defaults.h"
#include "user-config.h"
#include "vmm-driver.h"

#define DEFAULT_FIRECRACKER "firecracker"
#define DEFAULT_QEMU        "qemu-system-x86_64"

void
boot_defaults_clear (BootDefaults *defaults)
{
  g_clear_pointer (&defaults->image, g_free);
  g_clear_pointer (&defaults->kernel, g_free);
  g_clear_pointer (&defaults->resolvers, g_strfreev);
  g_clear_pointer (&defaults->firecracker, g_free);
  g_clear_pointer (&defaults->qemu, g_free);
  g_clear_pointer (&defaults->vmm, g_free);
  g_clear_pointer (&defaults->ssh_key, g_free);
}

gboolean
boot_defaults_check_file_path (const char  *what,
                               const char  *path,
                               GError     **error)
{
  g_autofree char *canonical = NULL;

  if (path[0] == '\0')
    return TRUE;
  canonical = g_canonicalize_filename (path, "/");
  if (!g_path_is_absolute (path) || g_strcmp0 (canonical, path) != 0 ||
      strlen (path) > 4000 || !g_utf8_validate (path, -1, NULL) || strchr (path, '\n') != NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("The %s “%s” must be an absolute path without “.”, “..” or doubled slashes"),
                   what, path);
      return FALSE;
    }
  return TRUE;
}

/* Guests cannot reach the host's loopback resolvers, so only the others
 * are passed on; none at all is fine (the VM then has no DNS yet). */
static char **
host_resolvers (void)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GPtrArray) out = g_ptr_array_new ();

  if (g_file_get_contents ("/etc/resolv.conf", &text, NULL, NULL))
    {
      lines = g_strsplit (text, "\n", -1);
      for (guint i = 0; lines[i] != NULL && out->len < 3; i++)
        {
          g_auto(GStrv) words = g_strsplit_set (g_strstrip (lines[i]), " \t", -1);
          guint32 address;

          if (g_strv_length (words) >= 2 && g_str_equal (words[0], "nameserver") &&
              ipv4_parse (words[1], &address, NULL) && (address >> 24) != 127)
            g_ptr_array_add (out, g_strdup (words[1]));
        }
    }
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

/* The user's own public key, so `ssh` into the VM works without setup.
 * Only a plausible one-line key is taken; the boot config checks it fully. */
static char *
user_ssh_key (void)
{
  const char *names[] = { "id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (g_get_home_dir (), ".ssh", names[i], NULL);
      g_autofree char *text = NULL;
      gsize length;

      if (!g_file_get_contents (path, &text, &length, NULL) || length > 8192)
        continue;
      g_strstrip (text);
      if (text[0] != '\0' && strchr (text, '\n') == NULL && g_str_is_ascii (text))
        return g_steal_pointer (&text);
    }
  return NULL;
}

static gboolean
read_path (GKeyFile    *keyfile,
           const char  *path,
           const char  *group,
           const char  *key,
           char       **out,
           GError     **error)
{
  g_autofree char *value = g_key_file_get_string (keyfile, group, key, NULL);
  GError *local = NULL;

  if (value == NULL)
    return TRUE;
  g_strstrip (value);
  if (!boot_defaults_check_file_path (key, value, &local))
    return config_key_error (error, local, path, group, key);
  g_free (*out);
  *out = g_steal_pointer (&value);
  return TRUE;
}

/* [GROUP] binary: a bare name is looked up in PATH; anything with a slash
 * must be absolute. */
static gboolean
read_binary (GKeyFile    *keyfile,
             const char  *path,
             const char  *group,
             char       **out,
             GError     **error)
{
  g_autofree char *binary = g_key_file_get_string (keyfile, group, "binary", NULL);
  GError *local = NULL;

  if (binary == NULL)
    return TRUE;
  g_strstrip (binary);
  if (strchr (binary, '/') != NULL && !boot_defaults_check_file_path ("binary", binary, &local))
    return config_key_error (error, local, path, group, "binary");
  if (binary[0] == '\0' || strchr (binary, '\n') != NULL)
    {
      g_set_error (&local, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT, _("must name a program"));
      return config_key_error (error, local, path, group, "binary");
    }
  g_free (*out);
  *out = g_steal_pointer (&binary);
  return TRUE;
}

const char *
boot_defaults_binary_for (const BootDefaults *defaults,
                          const char         *driver)
{
  return g_strcmp0 (driver, "qemu") == 0 ? defaults->qemu : defaults->firecracker;
}

/* @key's index in @choices (G_MAXUINT when the key is not set). */
static gboolean
read_choice (GKeyFile           *keyfile,
             const char         *path,
             const char         *group,
             const char         *key,
             const char * const *choices,
             const char         *expected,
             guint              *index,
             GError            **error)
{
  g_autofree char *value = g_key_file_get_string (keyfile, group, key, NULL);
  GError *local = NULL;

  *index = G_MAXUINT;
  if (value == NULL)
    return TRUE;
  g_strstrip (value);
  for (guint i = 0; choices[i] != NULL; i++)
    if (g_str_equal (value, choices[i]))
      {
        *index = i;
        return TRUE;
      }
  g_set_error_literal (&local, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT, expected);
  return config_key_error (error, local, path, group, key);
}

static gboolean
apply_keyfile (GKeyFile      *keyfile,
               const char    *path,
               BootDefaults  *out,
               GError       **error)
{
  g_autofree char *subnet = NULL;
  g_autofree char *vmm = NULL;
  g_auto(GStrv) resolvers = NULL;
  GError *local = NULL;

  if (!read_path (keyfile, path, "vm-defaults", "image", &out->image, error) ||
      !read_path (keyfile, path, "vm-defaults", "kernel", &out->kernel, error))
    return FALSE;

  if (g_key_file_has_key (keyfile, "vm-defaults", "nat", NULL))
    {
      out->nat = g_key_file_get_boolean (keyfile, "vm-defaults", "nat", &local);
      if (local != NULL)
        return config_key_error (error, local, path, "vm-defaults", "nat");
    }

  subnet = g_key_file_get_string (keyfile, "network", "subnet", NULL);
  if (subnet != NULL && !subnet_parse (g_strstrip (subnet), &out->subnet, &local))
    return config_key_error (error, local, path, "network", "subnet");

  resolvers = g_key_file_get_string_list (keyfile, "network", "resolvers", NULL, NULL);
  if (resolvers != NULL)
    {
      for (guint i = 0; resolvers[i] != NULL; i++)
        {
          guint32 address;

          if (!ipv4_parse (g_strstrip (resolvers[i]), &address, &local))
            return config_key_error (error, local, path, "network", "resolvers");
        }
      g_strfreev (out->resolvers);
      out->resolvers = g_steal_pointer (&resolvers);
    }

  if (!read_binary (keyfile, path, "firecracker", &out->firecracker, error) ||
      !read_binary (keyfile, path, "qemu", &out->qemu, error))
    return FALSE;

  vmm = g_key_file_get_string (keyfile, "vm-defaults", "vmm", NULL);
  if (vmm != NULL)
    {
      g_strstrip (vmm);
      if (!g_str_equal (vmm, "auto") && vmm_driver_lookup (vmm, &local) == NULL)
        return config_key_error (error, local, path, "vm-defaults", "vmm");
      g_free (out->vmm);
      out->vmm = g_steal_pointer (&vmm);
    }

  {
    static const char *const modes[] = { "auto", "always", "never", NULL };
    guint i;

    if (!read_choice (keyfile, path, "firecracker", "jailer", modes,
                      _("must be auto, always or never"), &i, error))
      return FALSE;
    if (i != G_MAXUINT)
      out->jailer = (JailerMode) i;
  }
  {
    /* In the order of VmmAgentChannel. */
    static const char *const channels[] = { "auto", "vsock", "serial", NULL };
    guint i;

    if (!read_choice (keyfile, path, "qemu", "agent-channel", channels,
                      _("must be auto, vsock or serial"), &i, error))
      return FALSE;
    if (i != G_MAXUINT)
      out->qemu_agent_channel = (VmmAgentChannel) i;
  }
  {
    static const char *const levels[] = { "warnings", "all", NULL };
    guint i;

    if (!read_choice (keyfile, path, "guest", "kernel-messages", levels,
                      _("must be warnings or all"), &i, error))
      return FALSE;
    if (i != G_MAXUINT)
      out->kernel_messages_all = i == 1;
  }
  return TRUE;
}

gboolean
boot_defaults_load (const char    *path,
                    BootDefaults  *out,
                    GError       **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) local = NULL;
  g_auto(BootDefaults) defaults = { 0 };

  defaults.image = g_strdup ("");
  defaults.kernel = g_strdup ("");
  defaults.firecracker = g_strdup (DEFAULT_FIRECRACKER);
  defaults.qemu = g_strdup (DEFAULT_QEMU);
  defaults.vmm = g_strdup ("auto");
  subnet_parse (VM_NETWORK_DEFAULT_SUBNET, &defaults.subnet, NULL);

  if (!g_key_file_load_from_file (keyfile, path, G_KEY_FILE_NONE, &local))
    {
      if (!g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       _("Cannot read config file %s: %s"), path, local->message);
          return FALSE;
        }
    }
  else if (!apply_keyfile (keyfile, path, &defaults, error))
    return FALSE;

  if (defaults.resolvers == NULL)
    defaults.resolvers = host_resolvers ();
  defaults.ssh_key = user_ssh_key ();
  *out = defaults;
  memset (&defaults, 0, sizeof defaults);
  return TRUE;
}
