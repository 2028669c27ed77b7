"""The sandbox's control API for Intuit: app registration, seeding, connection state."""

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sandbox.common import control_api, json_object
from sandbox.intuit import services
from sandbox.intuit.seed import seed_identity


@require_http_methods(["GET", "POST"])
@control_api
def app_registration(request: HttpRequest) -> dict[str, Any]:
    app = services.registered_app()
    if request.method == "POST":
        services.update_app(app=app, changes=json_object(request))
    return services.app_registration(app=app)


@require_POST
@control_api
def companies(request: HttpRequest) -> JsonResponse:
    body = json_object(request)
    names = body.get("company_names")
    email, password, name = (_text(body.get(key)) for key in ("email", "password", "name"))
    if (
        email is None
        or password is None
        or name is None
        or not (isinstance(names, list) and names and all(isinstance(n, str) and n for n in names))
    ):
        raise ValueError("send email, password, name and a list of company_names")
    seeded = seed_identity(email=email, password=password, name=name, company_names=names)
    return JsonResponse(
        {"companies": [{"realm_id": c.realm_id, "name": c.name} for c in seeded]}, status=201
    )


@require_GET
@control_api
def connections(request: HttpRequest) -> dict[str, Any]:
    realm_id = request.GET.get("realm_id", "")
    states = services.connection_states(realm_id=realm_id)
    return {
        "realm_id": realm_id,
        "connections": states,
        "live": any(state["live"] for state in states),
    }


def _text(value: Any) -> str | None:
    """The value if it is a non-empty string."""
    return value if isinstance(value, str) and value else None
