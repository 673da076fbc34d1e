"""Template filters every page uses without {% load %}: moments in time (shown in the
viewer's time zone by static/js/meridian.js, UTC without script and on hover) and links to
the AWS console."""

from datetime import UTC, datetime
from urllib.parse import quote

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()

FORMATS = {"time": "%H:%M", "datetime": "%Y-%m-%d %H:%M", "seconds": "%Y-%m-%d %H:%M:%S"}


@register.filter
def moment(value: datetime | None, kind: str = "datetime"):
    """<time> for a moment: `kind` is time, datetime or seconds."""
    if not value:
        return ""
    utc = value.astimezone(UTC) if timezone.is_aware(value) else value.replace(tzinfo=UTC)
    text = utc.strftime(FORMATS.get(kind, FORMATS["datetime"]))
    return format_html('<time datetime="{}" data-kind="{}" title="{} UTC">{} UTC</time>',
                       utc.isoformat(), kind, utc.strftime(FORMATS["seconds"]), text)


def _console(region: str, path: str) -> str:
    return f"https://{region}.console.aws.amazon.com/{path}"


CONSOLE = {
    "stack": lambda region, stack: _console(
        region, f"cloudformation/home?region={region}#/stacks/stackinfo?stackId={quote(stack, safe='')}"),
    "health_check": lambda region, check: _console(
        "us-east-1", f"route53/healthchecks/home#/details/{quote(check, safe='')}"),
    "table": lambda region, table: _console(
        region, f"dynamodbv2/home?region={region}#table?name={quote(table, safe='')}"),
    "rest_api": lambda region, api: _console(
        region, f"apigateway/main/apis/{quote(api, safe='')}/resources?api={quote(api, safe='')}"
                f"&region={region}"),
    "hosted_zone": lambda region, zone: _console(
        "us-east-1", f"route53/v2/hostedzones#ListRecordSets/{quote(zone, safe='')}"),
}


def change_set_url(region: str, stack: str, change_set_id: str) -> str:
    """The console page of a change set (its changes); empty in the sandbox."""
    if settings.SANDBOX or not change_set_id or not stack:
        return ""
    return _console(region, f"cloudformation/home?region={region}#/stacks/changesets/changes"
                            f"?stackId={quote(stack, safe='')}"
                            f"&changeSetId={quote(change_set_id, safe='')}")


@register.simple_tag
def console_change_set(region: str, stack: str, change_set_id: str, text: str = ""):
    """A change set's name as a link to its console page (plain text in the sandbox)."""
    label = text or change_set_id
    url = change_set_url(region, stack, change_set_id)
    if not url:
        return format_html('<span class="mono">{}</span>', label)
    return format_html('<a class="mono" href="{}" target="_blank" rel="noopener" '
                       'title="Open the change set in the AWS console">{}</a>', url, label)


def console_url(kind: str, region: str, identifier: str) -> str:
    """The AWS console page of a resource; empty in the sandbox, which has no console."""
    if settings.SANDBOX or not identifier or kind not in CONSOLE:
        return ""
    return CONSOLE[kind](region, identifier)


@register.simple_tag
def console(kind: str, region: str, identifier: str, text: str = ""):
    """The identifier as a link to its console page (plain text in the sandbox)."""
    label = text or identifier
    if not identifier:
        return "—"
    url = console_url(kind, region, identifier)
    if not url:
        return format_html('<span class="mono">{}</span>', label)
    return format_html('<a class="mono" href="{}" target="_blank" rel="noopener" '
                       'title="Open in the AWS console">{}</a>', url, label)
