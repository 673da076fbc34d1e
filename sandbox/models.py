"""Faults an operator injects into the sandbox's local AWS."""

from django.db import models
from django.utils import timezone

from regions.models import Region


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
