"""Control API for tests, the demo and benchmarks: change customers the way a QuickBooks
user would (webhooks included), seed a company, look at the webhook outbox."""

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sandbox import common
from sandbox.common import json_body
from sandbox.quickbooks import selectors, services
from sandbox.quickbooks.models import WebhookDelivery, WebhookEvent
from sandbox.quickbooks.seed import seed_customers

RECENT_DELIVERIES = 200


def control_api(view: Callable[..., Any]) -> Callable[..., HttpResponse]:
    """The sandbox's control API (a refused change is a 400), where an unknown customer
    is a 404."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            return view(request, *args, **kwargs)
        except services.CustomerNotFound as error:
            raise common.NotFound(str(error)) from None

    return common.control_api(wrapped)


@require_http_methods(["GET", "POST"])
@control_api
def customers(request: HttpRequest, realm_id: str) -> Any:
    """GET: every live customer, inactive ones included. POST: create one (a JSON object)
    or many (a list); answers in the same shape, with Ids."""
    if request.method == "GET":
        return {
            "Customer": [
                selectors.customer_json(customer)
                for customer in selectors.live_customers(realm_id=realm_id).order_by("number")
            ]
        }
    body = json_body(request)
    many = isinstance(body, list)
    created = services.create_customers(realm_id=realm_id, customers=body if many else [body])
    rendered = [selectors.customer_json(customer) for customer in created]
    return JsonResponse(rendered if many else rendered[0], status=201, safe=False)


@require_POST
@control_api
def update(request: HttpRequest, realm_id: str, customer_id: str) -> Any:
    customer = services.update_customer(
        realm_id=realm_id, customer_id=customer_id, changes=json_body(request)
    )
    return selectors.customer_json(customer)


@require_POST
@control_api
def update_many(request: HttpRequest, realm_id: str) -> Any:
    """Many edits at once, as an import or a batch of API calls makes them: a JSON list of
    {"Id": <customer id>, <properties to change>}; all or none, one event per edit. Answers
    the customers as they now are."""
    body = json_body(request)
    if not isinstance(body, list) or not all(isinstance(e, dict) and "Id" in e for e in body):
        raise services.CustomerError('send a list of {"Id": <customer id>, <properties>}')
    with transaction.atomic():
        updated = [
            services.update_customer(
                realm_id=realm_id,
                customer_id=str(edit["Id"]),
                changes={name: value for name, value in edit.items() if name != "Id"},
            )
            for edit in body
        ]
    return {"Customer": [selectors.customer_json(customer) for customer in updated]}


@require_POST
@control_api
def deactivate(request: HttpRequest, realm_id: str, customer_id: str) -> Any:
    customer = services.set_active(realm_id=realm_id, customer_id=customer_id, active=False)
    return selectors.customer_json(customer)


@require_POST
@control_api
def reactivate(request: HttpRequest, realm_id: str, customer_id: str) -> Any:
    customer = services.set_active(realm_id=realm_id, customer_id=customer_id, active=True)
    return selectors.customer_json(customer)


@require_POST
@control_api
def delete(request: HttpRequest, realm_id: str, customer_id: str) -> Any:
    services.delete_customer(realm_id=realm_id, customer_id=customer_id)
    return {"deleted": customer_id}


@require_POST
@control_api
def merge(request: HttpRequest, realm_id: str, customer_id: str, into_id: str) -> Any:
    survivor = services.merge_customer(realm_id=realm_id, customer_id=customer_id, into_id=into_id)
    return selectors.customer_json(survivor)


@require_POST
@control_api
def seed(request: HttpRequest, realm_id: str) -> Any:
    """Bulk customers with the edge cases (no webhooks): {"count": n, "random_seed": 0,
    "sales": false}; with "sales": true the company's customers then get customer types
    and about 3 sales each (seed_sales.py)."""
    body = json_body(request)
    count, random_seed = body.get("count"), body.get("random_seed", 0)
    with_sales = body.get("sales", False)
    if (
        not isinstance(count, int)
        or not isinstance(random_seed, int)
        or count < 0
        or not isinstance(with_sales, bool)
    ):
        raise services.CustomerError(
            'send {"count": <n >= 0>, "random_seed": <int>, "sales": <true|false>}'
        )
    return {
        "created": seed_customers(
            realm_id=realm_id, count=count, random_seed=random_seed, sales=with_sales
        )
    }


@require_GET
@control_api
def webhooks(request: HttpRequest) -> Any:
    """The outbox: events not yet in a delivery, and the latest deliveries."""
    pending = WebhookEvent.objects.filter(delivery=None).order_by("pk")
    deliveries = WebhookDelivery.objects.order_by("-pk").prefetch_related(
        Prefetch("events", queryset=WebhookEvent.objects.order_by("pk"))
    )[:RECENT_DELIVERIES]
    return {
        "pending": [_event(event) for event in pending],
        "deliveries": [
            {
                "id": delivery.pk,
                "target_url": delivery.target_url,
                "delivered": delivery.delivered_at is not None,
                "delivered_at": _time(delivery.delivered_at),
                "attempts": delivery.attempts,
                "last_status": delivery.last_status,
                "last_error": delivery.last_error,
                "next_attempt_at": None
                if delivery.delivered_at
                else _time(delivery.next_attempt_at),
                "events": [_event(event) for event in delivery.events.all()],
            }
            for delivery in deliveries
        ],
    }


def _event(event: WebhookEvent) -> dict[str, Any]:
    return {
        "event_id": str(event.event_id),
        "realm_id": event.realm_id,
        "entity": event.entity,
        "entity_id": event.customer_id,
        "customer_id": event.customer_id,  # the entity's Id (named so before invoices came)
        "operation": event.operation,
        "deleted_id": event.deleted_id,
        "target_url": event.target_url,
        "occurred_at": _time(event.occurred_at),
    }


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
