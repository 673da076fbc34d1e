from django.http import JsonResponse
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from controlplane.api import api


@csrf_exempt
def api_not_found(request, rest=""):
    # Unknown API paths answer in the API's error shape, not with an HTML page.
    return JsonResponse({"errors": {"__all__": ["There is no such API endpoint."]}}, status=404)


urlpatterns = [
    path("", api.urls),
    re_path(r"^(?P<rest>.*)$", api_not_found),
]
