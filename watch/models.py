"""Health and replication samples, health changes and the pollers' own state (DESIGN §4).

"No data" is the absence of a row, never a zero. Samples are unique per minute so polling the
same minutes again updates them instead of adding rows."""

from datetime import timedelta

from django.db import models
from django.utils import timezone


def is_healthy(status: float) -> bool:
    """The one health rule: HealthCheckStatus (the minute's minimum, 1 or 0) says healthy."""
    return status >= 0.5


class HealthSample(models.Model):
    """One minute of a region's Route 53 health check, as CloudWatch reports it."""

    region = models.ForeignKey(
        "regions.Region", on_delete=models.CASCADE, related_name="health_samples"
    )
    at = models.DateTimeField(help_text="Start of the one-minute period.")
    status = models.FloatField(
        null=True, blank=True, help_text="HealthCheckStatus, Minimum over the minute: 1 or 0."
    )
    percentage_healthy = models.FloatField(
        null=True, blank=True, help_text="HealthCheckPercentageHealthy: share of checkers."
    )

    class Meta:
        ordering = ["region", "-at"]
        constraints = [
            # Also the index behind "latest sample per region" and the 24 h range scans.
            models.UniqueConstraint(fields=["region", "at"], name="health_sample_one_per_minute"),
        ]
        indexes = [models.Index(fields=["at"], name="health_sample_at")]

    def __str__(self) -> str:
        return f"{self.region_id} {self.at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def healthy(self) -> bool | None:
        return None if self.status is None else is_healthy(self.status)


class HealthChange(models.Model):
    """A region's health flipped at `at` (the first minute with the new status)."""

    region = models.ForeignKey(
        "regions.Region", on_delete=models.CASCADE, related_name="health_changes"
    )
    at = models.DateTimeField()
    healthy = models.BooleanField()
    previous = models.BooleanField(null=True, blank=True, help_text="None: first reading.")

    class Meta:
        ordering = ["region", "-at"]
        constraints = [
            models.UniqueConstraint(fields=["region", "at"], name="health_change_one_per_minute"),
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {'healthy' if self.healthy else 'unhealthy'} since {self.at}"


class ReplicationSample(models.Model):
    """One minute of DynamoDB ReplicationLatency from `source` to `receiving` (milliseconds)."""

    application = models.ForeignKey(
        "regions.Application", on_delete=models.CASCADE, related_name="replication_samples"
    )
    source = models.CharField(max_length=32)
    receiving = models.CharField(max_length=32)
    at = models.DateTimeField(help_text="Start of the one-minute period.")
    latency_ms = models.FloatField()

    class Meta:
        ordering = ["application", "source", "receiving", "-at"]
        constraints = [
            # Also the index behind "latest sample per pair".
            models.UniqueConstraint(
                fields=["application", "source", "receiving", "at"],
                name="replication_sample_one_per_minute",
            ),
        ]
        indexes = [models.Index(fields=["at"], name="replication_sample_at")]

    def __str__(self) -> str:
        return f"{self.source}->{self.receiving} {self.at:%Y-%m-%d %H:%M} {self.latency_ms} ms"


class ReplicationRollup(models.Model):
    """An hour of one pair's samples, so 24 h sparklines read 24 rows a pair, not 1440."""

    application = models.ForeignKey(
        "regions.Application", on_delete=models.CASCADE, related_name="replication_rollups"
    )
    source = models.CharField(max_length=32)
    receiving = models.CharField(max_length=32)
    bucket = models.DateTimeField(help_text="Start of the hour.")
    avg_ms = models.FloatField()
    max_ms = models.FloatField()
    samples = models.PositiveIntegerField()

    class Meta:
        ordering = ["application", "source", "receiving", "bucket"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "source", "receiving", "bucket"],
                name="replication_rollup_one_per_hour",
            ),
        ]
        indexes = [
            models.Index(fields=["application", "bucket"], name="replication_rollup_app_time"),
            models.Index(fields=["bucket"], name="replication_rollup_bucket"),
        ]

    def __str__(self) -> str:
        return f"{self.source}->{self.receiving} {self.bucket:%Y-%m-%d %H:00} {self.avg_ms} ms"


class PollState(models.Model):
    """What one poll source (health, replication from a region, replicas) last did.

    Keys: "health" (or "health:<role hash>"), "replication:<app>:<source>", "replicas:<app>"."""

    key = models.CharField(max_length=200, unique=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key

    @property
    def failing(self) -> bool:
        """The latest attempt failed."""
        if self.last_error_at is None:
            return False
        return self.last_success_at is None or self.last_error_at >= self.last_success_at

    def behind(self, interval: float, now=None) -> bool:
        """No successful poll for three intervals (or ever)."""
        now = now or timezone.now()
        return (self.last_success_at is None
                or now - self.last_success_at > timedelta(seconds=3 * interval))

    def is_stale(self, interval: float, now=None) -> bool:
        """The data behind this source cannot be trusted as current."""
        return self.failing or self.behind(interval, now)

    def stale_reason(self, interval: float, now=None) -> str:
        now = now or timezone.now()
        if self.failing:
            return self.last_error or "the last poll failed"
        if self.last_success_at is None:
            return "not polled yet"
        if self.behind(interval, now):
            return f"no successful poll since {self.last_success_at:%H:%M:%S} UTC"
        return ""


class HealthProbe(models.Model):
    """Meridian's own latest look at a region's health endpoint: a second opinion to Route 53,
    within seconds. One row per region, so it never grows."""

    region = models.OneToOneField("regions.Region", on_delete=models.CASCADE,
                                  related_name="probe")
    checked_at = models.DateTimeField()
    ok = models.BooleanField()
    since = models.DateTimeField(help_text="When `ok` last changed.")
    failures = models.PositiveIntegerField(default=0, help_text="Failed probes in a row.")
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    simulated = models.BooleanField(
        default=False, help_text="Read from the sandbox's injected faults, not over HTTPS.")

    class Meta:
        ordering = ["region"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ok=False) | models.Q(failures=0),
                                   name="health_probe_ok_has_no_failures"),
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {'ok' if self.ok else 'failing'} at {self.checked_at}"
