

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('deployer', '0002_rollout_only_region'),
    ]

    operations = [
        migrations.AddField(
            model_name='rollout',
            name='planned_at',
            field=models.DateTimeField(blank=True, help_text='When every change set of the plan was ready.', null=True),
        ),
    ]
