import json

from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from sandbox.control import knobs


def index(request: HttpRequest):
    return render(request, "sandbox/index.html")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def knob_values(request: HttpRequest) -> JsonResponse:
    if request.method == "POST":
        try:
            changes = json.loads(request.body or b"{}")
            if not isinstance(changes, dict):
                raise ValueError("send a JSON object of knob values")
            return JsonResponse(knobs.update(changes))
        except ValueError as error:
            return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse(knobs.current())


@csrf_exempt
@require_http_methods(["POST"])
def knob_reset(request: HttpRequest) -> JsonResponse:
    return JsonResponse(knobs.reset())
