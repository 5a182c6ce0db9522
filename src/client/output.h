/* output.h: how the CLI prints: aligned tables, "key: value" blocks and
 * the stable JSON documented in docs/cli.md. No D-Bus in here. */
#pragma once

#include <stdio.h>

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* A VM as the CLI shows it, copied out of the VM1 proxy. The sources are
 * the SettingsSource values (user|config|auto|builtin) or NULL. */
typedef struct {
  char    *name;
  char    *state;
  guint    vcpus;
  guint64  memory_mib;
  guint64  disk_bytes;
  guint64  created_at_usec;   /* µs since the epoch, UTC */
  char    *vcpus_source;
  char    *memory_source;
  char    *disk_source;
  /* The VM1 properties below are "" when empty (or when an older daemon
   * does not have them); JSON turns "" into null. */
  char    *vmm;
  char    *vmm_reason;
  char    *ipv4;              /* with prefix length: "172.30.0.2/24" */
  char    *mac;
  char    *tap;               /* only while the VM runs */
  gboolean nat;
  char    *image;
  char    *kernel;
  char    *disk_strategy;
  guint64  started_at_usec;   /* 0 when not running */
  char    *last_error;        /* only when state is failed */
} BangerVmInfo;

void          banger_vm_info_free        (BangerVmInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerVmInfo, banger_vm_info_free)

int           banger_vm_info_compare     (gconstpointer a,
                                          gconstpointer b);

/* "2026-11-23T09:04:36Z" */
char         *banger_format_time_iso     (guint64       usec);
/* Local time for people, e.g. "2026-11-23 10:04". */
char         *banger_format_time_local   (guint64       usec,
                                          gboolean      with_seconds);
/* "auto: from host resources" and so on; the raw value when unknown. */
const char   *banger_source_describe     (const char   *source);

/* "172.30.0.2/24" -> "172.30.0.2"; NULL or "" -> "". */
char         *banger_ipv4_address        (const char   *ipv4_with_prefix);

/* "2 vCPUs, 1 GiB memory, 8 GiB disk", plus ", NAT" when NAT is on. */
char         *banger_vm_info_describe    (const BangerVmInfo *info);

/* One progress line, e.g. "Starting web: [######....] 60% Configuring the
 * VM"; @label is "Starting web". @progress is clamped to 0..1. With
 * @max_chars > 0 the line is cut to that many characters, so that it
 * never wraps on a terminal that narrow. */
char         *banger_format_progress     (const char   *label,
                                          double        progress,
                                          const char   *description,
                                          guint         max_chars);

/* The last @max_lines lines of @text (its trailing newlines dropped) for a
 * terminal: text another party wrote (a guest's console) is shown with
 * its control characters, other than newline and tab, as "?" and carriage
 * returns dropped, so it cannot move the cursor or retitle the window;
 * invalid UTF-8 is replaced. With @cut_start, @text begins mid-line (read
 * from the middle of a file) and that first partial line is left out. */
char         *banger_text_tail           (const char   *text,
                                          gboolean      cut_start,
                                          guint         max_lines);

/* A table whose columns are as wide as their widest cell. */
typedef struct _BangerTable BangerTable;

BangerTable  *banger_table_new           (guint         n_columns,
                                          ...);
void          banger_table_add_row       (BangerTable  *table,
                                          ...);
char         *banger_table_render        (BangerTable  *table);
void          banger_table_free          (BangerTable  *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerTable, banger_table_free)

/* "key:  value" lines, labels padded to the longest. Pairs of strings,
 * NULL-terminated. */
char         *banger_render_fields       (const char   *first_label,
                                          ...) G_GNUC_NULL_TERMINATED;

char         *banger_vm_info_render_list (GPtrArray    *vms);
char         *banger_vm_info_render_show (const BangerVmInfo *info);

JsonNode     *banger_vm_info_to_json     (const BangerVmInfo *info);
JsonNode     *banger_vm_list_to_json     (GPtrArray    *vms);
/* Pretty-printed, two-space indent, trailing newline. */
char         *banger_json_to_string      (JsonNode     *node);
void          banger_json_print          (JsonNode     *node);
/* What a command that shows objects prints: @node with --json, else
 * @text as it is. Takes both (building the one not printed costs less
 * than a second code path in every command). */
void          banger_print_json_or_text  (gboolean      json,
                                          JsonNode     *node,
                                          char         *text);
void          banger_json_add_string_or_null (JsonBuilder *b,
                                              const char  *member,
                                              const char  *value);

G_END_DECLS
