/* firecracker-config.c: builds the request bodies bangerd PUTs before
 * InstanceStart; field names and required fields follow firecracker-api.yaml. */
#define G_LOG_DOMAIN "bangerd-firecracker"

#include "config.h"

#include "firecracker-config.h"

static JsonNode *
finish (JsonBuilder *builder)
{
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

JsonNode *
firecracker_config_logger (const char *log_path,
                           gboolean    show_level,
                           gboolean    show_log_origin)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  if (log_path != NULL)
    {
      json_builder_set_member_name (b, "log_path");
      json_builder_add_string_value (b, log_path);
    }
  json_builder_set_member_name (b, "level");
  json_builder_add_string_value (b, "Info");
  json_builder_set_member_name (b, "show_level");
  json_builder_add_boolean_value (b, show_level);
  json_builder_set_member_name (b, "show_log_origin");
  json_builder_add_boolean_value (b, show_log_origin);
  return finish (b);
}

JsonNode *
firecracker_config_metrics (const char *metrics_path)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  g_return_val_if_fail (metrics_path != NULL, NULL);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "metrics_path");
  json_builder_add_string_value (b, metrics_path);
  return finish (b);
}

JsonNode *
firecracker_config_machine (guint vcpu_count,
                            guint mem_size_mib)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "vcpu_count");
  json_builder_add_int_value (b, vcpu_count);
  json_builder_set_member_name (b, "mem_size_mib");
  json_builder_add_int_value (b, mem_size_mib);
  /* Explicit, though it is the default: odd vCPU counts need SMT off. */
  json_builder_set_member_name (b, "smt");
  json_builder_add_boolean_value (b, FALSE);
  return finish (b);
}

JsonNode *
firecracker_config_boot_source (const char *kernel_image_path,
                                const char *boot_args,
                                const char *initrd_path)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  g_return_val_if_fail (kernel_image_path != NULL, NULL);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "kernel_image_path");
  json_builder_add_string_value (b, kernel_image_path);
  if (boot_args != NULL)
    {
      json_builder_set_member_name (b, "boot_args");
      json_builder_add_string_value (b, boot_args);
    }
  if (initrd_path != NULL)
    {
      json_builder_set_member_name (b, "initrd_path");
      json_builder_add_string_value (b, initrd_path);
    }
  return finish (b);
}

JsonNode *
firecracker_config_drive (const char *drive_id,
                          const char *path_on_host,
                          gboolean    is_root_device,
                          gboolean    is_read_only)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  /* path_on_host and is_read_only are optional in the spec only for
   * vhost-user drives; banger's are all virtio-blk, which needs both. */
  g_return_val_if_fail (drive_id != NULL && path_on_host != NULL, NULL);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "drive_id");
  json_builder_add_string_value (b, drive_id);
  json_builder_set_member_name (b, "path_on_host");
  json_builder_add_string_value (b, path_on_host);
  json_builder_set_member_name (b, "is_root_device");
  json_builder_add_boolean_value (b, is_root_device);
  json_builder_set_member_name (b, "is_read_only");
  json_builder_add_boolean_value (b, is_read_only);
  return finish (b);
}

JsonNode *
firecracker_config_network_interface (const char *iface_id,
                                      const char *host_dev_name,
                                      const char *guest_mac)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  g_return_val_if_fail (iface_id != NULL && host_dev_name != NULL, NULL);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "iface_id");
  json_builder_add_string_value (b, iface_id);
  json_builder_set_member_name (b, "host_dev_name");
  json_builder_add_string_value (b, host_dev_name);
  if (guest_mac != NULL)
    {
      json_builder_set_member_name (b, "guest_mac");
      json_builder_add_string_value (b, guest_mac);
    }
  return finish (b);
}

JsonNode *
firecracker_config_vsock (guint       guest_cid,
                          const char *uds_path)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  /* CIDs 0-2 are reserved (hypervisor, local, host); the spec's minimum is 3. */
  g_return_val_if_fail (guest_cid >= 3 && uds_path != NULL, NULL);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "guest_cid");
  json_builder_add_int_value (b, guest_cid);
  json_builder_set_member_name (b, "uds_path");
  json_builder_add_string_value (b, uds_path);
  return finish (b);
}

JsonNode *
firecracker_config_serial (const char *serial_out_path)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  g_return_val_if_fail (serial_out_path != NULL, NULL);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "serial_out_path");
  json_builder_add_string_value (b, serial_out_path);
  return finish (b);
}

JsonNode *
firecracker_config_action (const char *action_type)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  g_return_val_if_fail (action_type != NULL, NULL);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "action_type");
  json_builder_add_string_value (b, action_type);
  return finish (b);
}

char *
firecracker_config_drive_path (const char *drive_id)
{
  return g_strconcat ("/drives/", drive_id, NULL);
}

char *
firecracker_config_network_path (const char *iface_id)
{
  return g_strconcat ("/network-interfaces/", iface_id, NULL);
}
