/* network.c: brings up lo and the VM's NIC from vm.conf. The kernel's ip=
 * is not built into the guest kernels banger boots, so init does it with
 * the classic ioctls: address, netmask, up, default route. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "init.h"

#define NIC_TIMEOUT_SECONDS 10

static void
set_sockaddr (struct sockaddr *sa, uint32_t host_order)
{
  struct sockaddr_in *in = (struct sockaddr_in *) sa;

  memset (in, 0, sizeof *in);
  in->sin_family = AF_INET;
  in->sin_addr.s_addr = htonl (host_order);
}

static void
link_up (int sock, const char *name)
{
  struct ifreq ifr;

  memset (&ifr, 0, sizeof ifr);
  str_copy (ifr.ifr_name, sizeof ifr.ifr_name, name);
  if (ioctl (sock, SIOCGIFFLAGS, &ifr) < 0)
    die ("cannot read the flags of %s: %s", name, strerror (errno));
  ifr.ifr_flags |= IFF_UP;
  if (ioctl (sock, SIOCSIFFLAGS, &ifr) < 0)
    die ("cannot bring %s up: %s", name, strerror (errno));
}

/* The interface whose permanent address is @mac; false when none (yet). */
static bool
find_nic (const char *mac, char *name, size_t name_size)
{
  DIR *dir = opendir ("/sys/class/net");
  struct dirent *entry;
  bool found = false;

  if (dir == NULL)
    die ("cannot open /sys/class/net: %s", strerror (errno));
  while (!found && (entry = readdir (dir)) != NULL)
    {
      char path[300], text[32];
      FILE *f;

      if (entry->d_name[0] == '.' || strlen (entry->d_name) >= IFNAMSIZ)
        continue;
      snprintf (path, sizeof path, "/sys/class/net/%s/address", entry->d_name);
      f = fopen (path, "re");
      if (f == NULL)
        continue;
      if (fgets (text, sizeof text, f) != NULL && strncmp (text, mac, 17) == 0
          && (text[17] == '\n' || text[17] == '\0'))
        {
          str_copy (name, name_size, entry->d_name);
          found = true;
        }
      fclose (f);
    }
  closedir (dir);
  return found;
}

void
network_setup (const VmConf *conf)
{
  int sock = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  char name[IFNAMSIZ];
  struct ifreq ifr;
  struct rtentry route;
  struct timespec start, now;
  uint32_t address, gateway, mask;

  if (sock < 0)
    die ("cannot open a socket for network setup: %s", strerror (errno));
  link_up (sock, "lo");

  clock_gettime (CLOCK_MONOTONIC, &start);
  while (!find_nic (conf->mac, name, sizeof name))
    {
      clock_gettime (CLOCK_MONOTONIC, &now);
      if (now.tv_sec - start.tv_sec >= NIC_TIMEOUT_SECONDS)
        die ("no network interface has MAC %s after %d s", conf->mac, NIC_TIMEOUT_SECONDS);
      usleep (20 * 1000);
    }

  if (!ipv4_parse (conf->ipv4, &address) || !ipv4_parse (conf->gateway, &gateway))
    die ("vm.conf addresses changed under us");
  mask = 0xffffffffu << (32 - conf->prefix);

  memset (&ifr, 0, sizeof ifr);
  str_copy (ifr.ifr_name, sizeof ifr.ifr_name, name);
  set_sockaddr (&ifr.ifr_addr, address);
  if (ioctl (sock, SIOCSIFADDR, &ifr) < 0)
    die ("cannot set address %s on %s: %s", conf->ipv4, name, strerror (errno));
  set_sockaddr (&ifr.ifr_netmask, mask);
  if (ioctl (sock, SIOCSIFNETMASK, &ifr) < 0)
    die ("cannot set prefix /%u on %s: %s", conf->prefix, name, strerror (errno));
  link_up (sock, name);

  memset (&route, 0, sizeof route);
  set_sockaddr (&route.rt_dst, 0);
  set_sockaddr (&route.rt_genmask, 0);
  set_sockaddr (&route.rt_gateway, gateway);
  route.rt_flags = RTF_UP | RTF_GATEWAY;
  route.rt_dev = name;
  if (ioctl (sock, SIOCADDRT, &route) < 0 && errno != EEXIST)
    die ("cannot add the default route via %s: %s", conf->gateway, strerror (errno));
  close (sock);
  say ("%s: %s/%u via %s", name, conf->ipv4, conf->prefix, conf->gateway);
}
