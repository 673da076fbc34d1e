"""Alerts: where messages go (channels), when (rules per application), when not (maintenance
windows), and what happened (incidents, their notices, and every delivery and attempt)."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from regions.models import Application

from .sender import mask_url


class Event(models.TextChoices):
    REGION_UNHEALTHY = "region_unhealthy", "Region unhealthy"
    REPLICATION_LAG = "replication_lag", "Replication lag"
    NO_DATA = "no_data", "No data"
    REPLICA_STATUS = "replica_status", "Replica not active"
    ROLLOUT_FAILED = "rollout_failed", "Rollout failed"
    ROLLOUT_WAITING = "rollout_waiting", "Rollout waiting for confirmation"
    ROLLOUT_SUCCEEDED = "rollout_succeeded", "Rollout succeeded"
    REGION_DRAINED = "region_drained", "Region drained"
    REGION_RESTORED = "region_restored", "Region restored"
    REGION_FORCED = "region_forced", "Region forced to serve"
    DRILL_STARTED = "drill_started", "Drill started"
    DRILL_ENDED = "drill_ended", "Drill ended"
    ROUTING_DRIFT = "routing_drift", "Routing check differs from traffic state"


# Failures a maintenance window quiets; rollouts are the operators' own acts and always go out.
QUIETED_BY_WINDOWS = (Event.REGION_UNHEALTHY, Event.REPLICATION_LAG, Event.NO_DATA,
                      Event.REPLICA_STATUS, Event.ROUTING_DRIFT)


class Channel(models.Model):
    """A notification target: an apprise URL. The URL holds secrets and is never shown back."""

    name = models.CharField(max_length=100, help_text="What people call it, e.g. ops-slack.")
    url = models.TextField(
        help_text="An apprise URL, e.g. slack://…, mailto://…, json://host/path. Kept secret: "
                  "only its scheme and host are ever shown.")
    applications = models.JSONField(
        default=list, blank=True, help_text="Application slugs it hears about; empty: all.")
    events = models.JSONField(
        default=list, blank=True, help_text="Events it hears about; empty: all.")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["name"], name="channel_name_unique",
                                    violation_error_message="A channel with this name exists."),
        ]

    def __str__(self) -> str:
        return self.name  # never the URL: this lands in the audit trail

    @property
    def masked_url(self) -> str:
        return mask_url(self.url)

    def wants(self, slug: str, event: str) -> bool:
        return self.enabled and (not self.applications or slug in self.applications) and (
            not self.events or event in self.events)

    def audit_snapshot(self) -> dict:
        return {"name": self.name, "url": self.masked_url, "applications": self.applications,
                "events": self.events, "enabled": self.enabled}


class AlertRules(models.Model):
    """When an application's state becomes an incident; an application without a row uses the
    field defaults."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE,
                                       related_name="alert_rules")
    unhealthy_polls = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="Polls in a row a region (or a replica) must be unhealthy before the message, "
                  "and healthy again before the recovery (1-20).")
    lag_threshold_ms = models.PositiveIntegerField(
        default=10_000, validators=[MinValueValidator(1), MaxValueValidator(86_400_000)],
        help_text="Replication lag of a pair, in milliseconds, that counts as too high.")
    lag_minutes = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(1440)],
        help_text="Minutes the lag must stay above the threshold before the message (1-1440).")
    stale_intervals = models.PositiveSmallIntegerField(
        default=4, validators=[MinValueValidator(2), MaxValueValidator(1000)],
        help_text="Poll intervals without a successful read of a source before 'no data' "
                  "(2-1000).")
    traffic_notices = models.BooleanField(
        default=True, help_text="Tell drains, restores and forces of a region.")
    drill_notices = models.BooleanField(
        default=True, help_text="Tell drills started and ended, with their measured times.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(unhealthy_polls__gte=1, unhealthy_polls__lte=20),
                                   name="alert_rules_unhealthy_polls_range"),
            models.CheckConstraint(condition=Q(lag_threshold_ms__gte=1),
                                   name="alert_rules_lag_threshold_positive"),
            models.CheckConstraint(condition=Q(lag_minutes__gte=1, lag_minutes__lte=1440),
                                   name="alert_rules_lag_minutes_range"),
            models.CheckConstraint(condition=Q(stale_intervals__gte=2),
                                   name="alert_rules_stale_intervals_min"),
        ]

    def __str__(self) -> str:
        return f"alert rules of {self.application.slug}"

    def audit_snapshot(self) -> dict:
        return {name: getattr(self, name) for name in RULE_FIELDS}


RULE_FIELDS = ("unhealthy_polls", "lag_threshold_ms", "lag_minutes", "stale_intervals",
               "traffic_notices", "drill_notices")


class MaintenanceWindow(models.Model):
    """Planned work: failure messages for the regions it covers wait until it ends."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="maintenance_windows")
    regions = models.JSONField(default=list, blank=True,
                               help_text="Region codes it covers; empty: every region.")
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="maintenance_window_ends_after_start",
                violation_error_message="A maintenance window ends after it starts."),
        ]
        indexes = [models.Index(fields=["ends_at"], name="maintenance_window_ends")]

    def __str__(self) -> str:
        return f"maintenance of {self.application.slug}: {self.reason}"

    def is_active(self, at=None) -> bool:
        at = at or timezone.now()
        return self.starts_at <= at < self.ends_at

    def covers(self, codes, *, any_region: bool = False) -> bool:
        """Whether it covers regions `codes` (all of them, or any of them for a pair)."""
        if not self.regions:
            return True
        wanted = set(codes)
        if not wanted:
            return False
        mine = set(self.regions)
        return bool(wanted & mine) if any_region else wanted <= mine

    def audit_snapshot(self) -> dict:
        return {"regions": self.regions, "starts_at": self.starts_at.isoformat(),
                "ends_at": self.ends_at.isoformat(), "reason": self.reason}


class IncidentStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # seen, waiting for confirmation
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"

    @classmethod
    def colour(cls, value: str) -> str:
        return {cls.PENDING: "orange", cls.OPEN: "red", cls.RESOLVED: "green"}.get(value, "grey")


class Incident(models.Model):
    """One problem of one subject (a region, a pair, a poll source, a rollout), from first sight
    to recovery. Derived from stored state, so a cycle missed is caught up by the next one."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="incidents")
    event = models.CharField(max_length=24, choices=Event)
    subject = models.CharField(max_length=200, help_text="Region, pair, poll source or rollout.")
    status = models.CharField(max_length=10, choices=IncidentStatus,
                              default=IncidentStatus.PENDING)
    summary = models.TextField(help_text="What happened, in words.")
    recovery = models.TextField(blank=True, help_text="How it ended, in words.")
    link = models.CharField(max_length=500, blank=True, help_text="Path of the page to look at.")
    detail = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(help_text="Since when, as the evidence says.")
    opened_at = models.DateTimeField(null=True, blank=True)
    announced_at = models.DateTimeField(null=True, blank=True,
                                        help_text="When its message was queued.")
    resolved_at = models.DateTimeField(null=True, blank=True)
    confirmations = models.PositiveSmallIntegerField(
        default=0, help_text="Observations in a row towards opening (pending) or closing (open).")
    observed_at = models.DateTimeField(null=True, blank=True,
                                       help_text="Time of the last evidence counted.")
    suppressed_by = models.ForeignKey(MaintenanceWindow, null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="incidents")
    suppressed_by_drill = models.ForeignKey("traffic.Drill", null=True, blank=True,
                                            on_delete=models.SET_NULL, related_name="+")
    was_suppressed = models.BooleanField(
        default=False, help_text="A maintenance window or a drill held its message.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "event", "subject"], condition=~Q(status="resolved"),
                name="one_live_incident_per_subject",
                violation_error_message="This subject already has an incident."),
        ]
        indexes = [models.Index(fields=["status"], name="incident_status"),
                   models.Index(fields=["event", "subject"], name="incident_event_subject")]

    def __str__(self) -> str:
        return f"{self.application.slug} {self.event} {self.subject}"

    @property
    def status_colour(self) -> str:
        return IncidentStatus.colour(self.status)

    @property
    def ended_unannounced(self) -> bool:
        return self.status == IncidentStatus.RESOLVED and self.announced_at is None


class NoticeKind(models.TextChoices):
    OPENED = "opened", "Problem"
    RESOLVED = "resolved", "Recovered"
    NOTICE = "notice", "Notice"


class Notice(models.Model):
    """The one message about an incident opening, the one about its end, or a one-off notice."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=10, choices=NoticeKind)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "kind"],
                                    name="one_notice_per_incident_and_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.incident}"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    RETRYING = "retrying", "Retrying"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"

    @classmethod
    def colour(cls, value: str) -> str:
        return {cls.QUEUED: "grey", cls.SENDING: "blue", cls.RETRYING: "orange",
                cls.SENT: "green", cls.FAILED: "red"}.get(value, "grey")


WAITING = (DeliveryStatus.QUEUED, DeliveryStatus.RETRYING)
FINISHED = (DeliveryStatus.SENT, DeliveryStatus.FAILED)


class Delivery(models.Model):
    """One message (the notices of one application in one evaluation, or a test) to one
    channel; sent by its own task so a failing channel never delays the others."""

    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="deliveries")
    channel_name = models.CharField(max_length=100)
    application = models.ForeignKey(Application, null=True, blank=True,
                                     on_delete=models.CASCADE, related_name="alert_deliveries")
    notices = models.ManyToManyField(Notice, blank=True, related_name="deliveries")
    is_test = models.BooleanField(default=False)
    title = models.CharField(max_length=250)
    body = models.TextField()
    notify_type = models.CharField(max_length=10, default="info")
    status = models.CharField(max_length=10, choices=DeliveryStatus,
                              default=DeliveryStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "updated_at"], name="delivery_status_time")]

    def __str__(self) -> str:
        return f"delivery {self.pk} to {self.channel_name}"

    @property
    def status_colour(self) -> str:
        return DeliveryStatus.colour(self.status)

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED


class DeliveryAttempt(models.Model):
    """One try at sending a delivery: when, whether it worked, and what went wrong."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField()
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"],
                                    name="one_row_per_delivery_attempt"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {'ok' if self.ok else 'failed'}"
