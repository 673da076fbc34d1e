"""Models that lived in the regions app move here with their rows (see regions 0006)."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

from lib.migrations import move_content_types


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('regions', '0005_sandbox_fault'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        # The tables exist since the regions app's migrations: take them over in the state
        # only, then give them this app's names. No row is copied.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='SandboxFault',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('outage', 'Outage'), ('lag', 'Replication lag')], max_length=8)),
                        ('started_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('started_by', models.CharField(blank=True, max_length=150)),
                        ('region', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sandbox_faults', to='regions.region')),
                    ],
                    options={
                        'db_table': 'regions_sandboxfault',
                        'ordering': ['region', 'kind'],
                        'constraints': [models.UniqueConstraint(fields=('region', 'kind'), name='sandbox_fault_once_per_kind', violation_error_message='This fault is already simulated for the region.')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name='sandboxfault', table=None),
        move_content_types('regions', 'sandbox', ['sandboxfault']),
    ]
