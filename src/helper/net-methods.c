/* net-methods.c: the network methods of dev.banger.Helper1 (EnsureBridge,
 * CreateTap, OpenTap, DeleteTap, EnableNat, DisableNat): validate, then
 * one operation of net-ops.h, then reply. */
#define G_LOG_DOMAIN "banger-helper-net"

#include "config.h"

#include <arpa/inet.h>

#include <gio/gunixfdlist.h>

#include "banger-error.h"

#include "helper-config.h"
#include "helper-methods.h"
#include "net-names.h"
#include "net-ops.h"

/* Every handler below runs on a worker thread after authz.c granted
 * dev.banger.helper.network, inside the call's op. */

/* The caller's uid (from the bus) and @name checked to be a banger tap
 * name: what every tap method validates first. */
static gboolean
validate_tap_call (GDBusMethodInvocation  *invocation,
                   const char             *name,
                   guint32                *out_uid,
                   GError                **error)
{
  return helper_caller_get_uid (invocation, out_uid, error) &&
         net_validate_ifname (name, NET_TAP_PREFIX, error);
}

gboolean
helper_handle_ensure_bridge (BangerHelper1         *skeleton,
                             GDBusMethodInvocation *invocation,
                             gpointer               user_data)
{
  const HelperConfig *config = helper_config_get ();
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;
  struct in_addr in = { g_htonl (config->bridge_ip) };
  char ip[INET_ADDRSTRLEN];

  /* Validate: no arguments; name and address come from the configuration,
   * checked when the helper started. */
  if (!net_ensure_bridge (config, &error))
    return helper_reply_error (invocation, error);

  inet_ntop (AF_INET, &in, ip, sizeof ip);
  address = g_strdup_printf ("%s/%u", ip, config->prefix_len);
  banger_helper1_complete_ensure_bridge (skeleton, invocation, config->bridge, address);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

gboolean
helper_handle_create_tap (BangerHelper1         *skeleton,
                          GDBusMethodInvocation *invocation,
                          const char            *name,
                          gpointer               user_data)
{
  g_autoptr(GError) error = NULL;
  guint32 uid;

  if (!validate_tap_call (invocation, name, &uid, &error))
    return helper_reply_error (invocation, error);
  if (!net_create_tap (helper_config_get (), uid, name, &error))
    return helper_reply_error (invocation, error);

  banger_helper1_complete_create_tap (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

gboolean
helper_handle_open_tap (BangerHelper1         *skeleton,
                        GDBusMethodInvocation *invocation,
                        const char            *name,
                        gpointer               user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GUnixFDList) fd_list = NULL;
  guint32 uid;
  int fd;

  if (!validate_tap_call (invocation, name, &uid, &error))
    return helper_reply_error (invocation, error);
  fd = net_open_tap (uid, name, &error);
  if (fd < 0)
    return helper_reply_error (invocation, error);

  /* The list takes the fd; the reply's handle 0 is its index. (The XML
   * has no C.UnixFD annotation, so the generated complete function
   * cannot carry an fd list.) */
  fd_list = g_unix_fd_list_new_from_array (&fd, 1);
  g_dbus_method_invocation_return_value_with_unix_fd_list (invocation,
                                                           g_variant_new ("(h)", 0),
                                                           fd_list);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

gboolean
helper_handle_delete_tap (BangerHelper1         *skeleton,
                          GDBusMethodInvocation *invocation,
                          const char            *name,
                          gpointer               user_data)
{
  g_autoptr(GError) error = NULL;
  guint32 uid;

  if (!validate_tap_call (invocation, name, &uid, &error))
    return helper_reply_error (invocation, error);
  if (!net_delete_tap (uid, name, &error))
    return helper_reply_error (invocation, error);

  banger_helper1_complete_delete_tap (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

gboolean
helper_handle_enable_nat (BangerHelper1         *skeleton,
                          GDBusMethodInvocation *invocation,
                          const char            *tap,
                          const char            *address,
                          gpointer               user_data)
{
  const HelperConfig *config = helper_config_get ();
  g_autoptr(GError) error = NULL;
  guint32 uid, vm_ip;

  if (!validate_tap_call (invocation, tap, &uid, &error) ||
      !net_validate_vm_address (address, config->bridge_ip, config->prefix_len,
                                &vm_ip, &error))
    return helper_reply_error (invocation, error);
  if (!net_enable_nat (config, uid, tap, vm_ip, &error))
    return helper_reply_error (invocation, error);

  banger_helper1_complete_enable_nat (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

gboolean
helper_handle_disable_nat (BangerHelper1         *skeleton,
                           GDBusMethodInvocation *invocation,
                           const char            *tap,
                           gpointer               user_data)
{
  g_autoptr(GError) error = NULL;
  guint32 uid;

  if (!validate_tap_call (invocation, tap, &uid, &error))
    return helper_reply_error (invocation, error);
  if (!net_disable_nat (uid, tap, &error))
    return helper_reply_error (invocation, error);

  banger_helper1_complete_disable_nat (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}
