/* banger-log.h: structured logging with an operation id. Each D-Bus call
 * gets an id that every log line it causes carries (OP_ID field). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _BangerOp BangerOp;

void         banger_log_init     (void);

BangerOp    *banger_op_begin     (GDBusMethodInvocation *invocation);
void         banger_op_end       (BangerOp              *op);
const char  *banger_op_id        (const BangerOp        *op);
const char  *banger_op_current_id (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerOp, banger_op_end)

G_END_DECLS
