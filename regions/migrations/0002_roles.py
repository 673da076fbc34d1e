from django.db import migrations

ROLES = ("viewer", "operator", "admin")


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def grant_admin_permissions(apps, schema_editor):
    # The admin role may use the Django admin for every model of the project and for users.
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admin = Group.objects.get(name="admin")
    admin.permissions.set(
        Permission.objects.filter(content_type__app_label__in=["regions", "deployer", "auth"])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("regions", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_groups, migrations.RunPython.noop),
        migrations.RunPython(grant_admin_permissions, migrations.RunPython.noop),
    ]
