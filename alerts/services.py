"""Every change to alerting: channels, rules and maintenance windows. Views, the API and the
command line all come here, so each change is validated alike, atomic and audited (with the
channel URL masked: the audit trail never holds a secret)."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.audit import Actor, record
from regions.models import Application

from . import delivery, messages, sender
from .models import (
    RULE_FIELDS,
    AlertRules,
    Channel,
    Delivery,
    Event,
    MaintenanceWindow,
)

CHANNEL_FIELDS = ("name", "url", "applications", "events", "enabled")
WINDOW_FIELDS = ("regions", "starts_at", "ends_at", "reason")


def _unknown(data: dict, allowed) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})


def _list_of_text(name: str, value, allowed: set[str], what: str) -> dict:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return {name: ["Give a list of names."]}
    bad = sorted(set(value) - allowed)
    if bad:
        return {name: [f"Unknown {what}: {', '.join(bad)}."]}
    return {}


def _constraint_error(exc: IntegrityError, model) -> ValidationError:
    for constraint in model._meta.constraints:
        if constraint.name in str(exc):
            return ValidationError({"__all__": [constraint.violation_error_message]})
    return ValidationError({"__all__": ["The change conflicts with another change; try again."]})


def _check_channel(channel: Channel) -> None:
    errors: dict[str, list[str]] = {}
    problem = sender.check_url(channel.url or "")
    if problem:
        errors["url"] = [problem]
    slugs = set(Application.objects.values_list("slug", flat=True))
    errors |= _list_of_text("applications", channel.applications, slugs, "application")
    errors |= _list_of_text("events", channel.events, set(Event.values), "event")
    try:
        channel.full_clean(exclude=["url", "applications", "events"], validate_unique=False)
    except ValidationError as exc:
        errors |= exc.message_dict
    if errors:
        raise ValidationError(errors)


def _save(obj, model) -> None:
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise _constraint_error(exc, model) from None


@transaction.atomic
def create_channel(data: dict, actor: Actor) -> Channel:
    _unknown(data, CHANNEL_FIELDS)
    channel = Channel(**data)
    _check_channel(channel)
    if Channel.objects.filter(name=channel.name).exists():
        raise ValidationError({"name": ["A channel with this name exists."]})
    _save(channel, Channel)
    record(actor, "channel.create", channel, after=channel.audit_snapshot())
    return channel


@transaction.atomic
def update_channel(channel: Channel, changes: dict, actor: Actor) -> Channel:
    """Change the fields given; an empty or missing URL keeps the current one."""
    _unknown(changes, CHANNEL_FIELDS)
    if not changes.get("url", "x"):
        changes = {k: v for k, v in changes.items() if k != "url"}
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    before = channel.audit_snapshot()
    for key, value in changes.items():
        setattr(channel, key, value)
    _check_channel(channel)
    if Channel.objects.filter(name=channel.name).exclude(pk=channel.pk).exists():
        raise ValidationError({"name": ["A channel with this name exists."]})
    _save(channel, Channel)
    after = channel.audit_snapshot()
    changed = [k for k in after if before[k] != after[k]]
    if "url" in changes and "url" not in changed:
        changed.append("url")  # a new secret that masks alike is still a change
    if changed:
        record(actor, "channel.update", channel, before={k: before[k] for k in changed},
               after={k: after[k] for k in changed})
    return channel


@transaction.atomic
def delete_channel(channel: Channel, actor: Actor) -> None:
    record(actor, "channel.delete", channel, before=channel.audit_snapshot())
    channel.delete()


def test_channel(channel: Channel, actor: Actor, *, queue: bool = True) -> Delivery:
    """A test message to the channel, sent by a worker (or here, when queue is False)."""
    title, body, kind = messages.test_message()
    with transaction.atomic():
        row = Delivery.objects.create(channel=channel, channel_name=channel.name, is_test=True,
                                      title=title, body=body, notify_type=kind)
        record(actor, "channel.test", channel, after={"url": channel.masked_url})
        if queue:
            transaction.on_commit(lambda: delivery.enqueue([row.pk]), robust=True)
    if not queue:
        try:
            delivery.attempt(row.pk)
        except sender.SendFailed:
            pass  # recorded on the delivery; tried once only from here
        Delivery.objects.filter(pk=row.pk, status="retrying").update(
            status="failed", finished_at=timezone.now())
        row.refresh_from_db()
    return row


def rules_for(application: Application) -> AlertRules:
    """The application's rules, or the defaults (unsaved) when it has none yet."""
    return AlertRules.objects.filter(application=application).first() or AlertRules(
        application=application)


@transaction.atomic
def update_rules(application: Application, changes: dict, actor: Actor) -> AlertRules:
    _unknown(changes, RULE_FIELDS)
    rules = rules_for(application)
    before = rules.audit_snapshot()
    for key, value in changes.items():
        setattr(rules, key, value)
    rules.full_clean(exclude=["application"])
    _save(rules, AlertRules)
    changed = {k: v for k, v in rules.audit_snapshot().items() if before[k] != v}
    if changed:
        record(actor, "alert_rules.update", rules, application=application,
               before={k: before[k] for k in changed}, after=changed)
    return rules


def _check_window(window: MaintenanceWindow) -> None:
    codes = set(window.application.regions.values_list("code", flat=True))
    errors = _list_of_text("regions", window.regions, codes, "region")
    try:
        window.full_clean(exclude=["application", "regions"])
    except ValidationError as exc:
        errors |= exc.message_dict
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_window(application: Application, data: dict, actor: Actor) -> MaintenanceWindow:
    _unknown(data, WINDOW_FIELDS)
    window = MaintenanceWindow(application=application, created_by=actor.name, **data)
    _check_window(window)
    _save(window, MaintenanceWindow)
    record(actor, "maintenance.create", window, application=application,
           after=window.audit_snapshot())
    return window


@transaction.atomic
def update_window(window: MaintenanceWindow, changes: dict, actor: Actor) -> MaintenanceWindow:
    _unknown(changes, WINDOW_FIELDS)
    window = MaintenanceWindow.objects.select_for_update().get(pk=window.pk)
    before = window.audit_snapshot()
    for key, value in changes.items():
        setattr(window, key, value)
    _check_window(window)
    _save(window, MaintenanceWindow)
    after = window.audit_snapshot()
    changed = [k for k in after if before[k] != after[k]]
    if changed:
        record(actor, "maintenance.update", window, application=window.application,
               before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    return window


def end_window(window: MaintenanceWindow, actor: Actor) -> MaintenanceWindow:
    """End it now; a window that has not started yet is ended before it begins (deleted)."""
    now = timezone.now()
    if window.starts_at >= now:
        delete_window(window, actor)
        return window
    if window.ends_at <= now:
        return window
    return update_window(window, {"ends_at": now}, actor)


@transaction.atomic
def delete_window(window: MaintenanceWindow, actor: Actor) -> None:
    record(actor, "maintenance.delete", window, application=window.application,
           before=window.audit_snapshot())
    window.delete()
