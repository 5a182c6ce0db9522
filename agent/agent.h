/* agent.h: state shared by the guest agent's parts: the host connection,
 * the running execs and the options it was started with. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent-wire.h"

#define LOG(...) agent_log (__VA_ARGS__)

typedef enum {
  TRANSPORT_UNIX,
  TRANSPORT_VSOCK,
  TRANSPORT_VPORT,
} TransportKind;

typedef struct Exec Exec;
struct Exec {
  Exec *next;
  uint32_t id;        /* 0: an orphan, killed once started (exec_kill_all) */
  uint64_t serial;    /* names it in its spawner's report */
  pid_t pid;          /* 0 while starting; the process group: setsid() */
  pid_t starting_pid; /* the child's pid, stored by the child itself at once
                       * (atomic): signals reach a command stuck before its
                       * exec, whose spawner has not reported yet */
  int pending_signal; /* a SIGNAL that came while starting */
  int in_fd;          /* -1 once closed (or when no stdin was asked for) */
  int out_fd, err_fd; /* -1 after EOF */
  bool want_stdin;
  bool stdin_eof;     /* the host sent STDIN_EOF */
  AgentWireBuf stdin_buf;
  uint32_t stdin_room;    /* stdin credit the host still holds */
  uint32_t stdin_ungranted; /* written to the pipe, not yet granted back */
  uint64_t out_window;    /* stdout+stderr credit the host gave us */
  bool reaped;
  int wstatus;
  int exec_errno;     /* why the command could not start */
};

/* What a spawner thread tells the loop (spawn.c). */
typedef struct {
  uint64_t serial;
  pid_t pid;          /* -1: no process */
  int exec_errno;     /* the child's errno when the command could not start */
  int spawn_errno;    /* why there is no process */
} SpawnReport;

typedef struct {
  TransportKind kind;
  const char *address;     /* socket path, vport name or vsock port */
  bool pid1;
  bool test_no_poweroff;

  int listen_fd;           /* unix/vsock; -1 for vport */
  int conn_fd;             /* -1 when no host is connected */
  bool vport_active;       /* vport: a host has sent bytes since the last hangup */
  bool vport_eof;          /* vport: read 0 at vport_eof_ms, not yet a hangup */
  int64_t vport_eof_ms;
  bool draining;           /* vport: discard input up to the next host HELLO */
  int64_t in_grew_ms;      /* when the last bytes were read into in */
  bool in_stall_seen;      /* in has not grown since transport_check_stall() looked */
  bool handshaken;
  bool out_of_memory;      /* hang up at the end of this loop iteration */
  AgentWireBuf in, out;

  Exec *execs;
  unsigned n_execs;
  unsigned n_spawning;     /* execs whose spawner has not reported yet */
  uint64_t spawn_serial;
  int spawn_read_fd, spawn_write_fd;
  bool spawn_warmed_up;
  int sigchld_fd;
} Agent;

void agent_log (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
/* CLOCK_MONOTONIC in milliseconds. */
int64_t agent_monotonic_ms (void);

/* transport.c */
bool transport_open (Agent *agent);
void transport_accept (Agent *agent);
void transport_read (Agent *agent);
void transport_flush (Agent *agent);
bool transport_flush_blocking (Agent *agent, int timeout_ms);
void transport_hangup (Agent *agent, const char *why);
bool transport_vport_idle (const Agent *agent);
bool transport_vport_unsure (const Agent *agent);
/* Milliseconds until transport_check_stall() has something to look at,
 * or -1. */
int transport_stall_timeout (const Agent *agent);
void transport_check_stall (Agent *agent);
/* Sends ERROR on stream 0 and drops the connection. */
void transport_protocol_error (Agent *agent, uint32_t code, const char *why);

/* proto.c: one decoded frame from the host. */
void proto_handle_frame (Agent *agent, const AgentWireFrame *frame);
void proto_send (Agent *agent, bool ok);

/* exec.c */
void exec_start (Agent *agent, uint32_t id, AgentWireExec *request);
Exec *exec_find (Agent *agent, uint32_t id);
void exec_stdin_data (Agent *agent, Exec *exec, const uint8_t *data, uint32_t len);
void exec_stdin_eof (Agent *agent, Exec *exec);
void exec_write_stdin (Agent *agent, Exec *exec);
void exec_read_output (Agent *agent, Exec *exec, bool is_err);
void exec_reap (Agent *agent);
void exec_finish_done (Agent *agent);
void exec_kill_all (Agent *agent);
void exec_signal (Exec *exec, int signo);
void exec_read_spawn_reports (Agent *agent);
void exec_wait_spawns (Agent *agent, int timeout_ms);

/* spawn.c */
bool spawn_init (Agent *agent);
/* Starts @request in a new process group with the child's ends of its
 * stdio; takes both over (@request is left empty) even when it fails.
 * The child stores its pid in *@starting_pid, which must live until the
 * spawner's report. */
bool spawn_start (Agent *agent, uint64_t serial, AgentWireExec *request,
                  int in_fd, int out_fd, int err_fd, pid_t *starting_pid);
bool spawn_next_report (Agent *agent, SpawnReport *report);
void spawn_warm_up (void);

/* system.c */
void system_hello (AgentWireHello *hello);
void system_poweroff (Agent *agent);
