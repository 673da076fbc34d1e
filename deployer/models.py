"""Rollouts, their per-region deployments and the deployments' event log."""

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone

from regions.models import Application, Region


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    PLANNED = "planned", "Planned"
    AWAITING_CONFIRMATION = "awaiting_confirmation", "Awaiting confirmation"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    ERROR = "error", "Error"
    CANCELLED = "cancelled", "Cancelled"

    @classmethod
    def colour(cls, value: str) -> str:
        return {
            cls.QUEUED: "grey",
            cls.RUNNING: "blue",
            cls.PLANNED: "blue",
            cls.AWAITING_CONFIRMATION: "orange",
            cls.SUCCEEDED: "green",
            cls.FAILED: "red",
            cls.ERROR: "red",
            cls.CANCELLED: "grey",
        }.get(value, "grey")


# Holding a region or an application: a worker owns it or is about to.
ACTIVE = (Status.QUEUED, Status.RUNNING)
FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.ERROR, Status.CANCELLED)
# Steps that no worker has started: cancelled when their rollout ends.
NOT_STARTED = (Status.QUEUED, Status.PLANNED)


class RolloutKind(models.TextChoices):
    PLAN = "plan", "Plan"
    DEPLOY = "deploy", "Deploy"
    DESTROY_REGION = "destroy_region", "Destroy region"
    BOOTSTRAP = "bootstrap", "Bootstrap"


class Gate(models.TextChoices):
    """What a running rollout waits for between two waves of steps."""

    NONE = "", "Nothing"
    BAKE = "bake", "Baking"
    APPROVAL = "approval", "Waiting for approval"


class Action(models.TextChoices):
    UPDATE_MAIN = "update_main", "Update main region"
    DEPLOY_REGION = "deploy_region", "Deploy region"
    DESTROY_REGION = "destroy_region", "Destroy region"
    # The CDK bootstrap stack (CDKToolkit) of the region, not the application's own stack.
    BOOTSTRAP = "bootstrap", "Bootstrap"


class Job(models.Model):
    """What a rollout and a deployment share: status, times, explanation (awx-style)."""

    status = models.CharField(max_length=24, choices=Status, default=Status.QUEUED)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    explanation = models.TextField(blank=True)

    class Meta:
        abstract = True

    @classmethod
    def claim(cls, pk: int, task_id: str = "") -> bool:
        """Move a queued job to running; False when another worker (or a redelivery) has it."""
        now = timezone.now()
        return cls.objects.filter(pk=pk, status=Status.QUEUED).update(
            status=Status.RUNNING, started_at=now, heartbeat_at=now, finished_at=None,
            task_id=task_id) == 1

    @property
    def elapsed(self) -> float | None:
        """Seconds from start to finish (or to now while it runs)."""
        if self.started_at is None:
            return None
        end = self.finished_at or timezone.now()
        return max(0.0, (end - self.started_at).total_seconds())

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def status_colour(self) -> str:
        return Status.colour(self.status)


class Rollout(Job):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="rollouts")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(max_length=16, choices=RolloutKind, default=RolloutKind.PLAN)
    only_region = models.CharField(
        max_length=32, blank=True,
        help_text="Limit the rollout to this region's steps (the inventory must not change).",
    )
    synth_key = models.CharField(max_length=128, blank=True)
    needs_confirmation = models.BooleanField(default=False)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(
        null=True, blank=True, help_text="When the plan started to be applied."
    )
    planned_at = models.DateTimeField(
        null=True, blank=True, help_text="When every change set of the plan was ready."
    )
    task_id = models.CharField(max_length=255, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    release_label = models.CharField(
        max_length=100, blank=True,
        help_text="A free label of the release; the app receives it as its release input.",
    )
    requested_via = models.CharField(
        max_length=16, blank=True, help_text="Where it was requested: web, api or cli.")
    require_approval = models.BooleanField(
        default=False, help_text="Wait for an operator's approval after the main region.")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    gate = models.CharField(max_length=16, choices=Gate, blank=True, default=Gate.NONE)
    bake_until = models.DateTimeField(
        null=True, blank=True, help_text="When the bake of the wave that just finished ends.")
    baked_waves = models.PositiveIntegerField(
        default=0, help_text="Waves whose bake passed (wave 0 is the main region).")
    rollback_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="rollbacks",
        help_text="The earlier rollout whose templates this one applies again.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(status__in=["queued", "running"]),
                name="one_active_rollout_per_application",
                violation_error_message="Another rollout of this application is already running.",
            ),
        ]

    def __str__(self) -> str:
        return f"rollout {self.pk} of {self.application.slug}"

    def get_absolute_url(self) -> str:
        return reverse("deployer:rollout_detail", args=[self.pk])

    @property
    def elapsed(self) -> float | None:
        """Seconds from the request to the end (or to now while it is open): what the operator
        waited, planning and any wait for confirmation included."""
        end = self.finished_at or timezone.now()
        return max(0.0, (end - self.created_at).total_seconds())

    def plan_age(self, now=None) -> float | None:
        """Seconds since the plan was ready; None before that."""
        if self.planned_at is None:
            return None
        return ((now or timezone.now()) - self.planned_at).total_seconds()

    @property
    def plan_too_old(self) -> bool:
        age = self.plan_age()
        return age is not None and self.applied_at is None and age > settings.PLAN_MAX_AGE

    @property
    def can_confirm(self) -> bool:
        return self.status in (Status.AWAITING_CONFIRMATION, Status.PLANNED)

    @property
    def can_approve(self) -> bool:
        return (self.status == Status.RUNNING and self.require_approval
                and self.approved_at is None and self.cancel_requested_at is None)

    @property
    def can_roll_back_to(self) -> bool:
        """A succeeded deploy: a roll back may apply its templates again (if still kept)."""
        return self.status == Status.SUCCEEDED and self.kind == RolloutKind.DEPLOY

    @property
    def status_label(self) -> str:
        """The status as the operator reads it: a running rollout may wait at a gate."""
        if self.status == Status.RUNNING and self.gate:
            return self.get_gate_display()
        return self.get_status_display()

    @property
    def status_colour(self) -> str:
        if self.status == Status.RUNNING and self.gate == Gate.APPROVAL:
            return "orange"
        return Status.colour(self.status)

    @property
    def can_cancel(self) -> bool:
        return self.status in (*ACTIVE, Status.PLANNED, Status.AWAITING_CONFIRMATION) and (
            self.cancel_requested_at is None
        )

    def end(self, status: str, explanation: str = "", *, from_statuses=(Status.RUNNING,),
            reason: str = "") -> bool:
        """End the rollout if it is still in one of `from_statuses`, and cancel its steps that
        never started with `reason` (default: the explanation). False when another caller
        ended or moved it first."""
        now = timezone.now()
        with transaction.atomic():
            if Rollout.objects.filter(pk=self.pk, status__in=from_statuses).update(
                    status=status, finished_at=now, explanation=explanation) != 1:
                return False
            self.deployments.filter(status__in=NOT_STARTED).cancel(reason or explanation)
        self.status, self.finished_at, self.explanation = status, now, explanation
        return True


class DeploymentQuerySet(models.QuerySet):
    def cancel(self, reason: str) -> int:
        """Cancel these steps (callers filter on a status no worker holds); how many were."""
        return self.update(status=Status.CANCELLED, finished_at=timezone.now(), explanation=reason)


class Deployment(Job):
    rollout = models.ForeignKey(Rollout, on_delete=models.CASCADE, related_name="deployments")
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="deployments")
    step = models.PositiveIntegerField(help_text="Order of the step within its rollout.")
    action = models.CharField(max_length=16, choices=Action)
    replicas = models.JSONField(default=list, blank=True,
                                help_text="Replica regions of the global table after this step.")
    depends_on = models.ManyToManyField("self", symmetrical=False, blank=True,
                                        related_name="dependents")
    stack_name = models.CharField(max_length=128)
    template = models.JSONField(null=True, blank=True)
    synth_key = models.CharField(
        max_length=64, blank=True,
        help_text="The synth cache entry whose cloud assembly holds this step's stack and assets.",
    )
    needs = models.JSONField(
        default=dict, blank=True,
        help_text="What the stack needs besides its template: bootstrap version, assets, nested "
                  "stacks.",
    )
    change_set_id = models.CharField(max_length=2048, blank=True)
    change_set_name = models.CharField(max_length=128, blank=True)
    creates_stack = models.BooleanField(
        default=False, help_text="The change set creates the stack (its first deploy)."
    )
    changes = models.JSONField(default=list, blank=True)
    resources_total = models.PositiveIntegerField(default=0)
    resources_done = models.PositiveIntegerField(default=0)
    outputs = models.JSONField(default=dict, blank=True)
    task_id = models.CharField(max_length=255, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    executed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the change set was sent for execution."
    )
    baseline_event_id = models.CharField(
        max_length=255, blank=True,
        help_text="The stack's newest event before execution; older events belong to earlier runs.",
    )

    objects = DeploymentQuerySet.as_manager()

    class Meta:
        ordering = ["rollout", "step"]
        constraints = [
            # A bootstrap step changes the region's CDKToolkit stack, not the application's.
            models.UniqueConstraint(
                fields=["region"],
                condition=Q(status__in=["queued", "running"]) & ~Q(action="bootstrap"),
                name="one_active_deployment_per_region",
                violation_error_message="Another deployment to this region is already running.",
            ),
            models.UniqueConstraint(
                fields=["rollout", "step"],
                name="deployment_step_unique_per_rollout",
                violation_error_message="A rollout has one deployment per step.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action_label.lower()} {self.region.code} (step {self.step})"

    @property
    def action_label(self) -> str:
        """What the step does, as the operator reads it: a first deploy creates."""
        if self.creates_stack and self.action == Action.UPDATE_MAIN:
            return "Create main region"
        return self.get_action_display()

    @property
    def progress(self) -> int:
        """Percent of the change set's resources completed."""
        if self.status == Status.SUCCEEDED:
            return 100
        if not self.resources_total:
            return 0
        return min(100, round(100 * self.resources_done / self.resources_total))

    @property
    def elapsed(self) -> float | None:
        """Seconds the change set ran: none for a step that never executed."""
        if self.executed_at is None:
            return None
        end = self.finished_at or timezone.now()
        return max(0.0, (end - self.executed_at).total_seconds())

    @property
    def stateful_changes(self) -> list[dict]:
        return [c for c in self.changes or [] if c.get("stateful_flag")]

    def end(self, status: str, explanation: str) -> bool:
        """Finish the running step; False when another caller (a reaper, say) finished it."""
        now = timezone.now()
        done = self.resources_total if status == Status.SUCCEEDED else self.resources_done
        if Deployment.objects.filter(pk=self.pk, status=Status.RUNNING).update(
                status=status, finished_at=now, explanation=explanation,
                resources_done=done) != 1:
            return False
        self.status, self.finished_at, self.explanation = status, now, explanation
        self.resources_done = done
        return True

    def log(self, message: str, *, source: str = "control_plane", level: str = "info",
            resource: str = "", status: str = "", external_id: str = "",
            created_at=None) -> "DeploymentEvent | None":
        """Append one line to the log; a CloudFormation event already written is skipped."""
        for _ in range(10):
            last = self.events.aggregate(m=Max("seq"))["m"] or 0
            try:
                with transaction.atomic():
                    return DeploymentEvent.objects.create(
                        deployment=self, seq=last + 1, source=source, level=level,
                        resource=resource[:255], status=status[:64], message=message,
                        external_id=external_id, created_at=created_at or timezone.now(),
                    )
            except IntegrityError:
                if external_id and self.events.filter(external_id=external_id).exists():
                    return None
        raise RuntimeError(f"could not append to the log of deployment {self.pk}")


class EventSource(models.TextChoices):
    SYNTH = "synth", "Synth"
    CLOUDFORMATION = "cloudformation", "CloudFormation"
    CONTROL_PLANE = "control_plane", "Control plane"


class Level(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    ERROR = "error", "Error"


class DeploymentEvent(models.Model):
    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=16, choices=EventSource)
    level = models.CharField(max_length=8, choices=Level, default=Level.INFO)
    resource = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)
    external_id = models.CharField(
        max_length=255, blank=True, help_text="CloudFormation's EventId, so each is written once."
    )

    class Meta:
        ordering = ["deployment", "seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "seq"],
                name="event_seq_unique_per_deployment",
                violation_error_message="Event numbers are unique within a deployment.",
            ),
            models.UniqueConstraint(
                fields=["deployment", "external_id"],
                condition=~Q(external_id=""),
                name="cloudformation_event_written_once",
                violation_error_message="This CloudFormation event is already in the log.",
            ),
        ]
        indexes = [models.Index(fields=["deployment", "seq"], name="event_deployment_seq")]

    def __str__(self) -> str:
        return f"{self.seq} {self.resource} {self.status} {self.message}"

    @property
    def level_colour(self) -> str:
        return {"error": "red", "warning": "orange"}.get(self.level, "grey")
