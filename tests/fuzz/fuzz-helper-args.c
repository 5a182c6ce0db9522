/* fuzz-helper-args.c: libFuzzer target over the validators that see
 * banger-helper's (and bangerd's) untrusted D-Bus arguments first. The
 * first input byte picks the entry point, the rest is its argument. */
#include "config.h"

#include <signal.h>
#include <stdint.h>

#include "banger-names.h"
#include "banger-size.h"
#include "launch-spec.h"
#include "net-names.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = NULL;
  guint32 ip = 0;
  guint64 bytes = 0;

  if (size < 1)
    return 0;
  /* D-Bus strings are NUL-free UTF-8 at most; the validators get C strings. */
  text = g_strndup ((const char *) data + 1, size - 1);

  switch (data[0] % 9)
    {
    case 0:
      if (net_validate_ifname (text, NET_TAP_PREFIX, NULL))
        g_assert (g_str_has_prefix (text, NET_TAP_PREFIX) && strlen (text) <= 15 &&
                  strpbrk (text, "/: \t\n.") == NULL);
      break;
    case 1:
      (void) net_validate_ifname (text, NULL, NULL);
      break;
    case 2:
      if (net_validate_vm_address (text, 0xac1e0001u, 24, &ip, NULL))
        g_assert ((ip >> 8) == 0xac1e00u && ip != 0xac1e0001u &&
                  (ip & 0xff) != 0 && (ip & 0xff) != 0xff);
      break;
    case 3:
      if (banger_vm_name_validate (text, NULL))
        g_assert (strlen (text) >= 1 && strlen (text) <= 63 && text[0] != '-' &&
                  strspn (text, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen (text));
      break;
    case 4:
      (void) banger_size_parse (text, &bytes, NULL);
      break;
    case 5:
      if (launch_path_check_allowed (text, "/home/u", NULL))
        g_assert ((g_str_has_prefix (text, "/home/u/.local/state/banger/") ||
                   g_str_has_prefix (text, "/home/u/.local/share/banger/")) &&
                  strstr (text, "/../") == NULL && strstr (text, "//") == NULL &&
                  strstr (text, "/./") == NULL && !g_str_has_suffix (text, "/.."));
      break;
    case 6:
      {
        int signo = 0;
        if (launch_signal_parse (text, &signo, NULL))
          g_assert (signo == SIGTERM || signo == SIGKILL || signo == SIGINT ||
                    signo == SIGHUP || signo == SIGQUIT || signo == SIGUSR1 ||
                    signo == SIGUSR2 || signo == SIGABRT);
      }
      break;
    case 7:
    case 8:
      {
        /* Launch's spec as it arrives off the wire: any bytes as a{sv}. */
        g_autoptr(GBytes) bytes_in = g_bytes_new (data + 1, size - 1);
        g_autoptr(GVariant) spec = g_variant_ref_sink (
          g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, bytes_in, FALSE));
        g_autoptr(LaunchSpec) parsed = launch_spec_parse (spec, "firecracker", NULL);
        if (parsed != NULL)
          g_assert (parsed->kernel != NULL && launch_path_check_canonical (parsed->kernel, NULL));
      }
      break;
    }
  return 0;
}
