/* daemon-connection.h: reaching bangerd on the session bus, starting it
 * by D-Bus activation only when asked to, and turning errors into advice. */
#pragma once

#include <gio/gio.h>

#include "banger-daemon-dbus.h"
#include "output.h"

G_BEGIN_DECLS

#define BANGER_DAEMON_BUS_NAME "dev.banger.Daemon1"
#define BANGER_DAEMON_PATH     "/dev/banger/Daemon1"
#define BANGER_VM_PATH_BASE    "/dev/banger/Daemon1/vm"

/* One running bangerd. Everything is bound to its unique name, so once
 * connected no call can start a second instance behind our back. */
typedef struct {
  GDBusConnection    *bus;
  char               *owner;     /* unique bus name of bangerd */
  BangerManager1     *manager;
  GDBusObjectManager *objects;
} BangerDaemon;

void           banger_daemon_free             (BangerDaemon *daemon);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerDaemon, banger_daemon_free)

GDBusConnection *banger_session_bus           (GError      **error);

/* The unique name owning dev.banger.Daemon1, or NULL (and no error) when
 * bangerd is not running. Never starts it. */
char          *banger_daemon_get_owner        (GDBusConnection *bus,
                                               GError      **error);

/* Starts bangerd by D-Bus activation if needed, then connects. */
BangerDaemon  *banger_daemon_connect          (GError      **error);
/* Connects to the instance with the unique name @owner. */
BangerDaemon  *banger_daemon_connect_to_owner (GDBusConnection *bus,
                                               const char   *owner,
                                               GError      **error);
/* Connects only when bangerd already runs: NULL with no error if not. */
BangerDaemon  *banger_daemon_connect_if_running (GDBusConnection *bus,
                                                 GError      **error);

/* All VMs, sorted by name. */
GPtrArray     *banger_daemon_list_vms         (BangerDaemon *daemon);
/* NotFound, with a hint to 'banger vm list', when there is no such VM. */
BangerVM1     *banger_daemon_find_vm          (BangerDaemon *daemon,
                                               const char   *name,
                                               GError      **error);
/* A fresh proxy for @object_path with its properties read now. */
BangerVM1     *banger_daemon_load_vm          (BangerDaemon *daemon,
                                               const char   *object_path,
                                               GError      **error);

BangerVmInfo  *banger_vm_info_from_proxy      (BangerVM1    *vm);

/* Rewrites @error in place into one sentence for people: strips the
 * remote error name and explains bus-level failures. */
void           banger_error_explain           (GError       *error);
/* Appends "; @hint" unless the message already names a banger command. */
void           banger_error_add_hint          (GError       *error,
                                               const char   *hint);

G_END_DECLS
