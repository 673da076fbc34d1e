"""The inventory: applications, their regions, operators' API tokens and the audit trail."""

import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from . import validators


class Source(models.TextChoices):
    REFERENCE = "reference", "Reference CDK app"
    SANDBOX = "sandbox", "Sandbox app"
    COMMAND = "command", "Own CDK app (command)"


class HealthCheckInterval(models.IntegerChoices):
    STANDARD = 30, "30 seconds"
    FAST = 10, "10 seconds (fast)"


class Application(models.Model):
    slug = models.CharField(
        max_length=50,
        unique=True,
        validators=[validators.validate_slug],
        help_text="Short name used in URLs and stack names, e.g. orders-api.",
    )
    name = models.CharField(max_length=100)
    domain_name = models.CharField(
        max_length=253,
        validators=[validators.validate_domain_name],
        help_text="The API's domain, e.g. api.example.com.",
    )
    hosted_zone_id = models.CharField(
        "hosted zone id", max_length=32, validators=[validators.validate_hosted_zone_id]
    )
    table_name = models.CharField(max_length=255, validators=[validators.validate_table_name])
    main_region = models.CharField(
        max_length=32,
        validators=[validators.validate_region_code],
        help_text="Region that owns the DynamoDB global table.",
    )
    account_id = models.CharField(
        "account id", max_length=12, validators=[validators.validate_account_id]
    )
    role_arn = models.CharField(
        "role ARN",
        max_length=2048,
        blank=True,
        validators=[validators.validate_role_arn],
        help_text="Optional IAM role assumed through STS for every AWS call of this application.",
    )
    stage = models.CharField(max_length=128, default="prod", validators=[validators.validate_stage])
    source = models.CharField(max_length=16, choices=Source, default=Source.REFERENCE)
    command = models.CharField(
        max_length=1000,
        blank=True,
        help_text="For an own CDK app: the command that runs it, e.g. npx ts-node bin/app.ts.",
    )
    workdir = models.CharField(
        max_length=1000, blank=True, help_text="For an own CDK app: the folder it runs in."
    )
    health_check_interval = models.PositiveSmallIntegerField(
        choices=HealthCheckInterval, default=HealthCheckInterval.STANDARD
    )
    failure_threshold = models.PositiveSmallIntegerField(
        default=3,
        validators=[
            MinValueValidator(1),
            MaxValueValidator(10),
        ],
        help_text="Consecutive failed checks before Route 53 calls the region unhealthy (1-10).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("regions:application_detail", args=[self.slug])

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.source == Source.COMMAND and not (self.command or "").strip():
            errors.setdefault("command", []).append(
                "An own CDK app needs the command that runs it."
            )
        if self.source != Source.COMMAND and (self.command or self.workdir):
            errors.setdefault("source", []).append(
                "A command and a working folder only apply to an own CDK app (source: command)."
            )
        if self.role_arn and self.account_id:
            arn_account = self.role_arn.split(":")[4] if self.role_arn.count(":") >= 5 else ""
            if arn_account and arn_account != self.account_id:
                errors.setdefault("role_arn", []).append(
                    f"The role belongs to account {arn_account}, not to the application's "
                    f"account {self.account_id}."
                )
        if errors:
            raise ValidationError(errors)

    def audit_snapshot(self) -> dict:
        return {field: getattr(self, field) for field in APPLICATION_FIELDS}


APPLICATION_FIELDS = (
    "slug",
    "name",
    "domain_name",
    "hosted_zone_id",
    "table_name",
    "main_region",
    "account_id",
    "role_arn",
    "stage",
    "source",
    "command",
    "workdir",
    "health_check_interval",
    "failure_threshold",
)


class RegionRole(models.TextChoices):
    MAIN = "main", "Main"
    REPLICA = "replica", "Replica"


class RegionState(models.TextChoices):
    PLANNED = "planned", "Planned"
    PROVISIONING = "provisioning", "Provisioning"
    ACTIVE = "active", "Active"
    DRAINING = "draining", "Draining"
    REMOVED = "removed", "Removed"
    FAILED = "failed", "Failed"

    @classmethod
    def colour(cls, value: str) -> str:
        return {
            cls.PLANNED: "grey",
            cls.PROVISIONING: "blue",
            cls.ACTIVE: "green",
            cls.DRAINING: "orange",
            cls.REMOVED: "grey",
            cls.FAILED: "red",
        }.get(value, "grey")


# Which lifecycle moves are allowed; anything else is a programming error or a stale request.
STATE_TRANSITIONS: dict[str, set[str]] = {
    RegionState.PLANNED: {RegionState.PROVISIONING, RegionState.REMOVED},
    RegionState.PROVISIONING: {RegionState.ACTIVE, RegionState.FAILED},
    RegionState.ACTIVE: {RegionState.PROVISIONING, RegionState.DRAINING, RegionState.FAILED},
    RegionState.DRAINING: {RegionState.REMOVED, RegionState.FAILED, RegionState.ACTIVE},
    RegionState.FAILED: {RegionState.PROVISIONING, RegionState.DRAINING, RegionState.REMOVED},
    RegionState.REMOVED: {RegionState.PLANNED},
}


class Region(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="regions")
    code = models.CharField(max_length=32, validators=[validators.validate_region_code])
    role = models.CharField(max_length=8, choices=RegionRole, default=RegionRole.REPLICA)
    state = models.CharField(max_length=16, choices=RegionState, default=RegionState.PLANNED)
    stack_name = models.CharField(max_length=128, blank=True)
    health_check_id = models.CharField(max_length=64, blank=True)
    api_url = models.CharField("API URL", max_length=2048, blank=True)
    rest_api_id = models.CharField("REST API id", max_length=64, blank=True)
    outputs = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    state_changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["application", "role", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "code"],
                name="region_code_unique_per_application",
                violation_error_message="This region is already in the application's inventory.",
            ),
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(role="main"),
                name="one_main_region_per_application",
                violation_error_message="An application has exactly one main region.",
            ),
            models.CheckConstraint(
                condition=Q(role__in=["main", "replica"]),
                name="region_role_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    state__in=["planned", "provisioning", "active", "draining", "removed", "failed"]
                ),
                name="region_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application.slug}/{self.code}"

    def save(self, *args, **kwargs):
        if not self.stack_name:
            self.stack_name = self.default_stack_name()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("regions:region_detail", args=[self.application.slug, self.code])

    @property
    def is_main(self) -> bool:
        return self.role == RegionRole.MAIN

    @property
    def state_colour(self) -> str:
        return RegionState.colour(self.state)

    def default_stack_name(self) -> str:
        return f"{self.application.slug}-{self.code}"

    def can_move_to(self, state: str) -> bool:
        return state in STATE_TRANSITIONS.get(self.state, set())

    def audit_snapshot(self) -> dict:
        return {
            "code": self.code,
            "role": self.role,
            "state": self.state,
            "health_check_id": self.health_check_id,
            "api_url": self.api_url,
            "rest_api_id": self.rest_api_id,
        }


class AuditSource(models.TextChoices):
    WEB = "web", "Web"
    API = "api", "API"
    ADMIN = "admin", "Admin"
    CLI = "cli", "Command line"
    SYSTEM = "system", "System"


class AuditEntry(models.Model):
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_name = models.CharField(max_length=150, help_text="Kept when the user is deleted.")
    source = models.CharField(max_length=8, choices=AuditSource)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200)
    application = models.ForeignKey(
        Application, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    application_slug = models.CharField(max_length=50, blank=True, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["actor_name", "-created_at"], name="audit_actor_time")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.object_repr}"

    def changes(self) -> list[tuple[str, object, object]]:
        before = self.before or {}
        after = self.after or {}
        keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
        # An empty value and a missing one read the same to a person: no change to show.
        return [(k, before.get(k), after.get(k)) for k in keys
                if (before.get(k) or None) != (after.get(k) or None)]


class ApiToken(models.Model):
    PREFIX = "mrd_"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    key_prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, user, name: str) -> tuple["ApiToken", str]:
        """Create a token; the plain key is returned once and only its hash is stored."""
        key = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, name=name, key_hash=cls.hash_key(key), key_prefix=key[:12]
        )
        return token, key

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None



class FaultKind(models.TextChoices):
    OUTAGE = "outage", "Outage"
    LAG = "lag", "Replication lag"


class SandboxFault(models.Model):
    """A fault an operator injected in the sandbox; the sandbox emitter honours it."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="sandbox_faults")
    kind = models.CharField(max_length=8, choices=FaultKind)
    started_at = models.DateTimeField(default=timezone.now)
    started_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["region", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "kind"],
                name="sandbox_fault_once_per_kind",
                violation_error_message="This fault is already simulated for the region.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.kind}"

# Health and replication samples live in their own module; importing it registers them here.
from .monitoring_models import *  # noqa: E402,F401,F403
