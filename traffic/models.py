"""Traffic changes: each drain, restore or force of a region, what acted and when."""

from django.db import models
from django.db.models import Q

from regions.models import Application, Region, Traffic


class ChangeStatus(models.TextChoices):
    APPLYING = "applying", "Applying"
    APPLIED = "applied", "Applied"
    FAILED = "failed", "Failed"


class Path(models.TextChoices):
    """Which switch acted: Route 53's threshold (control plane) or the drain alarm's metric
    in the control region (data plane); both when both did."""

    NONE = "", "None"
    ROUTE53 = "route53", "Route 53 threshold"
    CLOUDWATCH = "cloudwatch", "Drain alarm (data plane)"
    BOTH = "both", "Route 53 threshold and drain alarm"


class TrafficChange(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="traffic_changes")
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="traffic_changes")
    from_state = models.CharField(max_length=8, choices=Traffic)
    to_state = models.CharField(max_length=8, choices=Traffic)
    reason = models.CharField(max_length=500, blank=True)
    actor_name = models.CharField(max_length=150)
    source = models.CharField(max_length=16)
    status = models.CharField(max_length=8, choices=ChangeStatus, default=ChangeStatus.APPLYING)
    path = models.CharField(max_length=10, choices=Path, blank=True, default=Path.NONE)
    requested_at = models.DateTimeField()
    route53_at = models.DateTimeField(null=True, blank=True)
    cloudwatch_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    route53_error = models.TextField(blank=True)
    cloudwatch_error = models.TextField(blank=True)
    health_check_version = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            # One traffic change per application at a time.
            models.UniqueConstraint(fields=["application"], condition=Q(status="applying"),
                                    name="one_traffic_change_at_a_time"),
        ]

    def __str__(self) -> str:
        return f"{self.region}: {self.from_state} → {self.to_state}"

    @property
    def seconds_to_route53(self) -> float | None:
        if self.route53_at is None:
            return None
        return (self.route53_at - self.requested_at).total_seconds()


class RoutingReading(models.Model):
    """A region's routing check as the last poll read it (ListHealthChecks), beside what the
    inventory's traffic state wanted then: a difference was made outside Meridian."""

    region = models.OneToOneField(Region, on_delete=models.CASCADE,
                                  related_name="routing_reading")
    threshold = models.PositiveSmallIntegerField(null=True, blank=True)  # None: not found
    traffic = models.CharField(max_length=8, choices=Traffic)  # the state when read
    drift = models.CharField(max_length=300, blank=True)  # "" when as expected
    error = models.TextField(blank=True)  # the read failed: why, in words
    read_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.region}: threshold {self.threshold}"

    def current_drift(self) -> str:
        """The drift, unless the region's traffic changed after the read (wait for the next)."""
        region = self.region
        if self.traffic != region.traffic or (
                region.traffic_changed_at is not None and region.traffic_changed_at > self.read_at):
            return ""
        return self.drift
