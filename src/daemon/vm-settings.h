/* vm-settings.h: a VM's sizing settings, their allowed ranges, and where
 * each value came from (the user, the config file, the host, or banger). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VM_VCPUS_MIN       1
#define VM_VCPUS_MAX       32
#define VM_MEMORY_MIB_MIN  64
#define VM_MEMORY_MIB_MAX  (1024 * 1024)
#define VM_DISK_BYTES_MIN  (G_GUINT64_CONSTANT (64) << 20)
#define VM_DISK_BYTES_MAX  (G_GUINT64_CONSTANT (16) << 40)

typedef enum {
  SETTING_SOURCE_UNKNOWN,
  SETTING_SOURCE_USER,
  SETTING_SOURCE_CONFIG,
  SETTING_SOURCE_AUTO,
  SETTING_SOURCE_BUILTIN,
} SettingSource;

typedef struct {
  guint64       value;
  SettingSource source;
} Setting;

/* The settings every VM has. Keys on the bus are the VM1 property names. */
typedef struct {
  Setting vcpus;
  Setting memory_mib;
  Setting disk_bytes;
} VmSettings;

/* Which keys a caller may pass (CreateVM takes all, Set only some). */
typedef enum {
  VM_SETTING_VCPUS      = 1 << 0,
  VM_SETTING_MEMORY_MIB = 1 << 1,
  VM_SETTING_DISK_BYTES = 1 << 2,
} VmSettingMask;

const char    *setting_source_to_string   (SettingSource  source);
SettingSource  setting_source_from_string (const char    *text);

gboolean vm_settings_check_vcpus      (guint64      value,
                                       GError     **error);
gboolean vm_settings_check_memory_mib (guint64      value,
                                       GError     **error);
gboolean vm_settings_check_disk_bytes (guint64      value,
                                       GError     **error);

gboolean vm_settings_apply_options (VmSettings     *settings,
                                    GVariant       *options,
                                    VmSettingMask   allowed,
                                    VmSettingMask  *out_changed,
                                    GError        **error);

G_END_DECLS
