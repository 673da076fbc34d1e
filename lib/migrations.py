"""Helpers for migrations that move models from one app to another without touching a row."""

from django.db import migrations


def move_content_types(old_app: str, new_app: str, models: list[str]) -> migrations.RunPython:
    """Point the moved models' content types at their new app, so permissions granted on them
    and admin log entries follow the models instead of being orphaned."""

    def forwards(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        for model in models:
            if not ContentType.objects.filter(app_label=new_app, model=model).exists():
                ContentType.objects.filter(app_label=old_app, model=model).update(
                    app_label=new_app)

    def backwards(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        ContentType.objects.filter(app_label=new_app, model__in=models).update(app_label=old_app)

    return migrations.RunPython(forwards, backwards)
