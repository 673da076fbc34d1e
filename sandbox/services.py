"""What operators do to the sandbox: inject and restore faults (audited), and the sandbox's
hosted zone. Faults are honoured by the emitter (sandbox.emitter)."""

from celery import chain
from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.audit import Actor, record
from lib import aws, route53_budget
from regions.models import Region, RegionState
from watch.tasks import poll_metrics

from .emitter import require_sandbox
from .models import SandboxFault
from .tasks import emit_sandbox_metrics

ZONE = "sandbox.meridian.test"


def sandbox_zone_id() -> str:
    """The sandbox hosted zone in the local AWS, created on first use."""
    route53 = route53_budget.route53_client()
    try:
        for zone in route53.list_hosted_zones_by_name(DNSName=ZONE)["HostedZones"]:
            if zone["Name"].rstrip(".") == ZONE:
                return zone["Id"].rsplit("/", 1)[-1]
        answer = route53.create_hosted_zone(Name=ZONE, CallerReference=f"meridian-{ZONE}")
    except Exception as exc:
        raise aws.AwsError.wrap(exc, service="route53", region="us-east-1") from exc
    return answer["HostedZone"]["Id"].rsplit("/", 1)[-1]


def form_defaults() -> dict:
    """Sensible values for a new application in the sandbox, so a first try just works."""
    if not settings.SANDBOX:
        return {}
    defaults = {"domain_name": f"app.{ZONE}", "account_id": "123456789012",
                "main_region": "us-east-1", "source": "sandbox"}
    try:
        defaults["hosted_zone_id"] = sandbox_zone_id()
    except (aws.AwsError, route53_budget.Route53Busy):
        pass
    return defaults


def find_region(code: str, slug: str | None = None) -> Region:
    """The region named on the command line; the application may be left out if unambiguous."""
    regions = Region.objects.filter(code=code).exclude(state=RegionState.REMOVED)
    if slug:
        regions = regions.filter(application__slug=slug)
    found = list(regions.select_related("application")[:2])
    if not found:
        where = f" in {slug}" if slug else ""
        raise LookupError(f"No region {code}{where}.")
    if len(found) > 1:
        raise LookupError(f"{code} is in several applications; name one with --application.")
    return found[0]


def inject(region: Region, kind: str, actor: Actor) -> bool:
    """Start simulating a fault; False when it was already running."""
    require_sandbox()
    try:
        with transaction.atomic():
            SandboxFault.objects.create(region=region, kind=kind, started_by=actor.name)
            record(actor, f"sandbox.{kind}", region, application=region.application,
                            after={"fault": kind})
    except IntegrityError:
        return False
    transaction.on_commit(refresh_soon)
    return True


def restore(region: Region, actor: Actor) -> list[str]:
    """End every simulated fault of a region; returns the kinds that were running."""
    require_sandbox()
    with transaction.atomic():
        kinds = sorted(region.sandbox_faults.values_list("kind", flat=True))
        if kinds:
            region.sandbox_faults.all().delete()
            record(actor, "sandbox.restore", region, application=region.application,
                            before={"faults": kinds})
    if kinds:
        transaction.on_commit(refresh_soon)
    return kinds


def refresh_soon() -> None:
    """Publish and poll right away, so the dashboard shows a change within seconds."""
    try:
        chain(emit_sandbox_metrics.si(), poll_metrics.si()).apply_async()
    except Exception:  # noqa: BLE001 - the periodic tasks will catch up; never fail the request
        pass
