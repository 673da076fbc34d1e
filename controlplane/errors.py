"""Bad requests the framework raises before any view runs answer 4xx, never 500."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.defaults import bad_request as default_bad_request


def too_big_message() -> str:
    return (f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes, "
            "the most this installation accepts.")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 400 handler, except that a body over the limit is 413 (JSON under /api)."""
    if not isinstance(exception, RequestDataTooBig):
        return default_bad_request(request, exception)
    if request.path.startswith("/api/"):
        return JsonResponse({"errors": {"__all__": [too_big_message()]}}, status=413)
    return render(request, "413.html", {"message": too_big_message()}, status=413)
