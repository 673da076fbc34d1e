from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from accounts.audit import Actor
from accounts.roles import OPERATOR, role_required
from regions.models import Region

from . import emitter, services
from .models import FaultKind


@require_POST
@role_required(OPERATOR)
def region_fault(request, slug, code, action):
    """Simulate an outage / replication lag in a sandbox region, or restore it (operators)."""
    if action not in ("outage", "lag", "restore"):
        raise Http404("No such sandbox action.")
    region = get_object_or_404(Region.objects.select_related("application"),
                               application__slug=slug, code=code)
    try:
        emitter.require_sandbox()
    except emitter.SandboxOnly as exc:
        raise PermissionDenied(str(exc)) from None
    actor = Actor.from_request(request)
    if action == "restore":
        kinds = services.restore(region, actor)
        messages.success(request, f"{code} restored." if kinds else f"{code} had no fault.")
    else:
        kind = FaultKind.OUTAGE if action == "outage" else FaultKind.LAG
        if services.inject(region, kind, actor):
            messages.warning(request, f"Simulating {kind.label.lower()} in {code}. The "
                                      "dashboard shows it within a poll interval or two.")
        else:
            messages.info(request, f"{code} already simulates {kind.label.lower()}.")
    return redirect(region)
