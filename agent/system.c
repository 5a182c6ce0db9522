/* system.c: what the agent reports about the guest (HELLO) and how it
 * powers the guest off (as PID 1 or under the image's own init). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

void
system_hello (AgentWireHello *hello)
{
  struct utsname uts;
  struct timespec up = { 0 };

  memset (hello, 0, sizeof *hello);
  if (uname (&uts) < 0)
    memset (&uts, 0, sizeof uts);
  clock_gettime (CLOCK_BOOTTIME, &up);
  hello->version = AGENT_WIRE_VERSION;
  hello->kernel_release = strdup (uts.release);
  hello->hostname = strdup (uts.nodename);
  hello->uptime_ms = (uint64_t) up.tv_sec * 1000 + (uint64_t) up.tv_nsec / 1000000;
}

static void
sleep_ms (long ms)
{
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
  nanosleep (&ts, NULL);
}

/* Answers first (the host then knows the request arrived), then stops
 * everything, syncs and powers off. */
void
system_poweroff (Agent *agent)
{
  LOG ("powering off on request");
  proto_send (agent, agent_wire_put_frame (&agent->out, AGENT_MSG_POWEROFF_ACK, 0, NULL, 0));
  transport_flush_blocking (agent, 1000);
  exec_wait_spawns (agent, 500);
  exec_kill_all (agent);
  if (agent->pid1)
    {
      /* Give the rest of the guest a moment to exit cleanly. */
      kill (-1, SIGTERM);
      sleep_ms (500);
      kill (-1, SIGKILL);
    }
  sync ();
  if (agent->test_no_poweroff)
    exit (0);
  if (reboot (RB_POWER_OFF) < 0)
    LOG ("power off failed: %s", strerror (errno));
  if (!agent->pid1)
    exit (1);
}
