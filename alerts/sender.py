"""The door to the notification services: apprise, with explicit timeouts, one error type, and
channel URLs (which hold tokens and passwords) kept out of everything it returns or logs."""

import ipaddress
import re
import time
from urllib.parse import unquote, urlsplit

import apprise
from django.conf import settings

NOTIFY_TYPES = {"info": apprise.NotifyType.INFO, "success": apprise.NotifyType.SUCCESS,
                "warning": apprise.NotifyType.WARNING, "failure": apprise.NotifyType.FAILURE}
MASK = "****"


class SendFailed(Exception):
    """A message did not go out; `retryable` says whether trying again can help."""

    def __init__(self, message: str, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


def _shows_host(host: str) -> bool:
    """A host name or address is shown; a bare token in the host slot (PagerDuty's API key,
    Slack's or Discord's ids) is not."""
    if host == "localhost" or "." in host:
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def mask_url(url: str) -> str:
    """Scheme and host, the rest masked: json://hooks.example.com/****."""
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return MASK
    if not parts.scheme:
        return MASK
    shown = host if _shows_host(host) else (MASK if host else "")
    if shown and port and shown != MASK:
        shown = f"{shown}:{port}"
    rest = parts.username or parts.password or parts.path.strip("/") or parts.query
    return f"{parts.scheme}://{shown}" + (f"/{MASK}" if rest else "")


def _secrets_of(url: str) -> list[str]:
    """Every piece of a URL that could be a secret, longest first."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    pieces = {url, parts.netloc, parts.path, parts.query, parts.username or "",
              parts.password or ""}
    pieces |= set(re.split(r"[/@:?&=#]", url.split("://", 1)[-1]))
    pieces |= {unquote(p) for p in list(pieces)}
    host = parts.hostname or ""
    keep = {host, f"{host}:{parts.port}"} if _shows_host(host) else set()
    return sorted((p for p in pieces if len(p) >= 3 and p not in keep), key=len, reverse=True)


def redact(text: str, url: str) -> str:
    """`text` with every part of `url` that may be secret replaced by ****."""
    for piece in _secrets_of(url):
        text = text.replace(piece, MASK)
    return text


def check_url(url: str) -> str:
    """An error message when apprise cannot use `url`, else ''."""
    if not url or "://" not in url:
        return "Enter an apprise URL, such as slack://… or json://host/path."
    if apprise.Apprise.instantiate(url) is None:
        scheme = url.split("://", 1)[0]
        return f"apprise does not know how to send to a {scheme}:// URL, or the URL is incomplete."
    return ""


def send(url: str, title: str, body: str, notify_type: str = "info") -> float:
    """Send one message; returns the seconds it took. Raises SendFailed."""
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        raise SendFailed("the channel URL is not one apprise can use", retryable=False)
    plugin.socket_connect_timeout = settings.ALERT_SEND_TIMEOUT
    plugin.socket_read_timeout = settings.ALERT_SEND_TIMEOUT
    notifier = apprise.Apprise()
    notifier.add(plugin)
    started = time.monotonic()
    # Only warnings are captured: apprise's debug lines carry the full URL.
    with apprise.LogCapture(level=apprise.logging.WARNING) as captured:
        result = notifier.notify(title=title, body=body,
                                 notify_type=NOTIFY_TYPES.get(notify_type, "info"))
    elapsed = time.monotonic() - started
    if not result:
        lines = [line.split(" - ", 2)[-1] for line in captured.getvalue().splitlines() if line]
        message = " ".join(lines)[-1000:] or "the service did not accept the message"
        raise SendFailed(redact(message, url))
    return elapsed
