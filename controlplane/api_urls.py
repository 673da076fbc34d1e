from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.urls import URLPattern, path, re_path
from django.views.decorators.csrf import csrf_exempt

from controlplane.api import api


def errors(message: str, status: int) -> JsonResponse:
    return JsonResponse({"errors": {"__all__": [message]}}, status=status)


@login_not_required
@csrf_exempt
def api_not_found(request, rest=""):
    # Unknown API paths answer in the API's error shape, not with an HTML page.
    return errors("There is no such API endpoint.", 404)


def json_method_not_allowed(view):
    """ninja answers a wrong method with plain text; give it the API's error shape."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code != 405:
            return response
        allowed = response.get("Allow", "")
        replacement = errors(f"{request.method} is not allowed here; use {allowed}.", 405)
        replacement["Allow"] = allowed
        return replacement

    return wrapped


def api_patterns():
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            # The API authenticates each call itself (token or session) and answers 401.
            pattern.callback = login_not_required(json_method_not_allowed(pattern.callback))
    return patterns, app_name, namespace


urlpatterns = [
    path("", api_patterns()),
    re_path(r"^(?P<rest>.*)$", api_not_found),
]
