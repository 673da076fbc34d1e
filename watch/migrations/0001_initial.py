"""Models that lived in the regions app move here with their rows (see regions 0006)."""

import django.db.models.deletion
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
                    name='PollState',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('key', models.CharField(max_length=200, unique=True)),
                        ('last_attempt_at', models.DateTimeField(blank=True, null=True)),
                        ('last_success_at', models.DateTimeField(blank=True, null=True)),
                        ('last_error_at', models.DateTimeField(blank=True, null=True)),
                        ('last_error', models.TextField(blank=True)),
                        ('error_code', models.CharField(blank=True, max_length=64)),
                        ('detail', models.JSONField(blank=True, default=dict)),
                    ],
                    options={
                        'db_table': 'regions_pollstate',
                        'ordering': ['key'],
                    },
                ),
                migrations.CreateModel(
                    name='HealthChange',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('at', models.DateTimeField()),
                        ('healthy', models.BooleanField()),
                        ('previous', models.BooleanField(blank=True, help_text='None: first reading.', null=True)),
                        ('region', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='health_changes', to='regions.region')),
                    ],
                    options={
                        'db_table': 'regions_healthchange',
                        'ordering': ['region', '-at'],
                        'constraints': [models.UniqueConstraint(fields=('region', 'at'), name='health_change_one_per_minute')],
                    },
                ),
                migrations.CreateModel(
                    name='HealthSample',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('at', models.DateTimeField(help_text='Start of the one-minute period.')),
                        ('status', models.FloatField(blank=True, help_text='HealthCheckStatus, Minimum over the minute: 1 or 0.', null=True)),
                        ('percentage_healthy', models.FloatField(blank=True, help_text='HealthCheckPercentageHealthy: share of checkers.', null=True)),
                        ('region', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='health_samples', to='regions.region')),
                    ],
                    options={
                        'db_table': 'regions_healthsample',
                        'ordering': ['region', '-at'],
                        'indexes': [models.Index(fields=['at'], name='health_sample_at')],
                        'constraints': [models.UniqueConstraint(fields=('region', 'at'), name='health_sample_one_per_minute')],
                    },
                ),
                migrations.CreateModel(
                    name='ReplicationRollup',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('source', models.CharField(max_length=32)),
                        ('receiving', models.CharField(max_length=32)),
                        ('bucket', models.DateTimeField(help_text='Start of the hour.')),
                        ('avg_ms', models.FloatField()),
                        ('max_ms', models.FloatField()),
                        ('samples', models.PositiveIntegerField()),
                        ('application', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='replication_rollups', to='regions.application')),
                    ],
                    options={
                        'db_table': 'regions_replicationrollup',
                        'ordering': ['application', 'source', 'receiving', 'bucket'],
                        'indexes': [models.Index(fields=['application', 'bucket'], name='replication_rollup_app_time'), models.Index(fields=['bucket'], name='replication_rollup_bucket')],
                        'constraints': [models.UniqueConstraint(fields=('application', 'source', 'receiving', 'bucket'), name='replication_rollup_one_per_hour')],
                    },
                ),
                migrations.CreateModel(
                    name='ReplicationSample',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('source', models.CharField(max_length=32)),
                        ('receiving', models.CharField(max_length=32)),
                        ('at', models.DateTimeField(help_text='Start of the one-minute period.')),
                        ('latency_ms', models.FloatField()),
                        ('application', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='replication_samples', to='regions.application')),
                    ],
                    options={
                        'db_table': 'regions_replicationsample',
                        'ordering': ['application', 'source', 'receiving', '-at'],
                        'indexes': [models.Index(fields=['at'], name='replication_sample_at')],
                        'constraints': [models.UniqueConstraint(fields=('application', 'source', 'receiving', 'at'), name='replication_sample_one_per_minute')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name='pollstate', table=None),
        migrations.AlterModelTable(name='healthchange', table=None),
        migrations.AlterModelTable(name='healthsample', table=None),
        migrations.AlterModelTable(name='replicationrollup', table=None),
        migrations.AlterModelTable(name='replicationsample', table=None),
        move_content_types('regions', 'watch', ['pollstate', 'healthchange', 'healthsample', 'replicationrollup', 'replicationsample']),
    ]
