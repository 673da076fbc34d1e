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


class DrillStatus(models.TextChoices):
    """running: drained, restores by itself; restored: ended as planned; failed: refused,
    not drained, or aborted by an outcome check (then restored at once)."""

    RUNNING = "running", "Running"
    RESTORED = "restored", "Restored"
    FAILED = "failed", "Failed"

    @classmethod
    def colour(cls, value: str) -> str:
        return {cls.RUNNING: "orange", cls.RESTORED: "green", cls.FAILED: "red"}.get(value,
                                                                                       "grey")


MIN_MINUTES = 0.1
MAX_MINUTES = 24 * 60


class DrillSchedule(models.Model):
    """A weekly drill: weekday and time (UTC), region and length; a due drill starts only
    within `window_minutes` of its time, never on a blocked date."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="drill_schedules")
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="drill_schedules")
    weekday = models.PositiveSmallIntegerField(help_text="0 = Monday … 6 = Sunday.")
    at = models.TimeField(help_text="Time of day, UTC.")
    minutes = models.FloatField(default=5)
    window_minutes = models.PositiveIntegerField(
        default=60, help_text="A drill not started within this many minutes of its time (beat "
                              "or workers down) is skipped, never started at an odd hour.")
    blocked_dates = models.JSONField(default=list, blank=True,
                                     help_text="Dates (YYYY-MM-DD, UTC) without a drill.")
    enabled = models.BooleanField(default=True)
    last_on = models.DateField(null=True, blank=True,
                               help_text="The last date it started or skipped a drill.")
    last_note = models.TextField(blank=True)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["application", "weekday", "at"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="drill_schedule_weekday",
                                   violation_error_message="weekday is 0 (Monday) to 6."),
            models.CheckConstraint(condition=Q(minutes__gte=MIN_MINUTES,
                                               minutes__lte=MAX_MINUTES),
                                   name="drill_schedule_minutes_range",
                                   violation_error_message="minutes is 0.1 to 1440."),
        ]

    def __str__(self) -> str:
        return f"weekly drill of {self.region} ({self.weekday} {self.at:%H:%M} UTC)"


class Drill(models.Model):
    """A practice run: a region drained for `minutes`, restored by itself, with measured times.

    The restore is claimed with `restore_requested_at` (compare-and-set), so the countdown task,
    the beat task and an abort never restore twice; a claim older than the restore's time-out
    may be taken again (its worker died)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="drills")
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="drills")
    schedule = models.ForeignKey(DrillSchedule, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="drills")
    minutes = models.FloatField()
    status = models.CharField(max_length=8, choices=DrillStatus, default=DrillStatus.RUNNING)
    actor_name = models.CharField(max_length=150)
    source = models.CharField(max_length=16)
    requested_at = models.DateTimeField()
    ends_at = models.DateTimeField(help_text="When it restores by itself.")
    drained_at = models.DateTimeField(null=True, blank=True,
                                      help_text="Route 53 updated (or the drain alarm set).")
    unhealthy_at = models.DateTimeField(null=True, blank=True,
                                        help_text="Its routing check first seen unhealthy.")
    shifted_at = models.DateTimeField(null=True, blank=True,
                                      help_text="Clients near it first answered elsewhere.")
    restore_requested_at = models.DateTimeField(null=True, blank=True)
    restored_at = models.DateTimeField(null=True, blank=True)
    answers_back_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    drain_change = models.ForeignKey(TrafficChange, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    restore_change = models.ForeignKey(TrafficChange, null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")
    abort_reason = models.TextField(blank=True)
    explanation = models.TextField(blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["application"], condition=Q(status="running"),
                                    name="one_running_drill_per_application"),
            models.CheckConstraint(condition=Q(minutes__gte=MIN_MINUTES,
                                               minutes__lte=MAX_MINUTES),
                                   name="drill_minutes_range"),
        ]
        indexes = [models.Index(fields=["status", "ends_at"], name="drill_status_ends")]

    def __str__(self) -> str:
        return f"drill {self.pk} of {self.region.code}"

    @property
    def status_colour(self) -> str:
        return DrillStatus.colour(self.status)

    @property
    def seconds_to_dns_shift(self) -> float | None:
        """From the request to clients near the region answered by another region."""
        if self.shifted_at is None:
            return None
        return (self.shifted_at - self.requested_at).total_seconds()

    @property
    def seconds_to_restore(self) -> float | None:
        """From the restore request to clients near the region answered by it again."""
        if self.answers_back_at is None or self.restore_requested_at is None:
            return None
        return (self.answers_back_at - self.restore_requested_at).total_seconds()

    def seconds_left(self, now) -> float:
        return max(0.0, (self.ends_at - now).total_seconds())


class Milestone(models.TextChoices):
    REQUESTED = "requested", "Requested"
    ROUTE53_UPDATED = "route53_updated", "Route 53 updated"
    ALARM_SET = "alarm_set", "Drain alarm set"
    ROUTING_UNHEALTHY = "routing_unhealthy", "Routing check reported unhealthy"
    DNS_SHIFTED = "dns_shifted", "DNS answers shifted"
    ABORTED = "aborted", "Aborted"
    RESTORE_REQUESTED = "restore_requested", "Restore requested"
    RESTORED = "restored", "Restored"
    ANSWERS_BACK = "answers_back", "Answers back"
    NOTE = "note", "Note"
    ERROR = "error", "Error"


class DrillEvent(models.Model):
    """One line of a drill's timeline."""

    drill = models.ForeignKey(Drill, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=20, choices=Milestone)
    message = models.TextField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.drill}: {self.kind}"

    def seconds_after(self) -> float:
        return (self.at - self.drill.requested_at).total_seconds()
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
