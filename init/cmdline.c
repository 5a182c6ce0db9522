/* cmdline.c: the banger.* words of the kernel command line
 * (docs/guest-boot.md). Everything else belongs to the kernel or the
 * image's init and is ignored here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init.h"

static bool
fail (char *err, size_t err_size, const char *what, const char *word)
{
  snprintf (err, err_size, "%s: \"%.64s\"", what, word);
  return false;
}

static bool
port_valid (const char *text)
{
  unsigned long value = 0;

  if (*text == '\0' || strlen (text) > 5)
    return false;
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p < '0' || *p > '9')
        return false;
      value = value * 10 + (unsigned long) (*p - '0');
    }
  return text[0] != '0' && value >= 1 && value <= 65535;
}

/* A virtio-serial port name as qemu passes it: dots, dashes, letters. */
static bool
port_name_valid (const char *text)
{
  size_t len = strlen (text);

  if (len == 0 || len > 63)
    return false;
  for (const char *p = text; *p != '\0'; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
          || *p == '.' || *p == '-' || *p == '_'))
      return false;
  return true;
}

static bool
init_path_valid (const char *text)
{
  size_t len = strlen (text);

  if (len < 2 || len > 255 || text[0] != '/')
    return false;
  for (const char *p = text; *p != '\0'; p++)
    if (*p <= ' ' || *p > '~')
      return false;
  return true;
}

bool
cmdline_parse (const char *text, Cmdline *out, char *err, size_t err_size)
{
  char word[512];
  const char *p = text;

  memset (out, 0, sizeof *out);
  out->root = ROOT_OVERLAY;
  out->agent = AGENT_NONE;
  strcpy (out->init, "/sbin/init");

  while (*p != '\0')
    {
      size_t len;

      while (*p == ' ' || *p == '\n' || *p == '\t')
        p++;
      if (*p == '\0')
        break;
      len = strcspn (p, " \n\t");
      if (len >= sizeof word)
        {
          /* Too long to be one of ours; skip it unless it claims to be. */
          if (strncmp (p, "banger.", 7) == 0)
            return fail (err, err_size, "kernel command line word too long", "banger.");
          p += len;
          continue;
        }
      memcpy (word, p, len);
      word[len] = '\0';
      p += len;

      if (strncmp (word, "banger.root=", 12) == 0)
        {
          const char *value = word + 12;

          if (strcmp (value, "overlay") == 0)
            out->root = ROOT_OVERLAY;
          else if (strcmp (value, "direct") == 0)
            out->root = ROOT_DIRECT;
          else
            return fail (err, err_size, "banger.root must be overlay or direct", word);
        }
      else if (strncmp (word, "banger.agent=", 13) == 0)
        {
          const char *value = word + 13;

          if (strncmp (value, "vsock:", 6) == 0 && port_valid (value + 6))
            {
              out->agent = AGENT_VSOCK;
              str_copy (out->agent_arg, sizeof out->agent_arg, value + 6);
            }
          else if (strncmp (value, "vport:", 6) == 0 && port_name_valid (value + 6))
            {
              out->agent = AGENT_VPORT;
              str_copy (out->agent_arg, sizeof out->agent_arg, value + 6);
            }
          else
            return fail (err, err_size, "banger.agent must be vsock:PORT or vport:NAME", word);
        }
      else if (strncmp (word, "banger.init=", 12) == 0)
        {
          if (!init_path_valid (word + 12))
            return fail (err, err_size, "banger.init must be an absolute path", word);
          str_copy (out->init, sizeof out->init, word + 12);
        }
    }
  if (out->agent == AGENT_NONE)
    return fail (err, err_size, "the kernel command line lacks banger.agent", "banger.agent=");
  return true;
}
