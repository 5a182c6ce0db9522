/* proto.c: what the agent does with each frame the host sends, and which
 * frames it refuses (anything before HELLO, anything a host never sends). */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"

void
proto_send (Agent *agent, bool ok)
{
  /* Only allocation fails here. The hangup waits for the end of the loop
   * iteration: execs it frees may still be referenced until then. */
  if (!ok)
    agent->out_of_memory = true;
}

static void
handle_hello (Agent *agent, const AgentWireFrame *frame)
{
  AgentWireHello request, reply = { 0 };
  char why[96];

  if (!agent_wire_parse_hello (frame, &request))
    {
      transport_protocol_error (agent, AGENT_ERR_PROTOCOL, "malformed HELLO");
      return;
    }
  agent_wire_hello_clear (&request);
  if (request.version != AGENT_WIRE_VERSION)
    {
      snprintf (why, sizeof why, "host speaks protocol version %u, this agent speaks %u",
                request.version, AGENT_WIRE_VERSION);
      transport_protocol_error (agent, AGENT_ERR_VERSION, why);
      return;
    }
  /* A port gives no connect event: a HELLO there starts a new session,
   * so execs of a host whose hang-up went unseen do not linger. */
  if (agent->kind == TRANSPORT_VPORT && agent->handshaken)
    {
      if (agent->n_execs > 0)
        LOG ("new host session; killing %u running exec(s)", agent->n_execs);
      exec_kill_all (agent);
    }
  system_hello (&reply);
  agent->handshaken = true;
  proto_send (agent, agent_wire_put_hello (&agent->out, &reply));
  agent_wire_hello_clear (&reply);
}

static void
handle_exec (Agent *agent, const AgentWireFrame *frame)
{
  AgentWireExec request;

  if (!agent_wire_parse_exec (frame, &request))
    {
      transport_protocol_error (agent, AGENT_ERR_PROTOCOL, "malformed EXEC");
      return;
    }
  if (exec_find (agent, frame->stream) != NULL)
    {
      agent_wire_exec_clear (&request);
      transport_protocol_error (agent, AGENT_ERR_STREAM, "EXEC on a stream already in use");
      return;
    }
  if (agent->n_execs >= AGENT_WIRE_MAX_EXECS)
    proto_send (agent, agent_wire_put_error (&agent->out, frame->stream, AGENT_ERR_LIMIT,
                                             "too many commands running in the guest"));
  else
    exec_start (agent, frame->stream, &request);
  agent_wire_exec_clear (&request);
}

/* Frames for a stream that already ended are stale (the host sent them
 * before it saw EXIT), not errors. */
static void
handle_stream (Agent *agent, const AgentWireFrame *frame)
{
  Exec *exec = exec_find (agent, frame->stream);
  uint32_t value = 0;

  switch (frame->type)
    {
    case AGENT_MSG_STDIN:
      if (exec == NULL)
        return;
      if (!exec->want_stdin || exec->stdin_eof || frame->length > exec->stdin_room)
        {
          transport_protocol_error (agent, AGENT_ERR_PROTOCOL,
                                    "STDIN beyond the window, after EOF or without a stdin");
          return;
        }
      exec_stdin_data (agent, exec, frame->payload, frame->length);
      break;
    case AGENT_MSG_STDIN_EOF:
      if (frame->length != 0)
        transport_protocol_error (agent, AGENT_ERR_PROTOCOL, "malformed STDIN_EOF");
      else if (exec != NULL)
        exec_stdin_eof (agent, exec);
      break;
    case AGENT_MSG_WINDOW:
      if (!agent_wire_parse_u32 (frame, &value) || value == 0)
        transport_protocol_error (agent, AGENT_ERR_PROTOCOL, "malformed WINDOW");
      else if (exec != NULL && exec->out_window + value > UINT32_MAX)
        transport_protocol_error (agent, AGENT_ERR_PROTOCOL, "WINDOW overflows");
      else if (exec != NULL)
        exec->out_window += value;
      break;
    case AGENT_MSG_SIGNAL:
      if (!agent_wire_parse_u32 (frame, &value) || value == 0 || value > 64)
        transport_protocol_error (agent, AGENT_ERR_PROTOCOL, "malformed SIGNAL");
      else if (exec != NULL)
        exec_signal (exec, (int) value);
      break;
    default:
      transport_protocol_error (agent, AGENT_ERR_PROTOCOL, "frame type the host must not send");
      break;
    }
}

void
proto_handle_frame (Agent *agent, const AgentWireFrame *frame)
{
  uint64_t cookie;

  if (!agent->handshaken && frame->type != AGENT_MSG_HELLO)
    {
      transport_protocol_error (agent, AGENT_ERR_PROTOCOL, "the first frame must be HELLO");
      return;
    }
  switch (frame->type)
    {
    case AGENT_MSG_HELLO:
      handle_hello (agent, frame);
      break;
    case AGENT_MSG_PING:
      if (!agent_wire_parse_u64 (frame, &cookie))
        transport_protocol_error (agent, AGENT_ERR_PROTOCOL, "malformed PING");
      else
        proto_send (agent, agent_wire_put_u64 (&agent->out, AGENT_MSG_PONG, 0, cookie));
      break;
    case AGENT_MSG_POWEROFF:
      if (frame->length != 0)
        transport_protocol_error (agent, AGENT_ERR_PROTOCOL, "malformed POWEROFF");
      else
        system_poweroff (agent);
      break;
    case AGENT_MSG_EXEC:
      handle_exec (agent, frame);
      break;
    case AGENT_MSG_STDIN:
    case AGENT_MSG_STDIN_EOF:
    case AGENT_MSG_WINDOW:
    case AGENT_MSG_SIGNAL:
      handle_stream (agent, frame);
      break;
    default:
      transport_protocol_error (agent, AGENT_ERR_PROTOCOL, "frame type the host must not send");
      break;
    }
}
