/* store-migrations.c: the schema, as an append-only list of steps. A step
 * is never edited once released; PRAGMA user_version says how far a file is. */
#define G_LOG_DOMAIN "bangerd-store"

#include "config.h"

#include "store.h"
#include "store-private.h"

static const char *const migrations[] = {
  /* 1: kernels, images and VMs. Images and kernels are content-addressed
   * files; a VM may not outlive the image or kernel it boots. */
  "CREATE TABLE kernels ("
  "  id         INTEGER PRIMARY KEY,"
  "  name       TEXT NOT NULL UNIQUE,"
  "  sha256     TEXT NOT NULL CHECK (length (sha256) = 64),"
  "  path       TEXT NOT NULL,"
  "  created_at INTEGER NOT NULL"
  ");"
  "CREATE TABLE images ("
  "  id         INTEGER PRIMARY KEY,"
  "  name       TEXT NOT NULL UNIQUE,"
  "  sha256     TEXT NOT NULL CHECK (length (sha256) = 64),"
  "  path       TEXT NOT NULL,"
  "  kernel_id  INTEGER REFERENCES kernels (id) ON DELETE RESTRICT,"
  "  created_at INTEGER NOT NULL"
  ");"
  "CREATE TABLE vms ("
  "  id         INTEGER PRIMARY KEY,"
  "  name       TEXT NOT NULL UNIQUE CHECK (length (name) BETWEEN 1 AND 63),"
  "  state      TEXT NOT NULL DEFAULT 'stopped'"
  "             CHECK (state IN ('stopped', 'starting', 'running', 'stopping', 'failed')),"
  "  vcpus      INTEGER NOT NULL CHECK (vcpus > 0),"
  "  memory_mib INTEGER NOT NULL CHECK (memory_mib > 0),"
  "  disk_bytes INTEGER NOT NULL CHECK (disk_bytes > 0),"
  "  image_id   INTEGER REFERENCES images (id) ON DELETE RESTRICT,"
  "  kernel_id  INTEGER REFERENCES kernels (id) ON DELETE RESTRICT,"
  "  created_at INTEGER NOT NULL"
  ");",

  /* 2: remember where each VM setting came from, so `vm show` can explain
   * a value. Rows from before this step honestly say 'unknown'. */
  "ALTER TABLE vms ADD COLUMN vcpus_source TEXT NOT NULL DEFAULT 'unknown'"
  "  CHECK (vcpus_source IN ('unknown', 'user', 'config', 'auto', 'builtin'));"
  "ALTER TABLE vms ADD COLUMN memory_source TEXT NOT NULL DEFAULT 'unknown'"
  "  CHECK (memory_source IN ('unknown', 'user', 'config', 'auto', 'builtin'));"
  "ALTER TABLE vms ADD COLUMN disk_source TEXT NOT NULL DEFAULT 'unknown'"
  "  CHECK (disk_source IN ('unknown', 'user', 'config', 'auto', 'builtin'));",

  /* 3: what a VM needs to boot. The address is allocated once, at
   * creation; the indexes make two VMs sharing an address, MAC or tap
   * impossible, whatever the code above does. Older rows get theirs on
   * their first start. Image and kernel are paths until the image
   * registry exists. */
  "ALTER TABLE vms ADD COLUMN vmm TEXT NOT NULL DEFAULT 'firecracker'"
  "  CHECK (vmm IN ('firecracker'));"
  "ALTER TABLE vms ADD COLUMN image_path TEXT NOT NULL DEFAULT '';"
  "ALTER TABLE vms ADD COLUMN kernel_path TEXT NOT NULL DEFAULT '';"
  "ALTER TABLE vms ADD COLUMN nat INTEGER NOT NULL DEFAULT 0 CHECK (nat IN (0, 1));"
  "ALTER TABLE vms ADD COLUMN ipv4 TEXT;"
  "ALTER TABLE vms ADD COLUMN ipv4_prefix INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE vms ADD COLUMN mac TEXT;"
  "ALTER TABLE vms ADD COLUMN tap TEXT;"
  "ALTER TABLE vms ADD COLUMN disk_strategy TEXT NOT NULL DEFAULT 'overlay'"
  "  CHECK (disk_strategy IN ('overlay', 'copy-reflink', 'copy-sparse'));"
  "ALTER TABLE vms ADD COLUMN last_error TEXT NOT NULL DEFAULT '';"
  "ALTER TABLE vms ADD COLUMN started_at INTEGER NOT NULL DEFAULT 0;"
  "CREATE UNIQUE INDEX vms_ipv4 ON vms (ipv4);"
  "CREATE UNIQUE INDEX vms_mac ON vms (mac);"
  "CREATE UNIQUE INDEX vms_tap ON vms (tap);",

  /* 4: the image and kernel registry. A kernel is its bzImage's sha256,
   * with the ELF vmlinux and the modules tree unpacked beside it; an image
   * is a name for an ext4 file, and several names may share one file. */
  "ALTER TABLE kernels ADD COLUMN release TEXT NOT NULL DEFAULT '';"
  "ALTER TABLE kernels ADD COLUMN vmlinux_path TEXT NOT NULL DEFAULT '';"
  "ALTER TABLE kernels ADD COLUMN modules_path TEXT NOT NULL DEFAULT '';"
  "CREATE UNIQUE INDEX kernels_sha256 ON kernels (sha256);"
  "ALTER TABLE images ADD COLUMN size INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE images ADD COLUMN overlay_capable INTEGER NOT NULL DEFAULT 1"
  "  CHECK (overlay_capable IN (0, 1));"
  "ALTER TABLE images ADD COLUMN source TEXT NOT NULL DEFAULT '';"
  "CREATE INDEX images_sha256 ON images (sha256);"
  "CREATE INDEX images_kernel ON images (kernel_id);",

  /* 5: qemu is a VMM too, and a VM remembers why it got its VMM. SQLite
   * cannot change a CHECK constraint in place: the table is rebuilt with
   * every column and constraint of 1-4, and the rows copied. */
  "CREATE TABLE vms_new ("
  "  id         INTEGER PRIMARY KEY,"
  "  name       TEXT NOT NULL UNIQUE CHECK (length (name) BETWEEN 1 AND 63),"
  "  state      TEXT NOT NULL DEFAULT 'stopped'"
  "             CHECK (state IN ('stopped', 'starting', 'running', 'stopping', 'failed')),"
  "  vcpus      INTEGER NOT NULL CHECK (vcpus > 0),"
  "  memory_mib INTEGER NOT NULL CHECK (memory_mib > 0),"
  "  disk_bytes INTEGER NOT NULL CHECK (disk_bytes > 0),"
  "  image_id   INTEGER REFERENCES images (id) ON DELETE RESTRICT,"
  "  kernel_id  INTEGER REFERENCES kernels (id) ON DELETE RESTRICT,"
  "  created_at INTEGER NOT NULL,"
  "  vcpus_source TEXT NOT NULL DEFAULT 'unknown'"
  "    CHECK (vcpus_source IN ('unknown', 'user', 'config', 'auto', 'builtin')),"
  "  memory_source TEXT NOT NULL DEFAULT 'unknown'"
  "    CHECK (memory_source IN ('unknown', 'user', 'config', 'auto', 'builtin')),"
  "  disk_source TEXT NOT NULL DEFAULT 'unknown'"
  "    CHECK (disk_source IN ('unknown', 'user', 'config', 'auto', 'builtin')),"
  "  vmm TEXT NOT NULL DEFAULT 'firecracker' CHECK (vmm IN ('firecracker', 'qemu')),"
  "  image_path TEXT NOT NULL DEFAULT '',"
  "  kernel_path TEXT NOT NULL DEFAULT '',"
  "  nat INTEGER NOT NULL DEFAULT 0 CHECK (nat IN (0, 1)),"
  "  ipv4 TEXT,"
  "  ipv4_prefix INTEGER NOT NULL DEFAULT 0,"
  "  mac TEXT,"
  "  tap TEXT,"
  "  disk_strategy TEXT NOT NULL DEFAULT 'overlay'"
  "    CHECK (disk_strategy IN ('overlay', 'copy-reflink', 'copy-sparse')),"
  "  last_error TEXT NOT NULL DEFAULT '',"
  "  started_at INTEGER NOT NULL DEFAULT 0,"
  "  vmm_reason TEXT NOT NULL DEFAULT ''"
  ");"
  "INSERT INTO vms_new (id, name, state, vcpus, memory_mib, disk_bytes, image_id, kernel_id,"
  "  created_at, vcpus_source, memory_source, disk_source, vmm, image_path, kernel_path, nat,"
  "  ipv4, ipv4_prefix, mac, tap, disk_strategy, last_error, started_at)"
  " SELECT id, name, state, vcpus, memory_mib, disk_bytes, image_id, kernel_id,"
  "  created_at, vcpus_source, memory_source, disk_source, vmm, image_path, kernel_path, nat,"
  "  ipv4, ipv4_prefix, mac, tap, disk_strategy, last_error, started_at FROM vms;"
  "DROP TABLE vms;"
  "ALTER TABLE vms_new RENAME TO vms;"
  "CREATE UNIQUE INDEX vms_ipv4 ON vms (ipv4);"
  "CREATE UNIQUE INDEX vms_mac ON vms (mac);"
  "CREATE UNIQUE INDEX vms_tap ON vms (tap);",
};

int
store_latest_version (void)
{
  return G_N_ELEMENTS (migrations);
}

const char *
store_migration_sql (int version)
{
  g_return_val_if_fail (version >= 1 && version <= (int) G_N_ELEMENTS (migrations), NULL);
  return migrations[version - 1];
}
