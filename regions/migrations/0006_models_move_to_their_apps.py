"""The audit trail and tokens (accounts), samples and poll state (watch) and faults (sandbox)
now belong to their own apps, which took over the tables; here they leave the state only."""

from django.db import migrations

MOVED = ["ApiToken", "AuditEntry", "HealthChange", "HealthSample", "PollState",
         "ReplicationRollup", "ReplicationSample", "SandboxFault"]


class Migration(migrations.Migration):
    dependencies = [
        ("regions", "0005_sandbox_fault"),
        ("accounts", "0001_initial"),
        ("watch", "0001_initial"),
        ("sandbox", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name=name) for name in MOVED],
            database_operations=[],
        ),
    ]
