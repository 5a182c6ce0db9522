/* init.h: banger-init, the guest's first program (docs/guest-boot.md). Plain C and glibc, linked static: it runs as PID 1
 * of the initramfs before any library of the image is reachable. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VM_CONF_RESOLVERS_MAX 8
#define VM_CONF_MAX_BYTES     4096
#define SSH_KEY_MAX_BYTES     8192

/* ---- util.c ---- */
void  say  (const char *format, ...) __attribute__ ((format (printf, 1, 2)));
/* Prints "banger-init: error: ..." and powers the VM off; never returns. */
void  die  (const char *format, ...) __attribute__ ((format (printf, 1, 2), noreturn));
/* Reads a whole small file (at most @max bytes) below @dir_fd without
 * following a symlink in its last component; NUL-terminated, malloc'ed.
 * NULL with errno set on failure (EFBIG when larger than @max). */
char *read_file_at (int dir_fd, const char *name, size_t max, size_t *out_len);
/* Replaces @name in @dir_fd with @contents (@mode, owned by 0:0), never
 * following a symlink: a symlink or file already there is unlinked first. */
int   write_file_at (int dir_fd, const char *name, const char *contents, size_t len, unsigned mode);
/* Opens (creating with @mode if needed) the directory @path below @root_fd,
 * one component at a time, refusing symlinks anywhere on the way. */
int   open_dir_beneath (int root_fd, const char *path, unsigned mode, bool create);
void  mkdir_or_die (const char *path, unsigned mode);
/* Copies @src (whose length the caller checked) into @dst, truncating. */
void  str_copy (char *dst, size_t dst_size, const char *src);

/* ---- cmdline.c ---- */
typedef enum { ROOT_OVERLAY, ROOT_DIRECT } RootMode;
typedef enum { AGENT_NONE, AGENT_VSOCK, AGENT_VPORT } AgentKind;

typedef struct {
  RootMode   root;
  AgentKind  agent;
  char       agent_arg[64];    /* the port number or the port name */
  char       init[256];        /* the image's init, an absolute path */
} Cmdline;

/* Parses the kernel command line text; unknown words are ignored, a
 * malformed banger.* word is an error (message in @err). */
bool  cmdline_parse (const char *text, Cmdline *out, char *err, size_t err_size);

/* ---- vm-conf.c ---- */
typedef struct {
  char      hostname[64];
  char      ipv4[16];
  unsigned  prefix;
  char      gateway[16];
  char      mac[18];
  char      resolvers[VM_CONF_RESOLVERS_MAX][16];
  unsigned  n_resolvers;
  unsigned  agent_vsock_port;
} VmConf;

/* Parses vm.conf (docs/boot-config.md) strictly; false with a message in
 * @err for anything the format does not allow. */
bool  vm_conf_parse (const char *text, size_t len, VmConf *out, char *err, size_t err_size);
/* Checks one authorized_keys file: one OpenSSH public key line + "\n". */
bool  ssh_key_valid (const char *text, size_t len, char *err, size_t err_size);
/* Parses a canonical dotted quad into host byte order. */
bool  ipv4_parse (const char *text, uint32_t *out);

/* ---- modules.c ---- */
void  modules_load (const char *list_path);

/* ---- disks.c ---- */
typedef struct {
  char disk[32];    /* /dev/vdX holding the banger-disk label */
  char image[32];   /* the other virtio disk */
} Disks;

void  disks_find (Disks *out, int timeout_seconds);
/* Restores root ownership and the documented modes on the disk mounted
 * at @mount_point (docs/boot-config.md, "Ownership"). */
void  disk_fix_ownership (const char *mount_point);

/* ---- network.c ---- */
void  network_setup (const VmConf *conf);

/* ---- root.c ---- */
void  root_assemble (RootMode mode, const Disks *disks);
void  root_apply_config (const VmConf *conf, const char *ssh_key, size_t ssh_key_len);
/* Copies the agent out of the initramfs into an anonymous memfd. */
int   agent_to_memfd (const char *path);
/* switch_root to /newroot, then exec the image's init with the agent
 * beside it, or the agent alone as PID 1. Never returns. */
void  root_hand_over (const Cmdline *cmdline, int agent_fd) __attribute__ ((noreturn));
