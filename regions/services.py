"""Changes to the inventory. Views, the API, the admin and commands all go through here, so
every change is validated the same way, written atomically and audited."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.audit import Actor, record
from accounts.models import AuditSource

from .models import APPLICATION_FIELDS, Application, Region, RegionRole, RegionState

# Fields that cannot change once any region has been deployed: they name live resources.
FROZEN_AFTER_DEPLOY = ("slug", "main_region")


def _refuse_nul(data: dict) -> None:
    bad = sorted(k for k, v in data.items() if isinstance(v, str) and "\x00" in v)
    if bad:
        raise ValidationError({k: ["Null characters are not allowed."] for k in bad})


def _integrity_to_validation(exc: IntegrityError, model) -> ValidationError:
    """Turn a constraint hit by a concurrent writer into the constraint's own message."""
    text = str(exc)
    for constraint in model._meta.constraints:
        if constraint.name in text:
            return ValidationError({"__all__": [constraint.violation_error_message]})
    if "slug" in text:
        return ValidationError({"slug": ["An application with this slug already exists."]})
    return ValidationError({"__all__": ["The change conflicts with another change; try again."]})


def is_deployed(application: Application) -> bool:
    return application.regions.exclude(
        state__in=[RegionState.PLANNED, RegionState.REMOVED]
    ).exists()


@transaction.atomic
def create_application(data: dict, actor: Actor) -> Application:
    """Create an application and its main region (so 'exactly one main' holds from the start)."""
    unknown = set(data) - set(APPLICATION_FIELDS)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    _refuse_nul(data)
    application = Application(**data)
    application.full_clean()
    try:
        with transaction.atomic():
            application.save()
            main = Region(
                application=application,
                code=application.main_region,
                role=RegionRole.MAIN,
            )
            main.full_clean(exclude=["application"])
            main.save()
    except IntegrityError as exc:
        raise _integrity_to_validation(exc, Application) from None
    record(actor, "application.create", application, application=application,
           after=application.audit_snapshot())
    record(actor, "region.add", main, application=application, after=main.audit_snapshot())
    return application


@transaction.atomic
def update_application(application: Application, changes: dict, actor: Actor) -> Application:
    unknown = set(changes) - set(APPLICATION_FIELDS)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    _refuse_nul(changes)
    application = Application.objects.select_for_update().get(pk=application.pk)
    before = application.audit_snapshot()
    changed = {k: v for k, v in changes.items() if before.get(k) != v}
    if not changed:
        return application
    if "slug" in changed:
        raise ValidationError({"slug": ["The slug cannot be changed; it names the stacks."]})
    if "main_region" in changed and is_deployed(application):
        raise ValidationError(
            {"main_region": [
                "The main region owns the global table and cannot be changed once regions "
                "are deployed."
            ]}
        )
    for key, value in changed.items():
        setattr(application, key, value)
    application.full_clean()
    application.save()
    if "main_region" in changed:
        _move_main_region(application, actor)
    record(actor, "application.update", application, application=application,
           before={k: before[k] for k in changed},
           after={k: getattr(application, k) for k in changed})
    return application


def _move_main_region(application: Application, actor: Actor) -> None:
    old = application.regions.filter(role=RegionRole.MAIN).first()
    if old is not None:
        old.role = RegionRole.REPLICA
        old.save(update_fields=["role", "updated_at"])
    region, created = Region.objects.get_or_create(
        application=application,
        code=application.main_region,
        defaults={"role": RegionRole.MAIN},
    )
    if not created:
        region.role = RegionRole.MAIN
        if region.state == RegionState.REMOVED:
            region.state = RegionState.PLANNED
            region.state_changed_at = timezone.now()
        region.save(update_fields=["role", "state", "state_changed_at", "updated_at"])
    else:
        record(actor, "region.add", region, application=application, after=region.audit_snapshot())


@transaction.atomic
def delete_application(application: Application, actor: Actor) -> None:
    application = Application.objects.select_for_update().get(pk=application.pk)
    if is_deployed(application):
        raise ValidationError(
            {"__all__": [
                "This application still has deployed regions. Remove its regions and let the "
                "rollout take their stacks down first."
            ]}
        )
    snapshot = application.audit_snapshot()
    record(actor, "application.delete", application, application=None,
           application_slug=application.slug, before=snapshot)
    application.delete()


@transaction.atomic
def add_region(application: Application, code, actor: Actor) -> Region:
    """Add a replica (or the main region back) to the inventory as 'planned'."""
    application = Application.objects.select_for_update().get(pk=application.pk)
    probe = Region(application=application, code=code)
    try:
        probe.clean_fields(exclude=["application", "role", "state", "stack_name", "outputs"])
    except ValidationError as exc:
        raise ValidationError({"code": exc.message_dict.get("code", exc.messages)}) from None

    existing = application.regions.filter(code=code).first()
    if existing is not None and existing.state != RegionState.REMOVED:
        raise ValidationError(
            {"code": [f"{code} is already in the inventory of {application.slug} "
                      f"({existing.get_state_display().lower()})."]}
        )
    is_main = code == application.main_region
    if not is_main and not application.regions.filter(role=RegionRole.MAIN).exclude(
        state=RegionState.REMOVED
    ).exists():
        raise ValidationError(
            {"code": [f"Add the main region {application.main_region} first: it owns the "
                      "global table that every replica copies."]}
        )
    role = RegionRole.MAIN if is_main else RegionRole.REPLICA
    if existing is not None:
        before = existing.audit_snapshot()
        existing.state = RegionState.PLANNED
        existing.role = role
        existing.state_changed_at = timezone.now()
        existing.save(update_fields=["state", "role", "state_changed_at", "updated_at"])
        record(actor, "region.add", existing, application=application, before=before,
               after=existing.audit_snapshot())
        return existing
    region = Region(application=application, code=code, role=role)
    try:
        with transaction.atomic():
            region.save()
    except IntegrityError as exc:
        raise _integrity_to_validation(exc, Region) from None
    record(actor, "region.add", region, application=application, after=region.audit_snapshot())
    return region


@transaction.atomic
def remove_region(application: Application, code: str, actor: Actor) -> Region | None:
    """Take a region out of the inventory.

    A region that was never deployed is deleted. A deployed one is marked 'removing': the
    next rollout takes its stack down and then marks it removed.
    Returns the region (removing) or None when it was deleted.
    """
    application = Application.objects.select_for_update().get(pk=application.pk)
    region = application.regions.filter(code=code).exclude(state=RegionState.REMOVED).first()
    if region is None:
        raise ValidationError({"code": [f"{code} is not in the inventory of {application.slug}."]})
    if region.is_main:
        replicas = list(
            application.regions.filter(role=RegionRole.REPLICA)
            .exclude(state=RegionState.REMOVED)
            .values_list("code", flat=True)
        )
        if replicas:
            raise ValidationError(
                {"code": [f"The main region {code} cannot be removed while replicas exist "
                          f"({', '.join(replicas)}). Remove them first."]}
            )
    if region.state == RegionState.PROVISIONING:
        raise ValidationError(
            {"code": [f"{code} is being provisioned; wait for the rollout to finish or "
                      "cancel it, then remove the region."]}
        )
    if region.state == RegionState.REMOVING:
        raise ValidationError({"code": [f"{code} is already being removed."]})
    before = region.audit_snapshot()
    if region.state == RegionState.PLANNED:
        record(actor, "region.remove", region, application=application, before=before)
        region.delete()
        return None
    region.state = RegionState.REMOVING
    region.state_changed_at = timezone.now()
    region.save(update_fields=["state", "state_changed_at", "updated_at"])
    record(actor, "region.remove", region, application=application, before=before,
           after=region.audit_snapshot())
    return region


def set_region_state(region: Region, state: str, actor: Actor | None = None, **outputs) -> bool:
    """Move a region along its lifecycle with a filtered update (no lock, no lost update).

    Returns False when the region was no longer in the state the caller saw."""
    if not region.can_move_to(state):
        raise ValueError(f"{region} cannot move from {region.state} to {state}")
    now = timezone.now()
    fields = {"state": state, "state_changed_at": now, "updated_at": now, **outputs}
    done = Region.objects.filter(pk=region.pk, state=region.state).update(**fields) == 1
    if done:
        before = region.audit_snapshot()
        for key, value in fields.items():
            setattr(region, key, value)
        record(actor or Actor(None, AuditSource.SYSTEM), "region.state", region,
               application=region.application, before=before, after=region.audit_snapshot())
    return done
