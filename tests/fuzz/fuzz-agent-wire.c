/* fuzz-agent-wire.c: feeds arbitrary bytes to the agent frame decoder and
 * every payload parser, as the agent and bangerd do with a peer's bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent-wire.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
parse_all (const AgentWireFrame *frame)
{
  AgentWireHello hello;
  AgentWireError error;
  AgentWireExec exec;
  AgentWireExit exit_status;
  AgentWireBuf again = { 0 };
  uint32_t u32;
  uint64_t u64;

  if (agent_wire_parse_hello (frame, &hello))
    {
      /* What parses re-encodes to the same bytes. */
      if (!agent_wire_put_hello (&again, &hello) || again.len != AGENT_WIRE_HEADER_SIZE + frame->length
          || memcmp (again.data + AGENT_WIRE_HEADER_SIZE, frame->payload, frame->length) != 0)
        abort ();
      agent_wire_hello_clear (&hello);
    }
  if (agent_wire_parse_error (frame, &error))
    agent_wire_error_clear (&error);
  if (agent_wire_parse_exec (frame, &exec))
    {
      again.len = 0;
      if (!agent_wire_put_exec (&again, 1, &exec) || again.len != AGENT_WIRE_HEADER_SIZE + frame->length)
        abort ();
      agent_wire_exec_clear (&exec);
    }
  agent_wire_parse_exit (frame, &exit_status);
  agent_wire_parse_u32 (frame, &u32);
  agent_wire_parse_u64 (frame, &u64);
  agent_wire_buf_clear (&again);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* A copy of exactly @size bytes, so ASan sees any read past the end. */
  uint8_t *copy = malloc (size ? size : 1);
  size_t offset = 0;

  memcpy (copy, data, size);
  for (;;)
    {
      AgentWireFrame frame;
      size_t used = 0;
      const char *why = NULL;
      AgentWireStatus status = agent_wire_decode (copy + offset, size - offset, &frame, &used, &why);

      if (status != AGENT_WIRE_FRAME)
        {
          if (status != AGENT_WIRE_NEED_MORE && why == NULL)
            abort ();
          break;
        }
      if (used < AGENT_WIRE_HEADER_SIZE || used > size - offset)
        abort ();
      parse_all (&frame);
      offset += used;
    }
  /* The parsers also see the raw bytes as a payload of any type. */
  {
    AgentWireFrame raw = { AGENT_WIRE_VERSION, AGENT_MSG_EXEC, 0, 1,
                           (uint32_t) (size > AGENT_WIRE_MAX_PAYLOAD ? AGENT_WIRE_MAX_PAYLOAD : size), copy };
    parse_all (&raw);
  }
  free (copy);
  return 0;
}
