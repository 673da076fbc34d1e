from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from . import permissions, sandbox, services
from .models import FaultKind, Region


@require_POST
def region_fault(request, slug, code, action):
    """Simulate an outage / replication lag in a sandbox region, or restore it (operators)."""
    if action not in ("outage", "lag", "restore"):
        raise Http404("No such sandbox action.")
    if not permissions.can_operate(request.user):
        raise PermissionDenied("Simulating faults needs the operator role.")
    region = get_object_or_404(Region.objects.select_related("application"),
                               application__slug=slug, code=code)
    try:
        sandbox.require_sandbox()
    except sandbox.SandboxOnly as exc:
        raise PermissionDenied(str(exc)) from None
    actor = services.Actor.from_request(request)
    if action == "restore":
        kinds = sandbox.restore(region, actor)
        messages.success(request, f"{code} restored." if kinds else f"{code} had no fault.")
    else:
        kind = FaultKind.OUTAGE if action == "outage" else FaultKind.LAG
        if sandbox.inject(region, kind, actor):
            messages.warning(request, f"Simulating {kind.label.lower()} in {code}. The "
                                      "dashboard shows it within a poll interval or two.")
        else:
            messages.info(request, f"{code} already simulates {kind.label.lower()}.")
    return redirect(region)
