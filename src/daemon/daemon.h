/* daemon.h: the daemon's shared state: the store, the exported objects and
 * the few paths every part needs. One instance per process. */
#pragma once

#include <gio/gio.h>

#include "banger-daemon-dbus.h"
#include "store.h"
#include "user-config.h"

G_BEGIN_DECLS

#define DAEMON_BUS_NAME     "dev.banger.Daemon1"
#define DAEMON_OBJECT_PATH  "/dev/banger/Daemon1"
#define DAEMON_VM_PATH      DAEMON_OBJECT_PATH "/vm"

typedef struct _VmObject VmObject;
typedef struct _ImageRegistry ImageRegistry;

typedef struct {
  GDBusConnection           *connection;
  GDBusObjectManagerServer  *object_manager;
  BangerManager1            *manager;
  Store                     *store;
  GHashTable                *vms;         /* name → VmObject */
  GHashTable                *creating;    /* name → address, while CreateVM works */
  ImageRegistry             *images;      /* image-registry.c */
  char                      *config_path;
  char                      *state_dir;
  HostResources              host;
  GMainLoop                 *loop;
} Daemon;

Daemon   *daemon_new        (Store       *store,
                             const char  *config_path,
                             const char  *state_dir,
                             GMainLoop   *loop);
void      daemon_free       (Daemon      *daemon);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Daemon, daemon_free)

gboolean  daemon_export     (Daemon           *daemon,
                             GDBusConnection  *connection,
                             GError          **error);
void      daemon_add_vm     (Daemon           *daemon,
                             VmRecord         *record);
VmObject *daemon_lookup_vm  (Daemon           *daemon,
                             const char       *name);
void      daemon_remove_vm  (Daemon           *daemon,
                             const char       *name);

/* manager.c */
void      manager_export    (Daemon           *daemon);

/* vm-object.c */
VmObject *vm_object_new     (Daemon           *daemon,
                             VmRecord         *record);
void      vm_object_free    (VmObject         *vm);
const char *vm_object_get_path (VmObject      *vm);

G_END_DECLS
