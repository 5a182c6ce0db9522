/* fuzz-helper-args.c: libFuzzer target over the validators that see
 * banger-helper's (and bangerd's) untrusted D-Bus arguments first. The
 * first input byte picks the entry point, the rest is its argument. */
#include "config.h"

#include <stdint.h>

#include "banger-names.h"
#include "banger-size.h"
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

  switch (data[0] % 5)
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
    }
  return 0;
}
