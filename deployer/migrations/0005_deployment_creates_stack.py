

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('deployer', '0004_bootstrap_and_stack_needs'),
    ]

    operations = [
        migrations.AddField(
            model_name='deployment',
            name='creates_stack',
            field=models.BooleanField(default=False, help_text='The change set creates the stack (its first deploy).'),
        ),
    ]
