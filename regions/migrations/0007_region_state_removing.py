"""A region on its way out is 'removing', not 'draining': draining is what traffic control
does to a region that stays."""

from django.db import migrations, models

STATES = ["planned", "provisioning", "active", "removing", "removed", "failed"]


def rename(old: str, new: str):
    def run(apps, schema_editor):
        apps.get_model("regions", "Region").objects.filter(state=old).update(state=new)

    return run


class Migration(migrations.Migration):
    dependencies = [("regions", "0006_models_move_to_their_apps")]

    operations = [
        migrations.RemoveConstraint(model_name="region", name="region_state_valid"),
        migrations.RunPython(rename("draining", "removing"), rename("removing", "draining")),
        migrations.AlterField(
            model_name="region",
            name="state",
            field=models.CharField(
                choices=[("planned", "Planned"), ("provisioning", "Provisioning"),
                         ("active", "Active"), ("removing", "Removing"), ("removed", "Removed"),
                         ("failed", "Failed")],
                default="planned", max_length=16),
        ),
        migrations.AddConstraint(
            model_name="region",
            constraint=models.CheckConstraint(condition=models.Q(state__in=STATES),
                                              name="region_state_valid"),
        ),
    ]
