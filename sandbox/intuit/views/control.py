"""The sandbox's control API for Intuit: app registration, seeding, connection state."""

import json
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sandbox.intuit import services
from sandbox.intuit.seed import seed_identity


def _json_body(request: HttpRequest) -> dict[str, Any]:
    body = json.loads(request.body or b"{}")
    if not isinstance(body, dict):
        raise ValueError("send a JSON object")
    return body


@csrf_exempt
@require_http_methods(["GET", "POST"])
def app_registration(request: HttpRequest) -> JsonResponse:
    app = services.registered_app()
    if request.method == "POST":
        try:
            services.update_app(app=app, changes=_json_body(request))
        except ValueError as error:
            return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse(services.app_registration(app=app))


@csrf_exempt
@require_POST
def companies(request: HttpRequest) -> JsonResponse:
    try:
        body = _json_body(request)
        names = body.get("company_names")
        fields = [body.get(name) for name in ("email", "password", "name")]
        if not all(isinstance(value, str) and value for value in fields) or not (
            isinstance(names, list) and names and all(isinstance(n, str) and n for n in names)
        ):
            raise ValueError("send email, password, name and a list of company_names")
    except ValueError as error:
        return JsonResponse({"error": str(error)}, status=400)
    email, password, name = fields
    seeded = seed_identity(email=email, password=password, name=name, company_names=names)
    return JsonResponse(
        {"companies": [{"realm_id": c.realm_id, "name": c.name} for c in seeded]}, status=201
    )


@require_GET
def connections(request: HttpRequest) -> JsonResponse:
    realm_id = request.GET.get("realm_id", "")
    states = services.connection_states(realm_id=realm_id)
    return JsonResponse(
        {
            "realm_id": realm_id,
            "connections": states,
            "live": any(state["live"] for state in states),
        }
    )
