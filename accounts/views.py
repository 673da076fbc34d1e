"""The audit trail page and the profile with its API tokens."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from . import lockouts, roles, tokens
from .audit import Actor, record
from .forms import AuditFilterForm, TokenForm
from .models import ApiToken
from .roles import role_required


@require_GET
@role_required(roles.VIEWER)
def audit_list(request):
    form = AuditFilterForm(request.GET or None)
    page = Paginator(form.entries(), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    locked = lockouts.locked_now() if roles.can_administer(request.user) else []
    return render(
        request, "accounts/audit_list.html",
        {"form": form, "page": page, "query": query.urlencode(), "locked": locked},
    )


@require_GET
def profile(request):
    tokens = request.user.api_tokens.all()
    return render(request, "accounts/profile.html", {"tokens": tokens, "form": TokenForm()})


@require_POST
def token_create(request):
    if not roles.can_view(request.user):
        raise PermissionDenied("Tokens are for users with a role.")
    form = TokenForm(request.POST)
    if not form.is_valid():
        tokens = request.user.api_tokens.all()
        return render(request, "accounts/profile.html", {"tokens": tokens, "form": form},
                      status=400)
    token, key = ApiToken.issue(request.user, form.cleaned_data["name"])
    record(Actor.from_request(request), "token.create", token,
                    after={"name": token.name, "prefix": token.key_prefix,
                           "user": request.user.get_username()})
    tokens = request.user.api_tokens.all()
    return render(request, "accounts/profile.html",
                  {"tokens": tokens, "form": TokenForm(), "new_key": key, "new_token": token})


@require_POST
def token_revoke(request, pk):
    token = request.user.api_tokens.filter(pk=pk).first()
    if token is None:
        raise Http404("No such token.")
    if tokens.revoke(token, Actor.from_request(request)):
        messages.success(request, f"Token {token.name} revoked.")
    return redirect("accounts:profile")


