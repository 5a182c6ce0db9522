/* banger-log.c: a GLib log writer that adds the current operation id to
 * every record: as the OP_ID field for the journal, as "[opN]" on stderr. */
#define G_LOG_DOMAIN "banger-log"

#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "banger-log.h"

struct _BangerOp {
  char *id;
  char *previous;   /* the id that was current before, restored on end */
};

/* The current op is per thread: the helper runs calls on worker threads. */
static GPrivate current_op = G_PRIVATE_INIT (g_free);
static gint op_counter;

const char *
banger_op_current_id (void)
{
  return g_private_get (&current_op);
}

BangerOp *
banger_op_begin (GDBusMethodInvocation *invocation)
{
  BangerOp *op = g_new0 (BangerOp, 1);
  const char *prev = g_private_get (&current_op);

  op->id = g_strdup_printf ("op%d", g_atomic_int_add (&op_counter, 1) + 1);
  op->previous = g_strdup (prev);
  g_private_replace (&current_op, g_strdup (op->id));

  if (invocation != NULL)
    g_debug ("%s.%s from %s",
             g_dbus_method_invocation_get_interface_name (invocation),
             g_dbus_method_invocation_get_method_name (invocation),
             g_dbus_method_invocation_get_sender (invocation));
  return op;
}

void
banger_op_end (BangerOp *op)
{
  if (op == NULL)
    return;
  g_private_replace (&current_op, g_steal_pointer (&op->previous));
  g_free (op->id);
  g_free (op);
}

const char *
banger_op_id (const BangerOp *op)
{
  return op->id;
}

static const char *
level_name (GLogLevelFlags level)
{
  switch (level & G_LOG_LEVEL_MASK)
    {
    case G_LOG_LEVEL_ERROR: return "ERROR";
    case G_LOG_LEVEL_CRITICAL: return "CRITICAL";
    case G_LOG_LEVEL_WARNING: return "WARNING";
    case G_LOG_LEVEL_MESSAGE: return "Message";
    case G_LOG_LEVEL_INFO: return "INFO";
    default: return "DEBUG";
    }
}

static GLogWriterOutput
banger_log_writer (GLogLevelFlags   level,
                   const GLogField *fields,
                   gsize            n_fields,
                   gpointer         user_data)
{
  const char *op_id = banger_op_current_id ();
  const char *domain = NULL;
  const char *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0)
        domain = fields[i].value;
      else if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
        message = fields[i].value;
    }

  /* Honour G_MESSAGES_DEBUG like the default writer. */
  if (g_log_writer_default_would_drop (level, domain))
    return G_LOG_WRITER_HANDLED;

  if (g_log_writer_is_journald (fileno (stderr)))
    {
      g_autofree GLogField *all = g_new (GLogField, n_fields + 1);

      memcpy (all, fields, n_fields * sizeof (GLogField));
      all[n_fields] = (GLogField) { "OP_ID", op_id ? op_id : "-", -1 };
      if (g_log_writer_journald (level, all, n_fields + 1, user_data) == G_LOG_WRITER_HANDLED)
        return G_LOG_WRITER_HANDLED;
    }

  fprintf (stderr, "%s[%d]: %s %s%s%s%s: %s\n",
           g_get_prgname () ? g_get_prgname () : "banger", (int) getpid (),
           level_name (level), domain ? domain : "",
           op_id ? " [" : "", op_id ? op_id : "", op_id ? "]" : "",
           message ? message : "");
  fflush (stderr);
  return G_LOG_WRITER_HANDLED;
}

void
banger_log_init (void)
{
  g_log_set_writer_func (banger_log_writer, NULL, NULL);
}
