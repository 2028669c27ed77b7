"""The sandbox's index page, and the control API of its knobs (`_sandbox/knobs`)."""

from typing import Any

from django.http import HttpRequest
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST

from sandbox.common import control_api, json_object
from sandbox.control import knobs


def index(request: HttpRequest):
    return render(request, "sandbox/index.html")


@require_http_methods(["GET", "POST"])
@control_api
def knob_values(request: HttpRequest) -> dict[str, Any]:
    if request.method == "POST":
        return knobs.update(json_object(request))
    return knobs.current()


@require_POST
@control_api
def knob_reset(request: HttpRequest) -> dict[str, Any]:
    return knobs.reset()
