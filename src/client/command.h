/* command.h: the CLI's dispatch tables (groups of commands) and the shared
 * plumbing every command uses: option parsing, --help, usage errors. */
#pragma once

#include <stdio.h>

#include <glib.h>

G_BEGIN_DECLS

/* Exit statuses, documented in docs/cli.md. */
#define BANGER_EXIT_OK      0
#define BANGER_EXIT_FAILED  1   /* the operation failed (daemon, bus, input rejected by the daemon) */
#define BANGER_EXIT_USAGE   2   /* the command line is wrong; nothing was done */
/* After Ctrl-C, as shells report a SIGINT death (128 + 2). */
#define BANGER_EXIT_INTERRUPTED 130

typedef struct _BangerCommand      BangerCommand;
typedef struct _BangerCommandGroup BangerCommandGroup;

/* A handler gets its own argv: argv[0] is the command's name. */
typedef int (*BangerCommandFunc) (const BangerCommandGroup *group,
                                  const BangerCommand      *command,
                                  int                       argc,
                                  char                    **argv);

struct _BangerCommand {
  const char         *name;
  const char         *arguments;    /* synopsis after the name, e.g. "NAME"; may be NULL */
  const char         *summary;      /* one line, N_()-marked */
  const char         *description;  /* paragraph for --help, N_()-marked */
  BangerCommandFunc   run;
};

struct _BangerCommandGroup {
  const char          *name;
  const char          *summary;
  const char          *description;
  const BangerCommand *commands;    /* terminated by an entry with name == NULL */
};

extern const BangerCommandGroup banger_vm_group;
extern const BangerCommandGroup banger_daemon_group;
extern const BangerCommandGroup banger_image_group;   /* cmd-image.c */
extern const BangerCommandGroup banger_kernel_group;  /* cmd-image.c */

int      banger_group_dispatch      (const BangerCommandGroup *group,
                                     int                       argc,
                                     char                    **argv);
const BangerCommand *
         banger_group_find          (const BangerCommandGroup *group,
                                     const char               *name);
void     banger_group_print_help    (const BangerCommandGroup *group,
                                     FILE                     *stream);

/* Parses @argv in place against @options (NULL-terminated, may be NULL;
 * -h/--help is added) and checks that between @min_args and @max_args
 * operands remain. Returns TRUE when the handler should go on; otherwise
 * help or a usage error has been printed and *exit_status says how to
 * leave. The options live in the handler so their storage is local. */
gboolean banger_command_parse       (const BangerCommandGroup *group,
                                     const BangerCommand      *command,
                                     const GOptionEntry       *options,
                                     int                      *argc,
                                     char                   ***argv,
                                     guint                     min_args,
                                     guint                     max_args,
                                     int                      *exit_status);

/* "banger: MESSAGE" + "Try 'banger GROUP [COMMAND] --help'." on stderr;
 * returns BANGER_EXIT_USAGE. @command may be NULL, @group too. */
int      banger_usage_error         (const BangerCommandGroup *group,
                                     const BangerCommand      *command,
                                     const char               *format,
                                     ...) G_GNUC_PRINTF (3, 4);

/* "banger: MESSAGE" on stderr; returns BANGER_EXIT_FAILED. */
int      banger_fail                (const GError             *error);

G_END_DECLS
