/* test-net-ops.c: banger-helper's network operations (net-ops.h) against
 * the real kernel, each test in a fresh network namespace of its own. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "banger-error.h"
#include "helper-config.h"
#include "net-ops.h"

#define BRIDGE     "banger0"
#define UID_A      4242u
#define UID_B      4343u
/* IEEE 802 local experimental ethertype: nothing else sends it. */
#define ETH_P_TEST 0x88b5

typedef struct {
  HelperConfig *config;
} Fixture;

/* A new network namespace for this test, and a sysfs of its own so
 * /sys/class/net shows that namespace's devices (sysfs shows the
 * namespace it was mounted in). Nothing here ever sees the host's
 * network: every test starts with this. */
static void
enter_fresh_netns (void)
{
  if (unshare (CLONE_NEWNET | CLONE_NEWNS) != 0)
    g_error ("unshare(CLONE_NEWNET | CLONE_NEWNS): %s", g_strerror (errno));
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
      mount ("sysfs", "/sys", "sysfs", 0, NULL) != 0)
    g_error ("cannot mount a private sysfs: %s", g_strerror (errno));
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  enter_fresh_netns ();
  f->config = g_new0 (HelperConfig, 1);
  f->config->bridge = g_strdup (BRIDGE);
  f->config->bridge_ip = 0xac1e0001;   /* 172.30.0.1 */
  f->config->prefix_len = 24;
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  /* The namespace and all in it go when the next test leaves it. */
  g_clear_pointer (&f->config, helper_config_free);
}

/* ------------------------------------------------------------ reading back
 * Independently of the code under test: sysfs, ip(8), nft(8). */

static char *
sysfs_read (const char *dev,
            const char *attr)
{
  g_autofree char *path = g_strdup_printf ("/sys/class/net/%s/%s", dev, attr);
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return g_strstrip (text);
}

static guint64
sysfs_number (const char *dev,
              const char *attr)
{
  g_autofree char *text = sysfs_read (dev, attr);

  g_assert_nonnull (text);
  return g_ascii_strtoull (text, NULL, 0);
}

static char *
sysfs_master (const char *dev)
{
  g_autofree char *path = g_strdup_printf ("/sys/class/net/%s/master", dev);
  g_autofree char *target = g_file_read_link (path, NULL);

  return target != NULL ? g_path_get_basename (target) : NULL;
}

static gboolean
link_exists (const char *dev)
{
  return if_nametoindex (dev) != 0;
}

/* Runs @argv; its stdout, or NULL if it failed. */
static char *
run (const char * const *argv)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                     &out, &err, &status, &error))
    g_error ("cannot run %s: %s", argv[0], error->message);
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_test_message ("%s failed: %s", argv[0], err);
      return NULL;
    }
  return g_steal_pointer (&out);
}

static void
run_ok (const char * const *argv)
{
  g_autofree char *out = run (argv);

  g_assert_nonnull (out);
}

/* `nft list table FAMILY NAME`, or NULL when there is no such table. */
static char *
nft_list (const char *family,
          const char *name)
{
  const char *argv[] = { "nft", "list", "table", family, name, NULL };

  return run (argv);
}

static char *
nft_ruleset (void)
{
  const char *argv[] = { "nft", "list", "ruleset", NULL };
  char *out = run (argv);

  g_assert_nonnull (out);
  return out;
}

static guint
count_substrings (const char *haystack,
                  const char *needle)
{
  guint n = 0;

  for (const char *p = haystack; (p = strstr (p, needle)) != NULL; p += strlen (needle))
    n++;
  return n;
}

static char *
expected_rule (const char *address,
               guint32     uid,
               const char *tap)
{
  return g_strdup_printf ("ip saddr %s oifname != \"" BRIDGE "\" masquerade "
                          "comment \"banger uid=%u tap=%s\"", address, uid, tap);
}

/* ------------------------------------------------------------ making things
 * the way others would, not through the code under test. */

/* A persistent tun/tap device with @owner (or none, when @owner is -1). */
static void
make_tun (const char *name,
          short       type,
          gint64      owner)
{
  struct ifreq ifr = { 0 };
  int fd = open ("/dev/net/tun", O_RDWR | O_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  g_strlcpy (ifr.ifr_name, name, sizeof ifr.ifr_name);
  ifr.ifr_flags = type | IFF_NO_PI;
  g_assert_no_errno (ioctl (fd, TUNSETIFF, &ifr));
  if (owner >= 0)
    g_assert_no_errno (ioctl (fd, TUNSETOWNER, (unsigned long) owner));
  g_assert_no_errno (ioctl (fd, TUNSETPERSIST, 1UL));
  close (fd);
}

static void
make_veth (const char *name,
           const char *peer)
{
  const char *argv[] = { "ip", "link", "add", name, "type", "veth", "peer", "name", peer, NULL };

  run_ok (argv);
}

/* g_file_set_contents would replace the file, which /proc does not allow. */
static void
write_ip_forward (const char *value)
{
  int fd = open ("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, value, strlen (value)), ==, (gssize) strlen (value));
  close (fd);
}

/* ------------------------------------------------------------ bridge */

static void
test_bridge_created_with_address_and_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const char *argv[] = { "ip", "-4", "-o", "address", "show", "dev", BRIDGE, NULL };
  g_autofree char *addresses = NULL;
  g_autofree char *bridge_dir = g_strdup ("/sys/class/net/" BRIDGE "/bridge");

  g_assert_false (link_exists (BRIDGE));
  g_assert_true (net_ensure_bridge (f->config, &error));
  g_assert_no_error (error);

  g_assert_true (g_file_test (bridge_dir, G_FILE_TEST_IS_DIR));
  g_assert_cmphex (sysfs_number (BRIDGE, "flags") & IFF_UP, ==, IFF_UP);
  addresses = run (argv);
  g_assert_nonnull (addresses);
  g_assert_nonnull (strstr (addresses, "inet 172.30.0.1/24 brd 172.30.0.255 "));
}

static void
test_bridge_second_call_is_noop (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const char *argv[] = { "ip", "-4", "-o", "address", "show", "dev", BRIDGE, NULL };
  g_autofree char *addresses = NULL;
  guint index;

  g_assert_true (net_ensure_bridge (f->config, &error));
  index = if_nametoindex (BRIDGE);
  g_assert_true (net_ensure_bridge (f->config, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (if_nametoindex (BRIDGE), ==, index);
  addresses = run (argv);
  g_assert_cmpuint (count_substrings (addresses, "inet "), ==, 1);
}

static void
test_bridge_keeps_other_addresses (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const char *add_bridge[] = { "ip", "link", "add", BRIDGE, "type", "bridge", NULL };
  const char *add_addr[] = { "ip", "address", "add", "10.9.9.1/24", "dev", BRIDGE, NULL };
  const char *show[] = { "ip", "-4", "-o", "address", "show", "dev", BRIDGE, NULL };
  g_autofree char *addresses = NULL;

  run_ok (add_bridge);
  run_ok (add_addr);
  g_assert_true (net_ensure_bridge (f->config, &error));
  g_assert_no_error (error);

  addresses = run (show);
  g_assert_nonnull (strstr (addresses, "inet 10.9.9.1/24 "));
  g_assert_nonnull (strstr (addresses, "inet 172.30.0.1/24 "));
}

static void
test_bridge_refuses_non_bridge_device (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const char *show[] = { "ip", "-4", "-o", "address", "show", "dev", BRIDGE, NULL };
  g_autofree char *addresses = NULL;

  make_veth (BRIDGE, "peer0");
  g_assert_false (net_ensure_bridge (f->config, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS);

  /* Left as it was: no address, not up. */
  addresses = run (show);
  g_assert_cmpstr (addresses, ==, "");
  g_assert_cmphex (sysfs_number (BRIDGE, "flags") & IFF_UP, ==, 0);
}

/* ------------------------------------------------------------ taps */

static void
assert_own_tap (const char *name,
                guint32     uid)
{
  g_autofree char *master = sysfs_master (name);

  g_assert_true (link_exists (name));
  g_assert_cmpuint (sysfs_number (name, "owner"), ==, uid);
  g_assert_cmphex (sysfs_number (name, "tun_flags") & (IFF_TAP | IFF_TUN | IFF_NO_PI | IFF_PERSIST),
                   ==, IFF_TAP | IFF_NO_PI | IFF_PERSIST);
  g_assert_cmpstr (master, ==, BRIDGE);
  g_assert_cmphex (sysfs_number (name, "flags") & IFF_UP, ==, IFF_UP);
}

static void
test_tap_created_owned_by_caller_on_bridge (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (net_create_tap (f->config, UID_A, "bg-a", &error));
  g_assert_no_error (error);

  assert_own_tap ("bg-a", UID_A);
  /* CreateTap makes the bridge as EnsureBridge does. */
  g_assert_cmphex (sysfs_number (BRIDGE, "flags") & IFF_UP, ==, IFF_UP);
}

static void
test_tap_create_again_is_noop (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  guint index;

  g_assert_true (net_create_tap (f->config, UID_A, "bg-a", &error));
  index = if_nametoindex ("bg-a");
  g_assert_true (net_create_tap (f->config, UID_A, "bg-a", &error));
  g_assert_no_error (error);

  g_assert_cmpuint (if_nametoindex ("bg-a"), ==, index);
  assert_own_tap ("bg-a", UID_A);
}

static void
test_tap_open_fd_attaches_to_bridge (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  struct ifreq ifr = { 0 };
  struct sockaddr_ll sll = { 0 };
  guint8 frame[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,   /* broadcast */
                       0x02, 0x00, 0x00, 0x00, 0x00, 0x01,   /* local MAC */
                       ETH_P_TEST >> 8, ETH_P_TEST & 0xff };
  const char payload[] = "banger test frame";
  gboolean seen = FALSE;
  int fd, packet;

  memcpy (frame + 14, payload, sizeof payload);
  g_assert_true (net_create_tap (f->config, UID_A, "bg-a", &error));
  fd = net_open_tap (UID_A, "bg-a", &error);
  g_assert_no_error (error);
  g_assert_cmpint (fd, >=, 0);

  /* The fd is the tap's, in the mode CreateTap made it. */
  g_assert_no_errno (ioctl (fd, TUNGETIFF, &ifr));
  g_assert_cmpstr (ifr.ifr_name, ==, "bg-a");
  g_assert_cmphex (ifr.ifr_flags & (IFF_TAP | IFF_TUN | IFF_NO_PI), ==, IFF_TAP | IFF_NO_PI);
  g_assert_cmpint (fcntl (fd, F_GETFD) & FD_CLOEXEC, ==, FD_CLOEXEC);

  /* A second open while the first is attached: Busy. */
  g_assert_cmpint (net_open_tap (UID_A, "bg-a", &error), ==, -1);
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_BUSY);
  g_clear_error (&error);

  /* What the VM writes to the fd comes out of the bridge. */
  packet = socket (AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, g_htons (ETH_P_TEST));
  g_assert_cmpint (packet, >=, 0);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = g_htons (ETH_P_TEST);
  sll.sll_ifindex = (int) if_nametoindex (BRIDGE);
  g_assert_no_errno (bind (packet, (struct sockaddr *) &sll, sizeof sll));

  /* A few tries: the port may take a moment to forward. */
  for (int attempt = 0; attempt < 10 && !seen; attempt++)
    {
      struct pollfd pfd = { packet, POLLIN, 0 };
      guint8 buf[128];
      ssize_t n;

      g_assert_cmpint (write (fd, frame, sizeof frame), ==, sizeof frame);
      if (poll (&pfd, 1, 500) <= 0)
        continue;
      n = recv (packet, buf, sizeof buf, 0);
      seen = n >= (ssize_t) (14 + sizeof payload) &&
             memcmp (buf + 14, payload, sizeof payload) == 0;
    }
  g_assert_true (seen);

  close (packet);
  close (fd);
  /* Closing the fd leaves the persistent tap. */
  assert_own_tap ("bg-a", UID_A);
}

static void
test_tap_refuses_foreign_uid (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (net_ensure_bridge (f->config, &error));
  make_tun ("bg-b", IFF_TAP, UID_B);

  g_assert_false (net_create_tap (f->config, UID_A, "bg-b", &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_OWNER);
  g_clear_error (&error);
  g_assert_cmpint (net_open_tap (UID_A, "bg-b", &error), ==, -1);
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_OWNER);
  g_clear_error (&error);
  g_assert_false (net_delete_tap (UID_A, "bg-b", &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_OWNER);
  g_clear_error (&error);
  g_assert_false (net_enable_nat (f->config, UID_A, "bg-b", 0xac1e0005, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_OWNER);
  g_clear_error (&error);
  g_assert_false (net_disable_nat (UID_A, "bg-b", &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_OWNER);
  g_clear_error (&error);

  /* Untouched: still B's, on no bridge, no rule. */
  g_assert_cmpuint (sysfs_number ("bg-b", "owner"), ==, UID_B);
  g_assert_null (sysfs_master ("bg-b"));
  g_assert_null (nft_list ("ip", "banger"));
}

static void
test_tap_refuses_devices_banger_did_not_make (Fixture *f, gconstpointer data)
{
  const char *names[] = { "bg-veth", "bg-tun", "bg-noowner" };
  g_autoptr(GPtrArray) released = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;

  make_veth ("bg-veth", "bg-veth-peer");
  make_tun ("bg-tun", IFF_TUN, UID_A);       /* a tun, even though A's */
  make_tun ("bg-noowner", IFF_TAP, -1);      /* a tap without owner */

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_test_message ("device %s", names[i]);
      g_assert_false (net_create_tap (f->config, UID_A, names[i], &error));
      g_assert_true (error->code == BANGER_ERROR_ALREADY_EXISTS ||
                     error->code == BANGER_ERROR_NOT_OWNER);
      g_clear_error (&error);
      g_assert_cmpint (net_open_tap (UID_A, names[i], &error), ==, -1);
      g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_OWNER);
      g_clear_error (&error);
      g_assert_false (net_delete_tap (UID_A, names[i], &error));
      g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_OWNER);
      g_clear_error (&error);
      g_assert_false (net_enable_nat (f->config, UID_A, names[i], 0xac1e0005, &error));
      g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_OWNER);
      g_clear_error (&error);
      g_assert_true (link_exists (names[i]));
      g_assert_null (sysfs_master (names[i]));
    }

  /* CreateTap's own error for a device that is not a tap. */
  g_assert_false (net_create_tap (f->config, UID_A, "bg-veth", &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS);
  g_clear_error (&error);

  g_assert_true (net_release_all (UID_A, released, &error));
  g_assert_cmpuint (released->len, ==, 0);
  g_assert_true (link_exists ("bg-tun"));
}

static void
test_tap_missing_is_not_found (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (net_open_tap (UID_A, "bg-none", &error), ==, -1);
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (net_delete_tap (UID_A, "bg-none", &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (net_enable_nat (f->config, UID_A, "bg-none", 0xac1e0005, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* Nothing to disable is no error. */
  g_assert_true (net_disable_nat (UID_A, "bg-none", &error));
  g_assert_no_error (error);
}

static void
test_tap_delete_leaves_nothing (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (net_create_tap (f->config, UID_A, "bg-a", &error));
  g_assert_true (net_enable_nat (f->config, UID_A, "bg-a", 0xac1e0005, &error));
  g_assert_no_error (error);
  g_assert_true (net_delete_tap (UID_A, "bg-a", &error));
  g_assert_no_error (error);

  g_assert_false (link_exists ("bg-a"));
  /* Its rule went, and with it banger's (then empty) table. */
  g_assert_null (nft_list ("ip", "banger"));
  /* The bridge is shared and stays. */
  g_assert_true (link_exists (BRIDGE));

  g_assert_false (net_delete_tap (UID_A, "bg-a", &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND);
}

/* ------------------------------------------------------------ NAT */

static void
test_nat_rule_appears_and_disappears (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *table = NULL;
  g_autofree char *rule = expected_rule ("172.30.0.5", UID_A, "bg-a");
  g_autofree char *forward = NULL;

  g_assert_true (net_create_tap (f->config, UID_A, "bg-a", &error));
  write_ip_forward ("0");
  g_assert_true (net_enable_nat (f->config, UID_A, "bg-a", 0xac1e0005, &error));
  g_assert_no_error (error);

  table = nft_list ("ip", "banger");
  g_assert_nonnull (table);
  g_test_message ("%s", table);
  g_assert_nonnull (strstr (table, "type nat hook postrouting priority srcnat; policy accept;"));
  g_assert_nonnull (strstr (table, rule));
  g_assert_cmpuint (count_substrings (table, "masquerade"), ==, 1);
  g_assert_true (g_file_get_contents ("/proc/sys/net/ipv4/ip_forward", &forward, NULL, NULL));
  g_assert_cmpstr (g_strstrip (forward), ==, "1");

  g_assert_true (net_disable_nat (UID_A, "bg-a", &error));
  g_assert_no_error (error);
  g_assert_null (nft_list ("ip", "banger"));
  /* Disabling NAT leaves the tap. */
  assert_own_tap ("bg-a", UID_A);
  g_assert_true (net_disable_nat (UID_A, "bg-a", &error));
  g_assert_no_error (error);
}

static void
test_nat_enable_again_is_noop (Fixture *f, gconstpointer data)
{
  const char *argv[] = { "nft", "-a", "list", "table", "ip", "banger", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  g_assert_true (net_create_tap (f->config, UID_A, "bg-a", &error));
  g_assert_true (net_enable_nat (f->config, UID_A, "bg-a", 0xac1e0005, &error));
  before = run (argv);
  g_assert_true (net_enable_nat (f->config, UID_A, "bg-a", 0xac1e0005, &error));
  g_assert_no_error (error);
  after = run (argv);

  /* Same rule, same handle. */
  g_assert_cmpstr (after, ==, before);
}

static void
test_nat_new_address_replaces_old (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *table = NULL;
  g_autofree char *rule = expected_rule ("172.30.0.6", UID_A, "bg-a");

  g_assert_true (net_create_tap (f->config, UID_A, "bg-a", &error));
  g_assert_true (net_enable_nat (f->config, UID_A, "bg-a", 0xac1e0005, &error));
  g_assert_true (net_enable_nat (f->config, UID_A, "bg-a", 0xac1e0006, &error));
  g_assert_no_error (error);

  table = nft_list ("ip", "banger");
  g_assert_nonnull (strstr (table, rule));
  g_assert_null (strstr (table, "172.30.0.5"));
  g_assert_cmpuint (count_substrings (table, "masquerade"), ==, 1);
}

static void
test_nat_refuses_address_of_another_tap (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *table = NULL;

  g_assert_true (net_create_tap (f->config, UID_A, "bg-a", &error));
  g_assert_true (net_create_tap (f->config, UID_B, "bg-b", &error));
  g_assert_true (net_enable_nat (f->config, UID_A, "bg-a", 0xac1e0005, &error));
  g_assert_false (net_enable_nat (f->config, UID_B, "bg-b", 0xac1e0005, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS);

  table = nft_list ("ip", "banger");
  g_assert_cmpuint (count_substrings (table, "masquerade"), ==, 1);
}

/* A rule of uid B left over for a tap name that A now owns: A may not
 * touch it, and deleting A's tap leaves it. */
static void
test_nat_refuses_rule_of_another_uid (Fixture *f, gconstpointer data)
{
  const char *del[] = { "ip", "link", "del", "bg-x", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *table = NULL;
  g_autofree char *rule = expected_rule ("172.30.0.5", UID_B, "bg-x");

  g_assert_true (net_create_tap (f->config, UID_B, "bg-x", &error));
  g_assert_true (net_enable_nat (f->config, UID_B, "bg-x", 0xac1e0005, &error));
  run_ok (del);
  g_assert_true (net_create_tap (f->config, UID_A, "bg-x", &error));
  g_assert_no_error (error);

  g_assert_false (net_disable_nat (UID_A, "bg-x", &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_OWNER);
  g_clear_error (&error);
  g_assert_false (net_enable_nat (f->config, UID_A, "bg-x", 0xac1e0007, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_OWNER);
  g_clear_error (&error);
  g_assert_true (net_delete_tap (UID_A, "bg-x", &error));
  g_assert_no_error (error);

  table = nft_list ("ip", "banger");
  g_assert_nonnull (table);
  g_assert_nonnull (strstr (table, rule));
}

/* Rules in banger's table that banger did not write, or whose comment is
 * almost banger's, are never taken for a uid's. */
static void
test_nat_ignores_rules_it_did_not_write (Fixture *f, gconstpointer data)
{
  const char *script =
    "add table ip banger\n"
    "add chain ip banger postrouting { type nat hook postrouting priority srcnat; }\n"
    "add rule ip banger postrouting ip saddr 172.30.0.9 masquerade comment \"banger uid=04242 tap=bg-a\"\n"
    "add rule ip banger postrouting ip saddr 172.30.0.10 masquerade comment \"banger uid=4242 tap=bg-a \"\n"
    "add rule ip banger postrouting ip saddr 172.30.0.11 masquerade comment \"banger uid=4242 tap=bg-\"\n"
    "add rule ip banger postrouting ip saddr 172.30.0.12 masquerade comment \"banger uid=4242 tap=bg-A\"\n"
    "add rule ip banger postrouting ip saddr 172.30.0.13 masquerade comment \"banger uid=4242\"\n"
    "add rule ip banger postrouting ip saddr 172.30.0.14 masquerade comment \"xbanger uid=4242 tap=bg-a\"\n"
    "add rule ip banger postrouting ip saddr 172.30.0.15 masquerade comment \"banger uid=-4242 tap=bg-a\"\n"
    "add rule ip banger postrouting ip saddr 172.30.0.16 masquerade comment \"banger uid=4294971538 tap=bg-a\"\n"
    "add rule ip banger postrouting ip saddr 172.30.0.17 masquerade\n";
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autoptr(GPtrArray) released = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  /* nft takes a script as one argument: no file to leave behind. */
  const char *argv[] = { "nft", script, NULL };

  run_ok (argv);
  before = nft_list ("ip", "banger");

  g_assert_true (net_create_tap (f->config, UID_A, "bg-a", &error));
  g_assert_true (net_disable_nat (UID_A, "bg-a", &error));
  g_assert_true (net_release_all (UID_A, released, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (released->len, ==, 1);
  g_assert_cmpstr (released->pdata[0], ==, "tap:bg-a");
  after = nft_list ("ip", "banger");
  g_assert_cmpstr (after, ==, before);
}

/* Everything banger does leaves other tables byte for byte as they were,
 * and leaves no table of its own once its last rule is gone. */
static void
test_nat_leaves_other_tables_untouched (Fixture *f, gconstpointer data)
{
  const char *script =
    "add table inet other\n"
    "add chain inet other forward { type filter hook forward priority 0; policy accept; }\n"
    "add rule inet other forward ip saddr 172.30.0.5 counter accept comment \"banger uid=4242 tap=bg-a\"\n"
    "add table ip nat\n"
    "add chain ip nat postrouting { type nat hook postrouting priority srcnat; }\n"
    "add rule ip nat postrouting ip saddr 172.30.0.0/24 masquerade comment \"banger uid=4242 tap=bg-a\"\n";
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autoptr(GPtrArray) released = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  /* nft takes a script as one argument: no file to leave behind. */
  const char *argv[] = { "nft", script, NULL };

  run_ok (argv);
  before = nft_ruleset ();

  g_assert_true (net_create_tap (f->config, UID_A, "bg-a", &error));
  g_assert_true (net_create_tap (f->config, UID_A, "bg-c", &error));
  g_assert_true (net_enable_nat (f->config, UID_A, "bg-a", 0xac1e0005, &error));
  g_assert_true (net_enable_nat (f->config, UID_A, "bg-a", 0xac1e0006, &error));
  g_assert_true (net_enable_nat (f->config, UID_A, "bg-c", 0xac1e0007, &error));
  g_assert_true (net_disable_nat (UID_A, "bg-a", &error));
  g_assert_true (net_delete_tap (UID_A, "bg-a", &error));
  g_assert_true (net_release_all (UID_A, released, &error));
  g_assert_no_error (error);

  after = nft_ruleset ();
  g_assert_cmpstr (after, ==, before);
}

/* ------------------------------------------------------------ ReleaseAll */

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static void
test_release_all_removes_exactly_that_uid (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) released = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *table = NULL;
  g_autofree char *rule_b = expected_rule ("172.30.0.8", UID_B, "bg-b1");

  g_assert_true (net_create_tap (f->config, UID_A, "bg-a1", &error));
  g_assert_true (net_create_tap (f->config, UID_A, "bg-a2", &error));
  g_assert_true (net_create_tap (f->config, UID_B, "bg-b1", &error));
  g_assert_true (net_enable_nat (f->config, UID_A, "bg-a1", 0xac1e0005, &error));
  g_assert_true (net_enable_nat (f->config, UID_B, "bg-b1", 0xac1e0008, &error));
  g_assert_no_error (error);
  /* A's own tap that banger did not make (no "bg-" prefix). */
  make_tun ("vm-a", IFF_TAP, UID_A);

  g_assert_true (net_release_all (UID_A, released, &error));
  g_assert_no_error (error);

  g_ptr_array_sort (released, compare_strings);
  g_assert_cmpuint (released->len, ==, 3);
  g_assert_cmpstr (released->pdata[0], ==, "nat:bg-a1");
  g_assert_cmpstr (released->pdata[1], ==, "tap:bg-a1");
  g_assert_cmpstr (released->pdata[2], ==, "tap:bg-a2");

  g_assert_false (link_exists ("bg-a1"));
  g_assert_false (link_exists ("bg-a2"));
  assert_own_tap ("bg-b1", UID_B);
  g_assert_true (link_exists ("vm-a"));
  table = nft_list ("ip", "banger");
  g_assert_nonnull (table);
  g_assert_nonnull (strstr (table, rule_b));
  g_assert_cmpuint (count_substrings (table, "masquerade"), ==, 1);

  /* Nothing left of A: a second run releases nothing. */
  g_ptr_array_set_size (released, 0);
  g_assert_true (net_release_all (UID_A, released, &error));
  g_assert_cmpuint (released->len, ==, 0);
}

static gboolean
can_run (const char *program)
{
  g_autofree char *path = g_find_program_in_path (program);

  return path != NULL;
}

/* The whole program is skipped, in TAP (meson reads the test as TAP). */
static int
skip_all (const char *reason)
{
  g_print ("1..0 # SKIP %s\n", reason);
  return 0;
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  /* Never the host's network: without a namespace of our own, no test. */
  if (geteuid () != 0)
    return skip_all ("needs root (network namespaces, tap devices)");
  if (unshare (CLONE_NEWNET | CLONE_NEWNS) != 0)
    return skip_all ("cannot make a network namespace");
  if (!can_run ("ip") || !can_run ("nft"))
    return skip_all ("needs ip (iproute2) and nft (nftables); tools/test installs them");

#define ADD(path, fn) \
  g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)

  ADD ("/helper/net/bridge/created-with-address-and-up", test_bridge_created_with_address_and_up);
  ADD ("/helper/net/bridge/second-call-is-noop", test_bridge_second_call_is_noop);
  ADD ("/helper/net/bridge/keeps-other-addresses", test_bridge_keeps_other_addresses);
  ADD ("/helper/net/bridge/refuses-non-bridge-device", test_bridge_refuses_non_bridge_device);
  ADD ("/helper/net/tap/created-owned-by-caller-on-bridge", test_tap_created_owned_by_caller_on_bridge);
  ADD ("/helper/net/tap/create-again-is-noop", test_tap_create_again_is_noop);
  ADD ("/helper/net/tap/open-fd-attaches-to-bridge", test_tap_open_fd_attaches_to_bridge);
  ADD ("/helper/net/tap/refuses-foreign-uid", test_tap_refuses_foreign_uid);
  ADD ("/helper/net/tap/refuses-devices-banger-did-not-make", test_tap_refuses_devices_banger_did_not_make);
  ADD ("/helper/net/tap/missing-is-not-found", test_tap_missing_is_not_found);
  ADD ("/helper/net/tap/delete-leaves-nothing", test_tap_delete_leaves_nothing);
  ADD ("/helper/net/nat/rule-appears-and-disappears", test_nat_rule_appears_and_disappears);
  ADD ("/helper/net/nat/enable-again-is-noop", test_nat_enable_again_is_noop);
  ADD ("/helper/net/nat/new-address-replaces-old", test_nat_new_address_replaces_old);
  ADD ("/helper/net/nat/refuses-address-of-another-tap", test_nat_refuses_address_of_another_tap);
  ADD ("/helper/net/nat/refuses-rule-of-another-uid", test_nat_refuses_rule_of_another_uid);
  ADD ("/helper/net/nat/ignores-rules-it-did-not-write", test_nat_ignores_rules_it_did_not_write);
  ADD ("/helper/net/nat/leaves-other-tables-untouched", test_nat_leaves_other_tables_untouched);
  ADD ("/helper/net/release-all/removes-exactly-that-uid", test_release_all_removes_exactly_that_uid);
#undef ADD

  return g_test_run ();
}
