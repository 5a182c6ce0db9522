/* cmd-image.c: 'banger image …' and 'banger kernel …': building, listing,
 * showing and deleting registered images, and listing their kernels. The
 * build's Job1 is shown as a progress bar; Ctrl-C cancels it. */
#define G_LOG_DOMAIN "banger-client-image"

#include "config.h"

#include <stdio.h>

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "banger-error.h"
#include "banger-names.h"
#include "banger-size.h"
#include "command.h"
#include "daemon-connection.h"
#include "job-progress.h"
#include "output.h"

#define IMAGE_PATH_BASE "/dev/banger/Daemon1/image"

static int
image_fail (GError     *error,
            const char *name)
{
  banger_error_explain (error);
  if (g_error_matches (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND) && name != NULL)
    banger_error_add_hint (error, _("see 'banger image list'"));
  return banger_fail (error);
}

/* The image and kernel proxies the ObjectManager holds, sorted by name. */
static gint
compare_images (gconstpointer a,
                gconstpointer b)
{
  return g_strcmp0 (banger_image1_get_name (*(BangerImage1 **) a),
                    banger_image1_get_name (*(BangerImage1 **) b));
}

static GPtrArray *
list_images (BangerDaemon *daemon)
{
  GPtrArray *images = g_ptr_array_new_with_free_func (g_object_unref);
  GList *objects = g_dbus_object_manager_get_objects (daemon->objects);

  for (GList *l = objects; l != NULL; l = l->next)
    {
      BangerImage1 *image = banger_object_get_image1 (BANGER_OBJECT (l->data));

      if (image != NULL)
        g_ptr_array_add (images, image);
    }
  g_list_free_full (objects, g_object_unref);
  g_ptr_array_sort (images, compare_images);
  return images;
}

static BangerKernel1 *
find_kernel (BangerDaemon *daemon,
             const char   *path)
{
  g_autoptr(GDBusObject) object = g_dbus_object_manager_get_object (daemon->objects, path);

  return object != NULL ? banger_object_get_kernel1 (BANGER_OBJECT (object)) : NULL;
}

static JsonNode *
image_to_json (BangerDaemon *daemon,
               BangerImage1 *image)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(BangerKernel1) kernel = find_kernel (daemon, banger_image1_get_kernel (image));
  g_autofree char *created = banger_format_time_iso (banger_image1_get_created_at (image));

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, banger_image1_get_name (image));
  json_builder_set_member_name (b, "digest");
  json_builder_add_string_value (b, banger_image1_get_digest (image));
  json_builder_set_member_name (b, "path");
  json_builder_add_string_value (b, banger_image1_get_path (image));
  json_builder_set_member_name (b, "size");
  json_builder_add_int_value (b, (gint64) banger_image1_get_size (image));
  json_builder_set_member_name (b, "kernel_release");
  json_builder_add_string_value (b, banger_image1_get_kernel_release (image));
  banger_json_add_string_or_null (b, "kernel_digest",
                                  kernel != NULL ? banger_kernel1_get_digest (kernel) : NULL);
  banger_json_add_string_or_null (b, "kernel_path",
                                  kernel != NULL ? banger_kernel1_get_path (kernel) : NULL);
  banger_json_add_string_or_null (b, "kernel_elf_path",
                                  kernel != NULL ? banger_kernel1_get_elf_path (kernel) : NULL);
  json_builder_set_member_name (b, "overlay_capable");
  json_builder_add_boolean_value (b, banger_image1_get_overlay_capable (image));
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, banger_image1_get_source (image));
  json_builder_set_member_name (b, "created_at");
  json_builder_add_string_value (b, created);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static char *
render_image (BangerDaemon *daemon,
              BangerImage1 *image)
{
  g_autoptr(BangerKernel1) kernel = find_kernel (daemon, banger_image1_get_kernel (image));
  g_autofree char *size = banger_size_format (banger_image1_get_size (image));
  g_autofree char *created = banger_format_time_local (banger_image1_get_created_at (image), TRUE);
  return banger_render_fields (
    _("Name"), banger_image1_get_name (image),
    _("Digest"), banger_image1_get_digest (image),
    _("File"), banger_image1_get_path (image),
    _("Size"), size,
    _("Kernel"), banger_image1_get_kernel_release (image),
    _("Kernel file"), kernel != NULL ? banger_kernel1_get_path (kernel) : "-",
    _("ELF kernel"), kernel != NULL ? banger_kernel1_get_elf_path (kernel) : "-",
    _("Source"), banger_image1_get_source (image),
    _("Created"), created,
    NULL);
}

static JsonNode *
image_list_to_json (BangerDaemon *daemon,
                    GPtrArray    *images)
{
  g_autoptr(JsonArray) array = json_array_new ();
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);

  for (guint i = 0; i < images->len; i++)
    json_array_add_element (array, image_to_json (daemon, images->pdata[i]));
  json_node_set_array (node, array);
  return node;
}

static char *
render_image_list (GPtrArray *images)
{
  g_autoptr(BangerTable) table = NULL;

  if (images->len == 0)
    return g_strdup_printf ("%s\n", _("No images. Build one with 'banger image build'."));
  table = banger_table_new (4, _("NAME"), _("KERNEL"), _("SIZE"), _("DIGEST"));
  for (guint i = 0; i < images->len; i++)
    {
      BangerImage1 *image = images->pdata[i];
      g_autofree char *size = banger_size_format (banger_image1_get_size (image));
      g_autofree char *digest = g_strndup (banger_image1_get_digest (image), 7 + 12);

      banger_table_add_row (table, banger_image1_get_name (image),
                            banger_image1_get_kernel_release (image), size, digest);
    }
  return banger_table_render (table);
}

static gboolean
finish_build (GObject       *source,
              GAsyncResult  *result,
              gpointer       user_data,
              GError       **error)
{
  char **path = user_data;

  return banger_manager1_call_build_image_finish (BANGER_MANAGER1 (source), path, result, error);
}

static int
image_build_run (const BangerCommandGroup *group,
                 const BangerCommand      *command,
                 int                       argc,
                 char                    **argv)
{
  gboolean json = FALSE;
  const GOptionEntry options[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the new image as JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(BangerDaemon) daemon = NULL;
  g_autoptr(BangerJobProgress) progress = NULL;
  g_autoptr(GDBusObject) object = NULL;
  g_autofree char *object_path = NULL;
  g_autofree char *path = NULL;
  g_autofree char *label = NULL, *cancelling = NULL, *abandoning = NULL;
  BangerJobProgressText text;
  const char *name;
  int status;

  if (!banger_command_parse (group, command, options, &argc, &argv, 0, 1, &status))
    return status;
  name = argc > 1 ? argv[1] : "default";
  if (!banger_vm_name_validate (name, &error))
    return banger_usage_error (group, command, _("“%s” is not a valid image name"), name);
  daemon = banger_daemon_connect (&error);
  if (daemon == NULL)
    return banger_fail (error);

  /* Translators: before the progress bar of 'banger image build', e.g. "Building default". */
  label = g_strdup_printf (_("Building %s"), name);
  cancelling = g_strdup_printf (_("banger: Cancelling the build of image “%s”; waiting for bangerd to undo "
                                  "it (press Ctrl-C again to stop waiting)…\n"), name);
  abandoning = g_strdup_printf (_("banger: Not waiting any longer; bangerd goes on undoing the build "
                                  "of “%s”.\n"), name);
  object_path = banger_object_path_for (IMAGE_PATH_BASE, name);
  /* No "finished anyway" line: the result printed next says it. */
  text = (BangerJobProgressText) { label, cancelling, abandoning, NULL };
  progress = banger_job_progress_new (daemon->objects, object_path, &text, NULL, NULL);
  /* A build downloads and unpacks; Ctrl-C is the way out, not a timeout. */
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (daemon->manager), G_MAXINT);
  banger_manager1_call_build_image (daemon->manager, name, g_variant_new ("a{sv}", NULL),
                                    NULL, banger_job_progress_call_done,
                                    banger_job_progress_ref (progress));
  status = banger_job_progress_wait (progress, finish_build, &path, &error);
  if (g_error_matches (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS))
    {
      g_autofree char *hint = g_strdup_printf (_("delete it first with 'banger image delete %s'"), name);
      banger_error_explain (error);
      banger_error_add_hint (error, hint);
      return banger_fail (error);
    }
  if (error != NULL)
    return image_fail (error, NULL);
  if (status != BANGER_EXIT_OK)
    return status;

  object = g_dbus_object_manager_get_object (daemon->objects, path);
  if (object == NULL || banger_object_peek_image1 (BANGER_OBJECT (object)) == NULL)
    {
      g_set_error (&error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("The image “%s” was built but bangerd does not show it"), name);
      return banger_fail (error);
    }
  if (json)
    {
      g_autoptr(JsonNode) node = image_to_json (daemon, banger_object_peek_image1 (BANGER_OBJECT (object)));
      banger_json_print (node);
    }
  else
    printf (_("Built image “%s” (kernel %s).\n"), name,
            banger_image1_get_kernel_release (banger_object_peek_image1 (BANGER_OBJECT (object))));
  return BANGER_EXIT_OK;
}

static int
image_list_run (const BangerCommandGroup *group,
                const BangerCommand      *command,
                int                       argc,
                char                    **argv)
{
  gboolean json = FALSE;
  const GOptionEntry options[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the images as a JSON array"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(BangerDaemon) daemon = NULL;
  g_autoptr(GPtrArray) images = NULL;
  int status;

  if (!banger_command_parse (group, command, options, &argc, &argv, 0, 0, &status))
    return status;
  daemon = banger_daemon_connect (&error);
  if (daemon == NULL)
    return banger_fail (error);
  images = list_images (daemon);
  banger_print_json_or_text (json, image_list_to_json (daemon, images), render_image_list (images));
  return BANGER_EXIT_OK;
}

static BangerImage1 *
find_image (BangerDaemon *daemon,
            const char   *name,
            GError      **error)
{
  g_autofree char *path = NULL;
  g_autoptr(GDBusObject) object = NULL;

  if (!banger_manager1_call_get_image_sync (daemon->manager, name, &path, NULL, error))
    return NULL;
  object = g_dbus_object_manager_get_object (daemon->objects, path);
  if (object == NULL || banger_object_peek_image1 (BANGER_OBJECT (object)) == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, _("There is no image named “%s”"), name);
      return NULL;
    }
  return banger_object_get_image1 (BANGER_OBJECT (object));
}

static int
image_show_run (const BangerCommandGroup *group,
                const BangerCommand      *command,
                int                       argc,
                char                    **argv)
{
  gboolean json = FALSE;
  const GOptionEntry options[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the image as JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(BangerDaemon) daemon = NULL;
  g_autoptr(BangerImage1) image = NULL;
  int status;

  if (!banger_command_parse (group, command, options, &argc, &argv, 1, 1, &status))
    return status;
  daemon = banger_daemon_connect (&error);
  if (daemon == NULL)
    return banger_fail (error);
  image = find_image (daemon, argv[1], &error);
  if (image == NULL)
    return image_fail (error, argv[1]);
  banger_print_json_or_text (json, image_to_json (daemon, image), render_image (daemon, image));
  return BANGER_EXIT_OK;
}

static int
image_delete_run (const BangerCommandGroup *group,
                  const BangerCommand      *command,
                  int                       argc,
                  char                    **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BangerDaemon) daemon = NULL;
  g_autoptr(BangerImage1) image = NULL;
  int status;

  if (!banger_command_parse (group, command, NULL, &argc, &argv, 1, 1, &status))
    return status;
  daemon = banger_daemon_connect (&error);
  if (daemon == NULL)
    return banger_fail (error);
  image = find_image (daemon, argv[1], &error);
  if (image == NULL || !banger_image1_call_delete_sync (image, NULL, &error))
    return image_fail (error, argv[1]);
  printf (_("Deleted image “%s”.\n"), argv[1]);
  return BANGER_EXIT_OK;
}

static int
kernel_list_run (const BangerCommandGroup *group,
                 const BangerCommand      *command,
                 int                       argc,
                 char                    **argv)
{
  gboolean json = FALSE;
  const GOptionEntry options[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the kernels as a JSON array"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(BangerDaemon) daemon = NULL;
  g_autoptr(BangerTable) table = NULL;
  g_autoptr(JsonArray) array = json_array_new ();
  JsonNode *node;
  GList *objects;
  guint n = 0;
  int status;

  if (!banger_command_parse (group, command, options, &argc, &argv, 0, 0, &status))
    return status;
  daemon = banger_daemon_connect (&error);
  if (daemon == NULL)
    return banger_fail (error);

  table = banger_table_new (3, _("RELEASE"), _("DIGEST"), _("ELF KERNEL"));
  objects = g_dbus_object_manager_get_objects (daemon->objects);
  for (GList *l = objects; l != NULL; l = l->next)
    {
      BangerKernel1 *kernel = banger_object_peek_kernel1 (BANGER_OBJECT (l->data));
      g_autoptr(JsonBuilder) b = NULL;
      g_autofree char *digest = NULL, *created = NULL;

      if (kernel == NULL)
        continue;
      n++;
      digest = g_strndup (banger_kernel1_get_digest (kernel), 7 + 12);
      banger_table_add_row (table, banger_kernel1_get_release (kernel), digest,
                            banger_kernel1_get_elf_path (kernel));
      b = json_builder_new ();
      created = banger_format_time_iso (banger_kernel1_get_created_at (kernel));
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "release");
      json_builder_add_string_value (b, banger_kernel1_get_release (kernel));
      json_builder_set_member_name (b, "digest");
      json_builder_add_string_value (b, banger_kernel1_get_digest (kernel));
      json_builder_set_member_name (b, "path");
      json_builder_add_string_value (b, banger_kernel1_get_path (kernel));
      json_builder_set_member_name (b, "elf_path");
      json_builder_add_string_value (b, banger_kernel1_get_elf_path (kernel));
      json_builder_set_member_name (b, "modules_path");
      json_builder_add_string_value (b, banger_kernel1_get_modules_path (kernel));
      json_builder_set_member_name (b, "created_at");
      json_builder_add_string_value (b, created);
      json_builder_end_object (b);
      json_array_add_element (array, json_builder_get_root (b));
    }
  g_list_free_full (objects, g_object_unref);

  node = json_node_new (JSON_NODE_ARRAY);
  json_node_set_array (node, array);
  banger_print_json_or_text (json, node,
                             n == 0 ? g_strdup_printf ("%s\n", _("No kernels. 'banger image build' registers one with its image."))
                                    : banger_table_render (table));
  return BANGER_EXIT_OK;
}

static const BangerCommand image_commands[] = {
  { "build", N_("[NAME]"), N_("Build a small image from Debian packages"),
    N_("Builds an image named NAME (default: “default”) offline from Debian\n"
       "packages: the cloud kernel and busybox-static, fetched with apt-get\n"
       "download into ~/.cache/banger/debs (or taken from the directory set as\n"
       "[images] debs in the config file). The image has no init: banger's guest\n"
       "agent runs as PID 1. VMs use the image named “default” when no image is\n"
       "given or configured. Ctrl-C cancels the build and undoes it."),
    image_build_run },
  { "list", NULL, N_("List the registered images"),
    N_("Lists every registered image with its kernel, size and digest."),
    image_list_run },
  { "show", N_("NAME"), N_("Show an image"),
    N_("Shows an image's file, size, digest, kernel and where it came from."),
    image_show_run },
  { "delete", N_("NAME"), N_("Delete an image"),
    N_("Unregisters an image; its file goes when no other image shares it, and\n"
       "its kernel when no other image uses it. Refused while a VM boots from it."),
    image_delete_run },
  { NULL }
};

const BangerCommandGroup banger_image_group = {
  "image",
  N_("Build, list, show and delete root images"),
  N_("Root images are read-only ext4 files that VMs boot with their kernel;\n"
     "banger keeps them content-addressed in ~/.local/share/banger/images."),
  image_commands,
};

static const BangerCommand kernel_commands[] = {
  { "list", NULL, N_("List the registered kernels"),
    N_("Lists the kernels registered with images: release, digest and the ELF\n"
       "kernel file Firecracker boots."),
    kernel_list_run },
  { NULL }
};

const BangerCommandGroup banger_kernel_group = {
  "kernel",
  N_("List guest kernels"),
  N_("Guest kernels come with images ('banger image build') and stay while an\n"
     "image uses them."),
  kernel_commands,
};
