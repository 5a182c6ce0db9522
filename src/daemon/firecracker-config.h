/* firecracker-config.h: the JSON bodies of Firecracker's boot sequence
 * (logger … InstanceStart), named and shaped as in the v1.14 swagger spec. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Each returns a new JsonNode (an object) for json_node_unref; optional
 * arguments may be NULL and are then left out of the body. */
JsonNode *firecracker_config_logger            (const char *log_path,
                                                gboolean    show_level,
                                                gboolean    show_log_origin);
JsonNode *firecracker_config_metrics           (const char *metrics_path);
JsonNode *firecracker_config_machine           (guint       vcpu_count,
                                                guint       mem_size_mib);
JsonNode *firecracker_config_boot_source       (const char *kernel_image_path,
                                                const char *boot_args,
                                                const char *initrd_path);
JsonNode *firecracker_config_drive             (const char *drive_id,
                                                const char *path_on_host,
                                                gboolean    is_root_device,
                                                gboolean    is_read_only);
JsonNode *firecracker_config_network_interface (const char *iface_id,
                                                const char *host_dev_name,
                                                const char *guest_mac);
JsonNode *firecracker_config_vsock             (guint       guest_cid,
                                                const char *uds_path);
/* PUT /serial (1.14+): the serial console to a file instead of stdout. */
JsonNode *firecracker_config_serial            (const char *serial_out_path);
JsonNode *firecracker_config_action            (const char *action_type);

/* "/drives/ID" and "/network-interfaces/ID", the paths the bodies go to. */
char     *firecracker_config_drive_path        (const char *drive_id);
char     *firecracker_config_network_path      (const char *iface_id);

G_END_DECLS
