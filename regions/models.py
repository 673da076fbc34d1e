"""The inventory: applications and their regions."""

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
    min_serving = models.PositiveSmallIntegerField(
        "minimum serving regions",
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="A drain is refused when fewer regions than this would stay serving and healthy.",
    )
    control_region = models.CharField(
        max_length=32,
        blank=True,
        validators=[validators.validate_optional_region_code],
        help_text="Region of the drain alarms, the data-plane switch that works while Route 53's "
                  "API does not; empty: the CONTROL_REGION setting (us-west-2 by default).",
    )
    require_approval = models.BooleanField(
        default=False,
        help_text="Deploys wait for an operator's approval after the main region.",
    )
    bake_seconds = models.PositiveIntegerField(
        default=0, validators=[MaxValueValidator(86400)],
        help_text="After each wave of a deploy, watch health and alarms this long (seconds) "
                  "before the next wave.",
    )
    alarms = models.JSONField(
        default=list, blank=True, validators=[validators.validate_alarms],
        help_text="CloudWatch alarms that must stay OK: an ARN for one region's alarm, a name "
                  "for the alarm of that name in every region.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("front:application_detail", args=[self.slug])

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
    "min_serving",
    "control_region",
    "require_approval",
    "bake_seconds",
    "alarms",
)


class RegionRole(models.TextChoices):
    MAIN = "main", "Main"
    REPLICA = "replica", "Replica"


class RegionState(models.TextChoices):
    PLANNED = "planned", "Planned"
    PROVISIONING = "provisioning", "Provisioning"
    ACTIVE = "active", "Active"
    REMOVING = "removing", "Removing"
    REMOVED = "removed", "Removed"
    FAILED = "failed", "Failed"

    @classmethod
    def colour(cls, value: str) -> str:
        return {
            cls.PLANNED: "grey",
            cls.PROVISIONING: "blue",
            cls.ACTIVE: "green",
            cls.REMOVING: "orange",
            cls.REMOVED: "grey",
            cls.FAILED: "red",
        }.get(value, "grey")


class Traffic(models.TextChoices):
    """What the region's routing health check tells Route 53 (docs/region-switch.md)."""

    SERVING = "serving", "Serving"
    DRAINED = "drained", "Drained"
    FORCED = "forced", "Forced serving"


# Which lifecycle moves are allowed; anything else is a programming error or a stale request.
STATE_TRANSITIONS: dict[str, set[str]] = {
    RegionState.PLANNED: {RegionState.PROVISIONING, RegionState.REMOVED},
    RegionState.PROVISIONING: {RegionState.ACTIVE, RegionState.FAILED},
    RegionState.ACTIVE: {RegionState.PROVISIONING, RegionState.REMOVING, RegionState.FAILED},
    RegionState.REMOVING: {RegionState.REMOVED, RegionState.FAILED, RegionState.ACTIVE},
    RegionState.FAILED: {RegionState.PROVISIONING, RegionState.REMOVING, RegionState.REMOVED},
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
    traffic = models.CharField(max_length=8, choices=Traffic, default=Traffic.SERVING)
    traffic_changed_at = models.DateTimeField(null=True, blank=True)
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
                    state__in=["planned", "provisioning", "active", "removing", "removed", "failed"]
                ),
                name="region_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(traffic__in=["serving", "drained", "forced"]),
                name="region_traffic_valid",
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

        return reverse("front:region_detail", args=[self.application.slug, self.code])

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
            "traffic": self.traffic,
        }
