"""Models that lived in the regions app move here with their rows (see regions 0006)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from lib.migrations import move_content_types


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('regions', '0005_sandbox_fault'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The tables exist since the regions app's migrations: take them over in the state
        # only, then give them this app's names. No row is copied.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ApiToken',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100)),
                        ('key_hash', models.CharField(max_length=64, unique=True)),
                        ('key_prefix', models.CharField(max_length=12)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('last_used_at', models.DateTimeField(blank=True, null=True)),
                        ('revoked_at', models.DateTimeField(blank=True, null=True)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_tokens', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'regions_apitoken',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='AuditEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ('actor_name', models.CharField(help_text='Kept when the user is deleted.', max_length=150)),
                        ('source', models.CharField(choices=[('web', 'Web'), ('api', 'API'), ('admin', 'Admin'), ('cli', 'Command line'), ('system', 'System')], max_length=8)),
                        ('remote_addr', models.GenericIPAddressField(blank=True, null=True)),
                        ('action', models.CharField(db_index=True, max_length=64)),
                        ('object_type', models.CharField(max_length=64)),
                        ('object_id', models.CharField(blank=True, max_length=64)),
                        ('object_repr', models.CharField(max_length=200)),
                        ('application_slug', models.CharField(blank=True, db_index=True, max_length=50)),
                        ('before', models.JSONField(blank=True, null=True)),
                        ('after', models.JSONField(blank=True, null=True)),
                        ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL)),
                        ('application', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='regions.application')),
                    ],
                    options={
                        'db_table': 'regions_auditentry',
                        'verbose_name_plural': 'audit entries',
                        'ordering': ['-created_at', '-id'],
                        'indexes': [models.Index(fields=['actor_name', '-created_at'], name='audit_actor_time')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name='apitoken', table=None),
        migrations.AlterModelTable(name='auditentry', table=None),
        move_content_types('regions', 'accounts', ['apitoken', 'auditentry']),
    ]
