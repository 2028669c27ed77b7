"""Control API for tests, the demo and benchmarks (JSON; never part of Constant Contact)."""

import json
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from sandbox.constantcontact import activities, limits
from sandbox.constantcontact import contacts as cc
from sandbox.constantcontact.identity import SignUpError
from sandbox.constantcontact.models import Account, Contact
from sandbox.constantcontact.seed import seed_account


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ValueError("send a JSON object")
    return body


@csrf_exempt
@require_POST
def accounts(request: HttpRequest) -> JsonResponse:
    try:
        body = _body(request)
        account = seed_account(
            username=str(body["username"]),
            password=str(body["password"]),
            list_names=[str(name) for name in body.get("list_names", [])],
            unsubscribed_emails=[str(email) for email in body.get("unsubscribed_emails", [])],
        )
    except (KeyError, ValueError, SignUpError) as error:
        return JsonResponse({"error": f"bad request: {error}"}, status=400)
    lists = {item.name: str(item.list_id) for item in cc.live_lists(account)}
    return JsonResponse(
        {"account_id": account.encoded_account_id, "username": account.username, "lists": lists}
    )


def _contact_row(contact: Contact) -> dict[str, Any]:
    return {
        **cc.contact_json(contact, include=cc.INCLUDES),
        "email": contact.email,
        "permission": contact.permission_to_send,
        "deleted": contact.deleted_at is not None,
        "list_names": sorted(item.name for item in contact.lists.all()),
        # To the microsecond (updated_at is to the second): when an import or a PUT last
        # changed it, for the benchmarks' latencies.
        "changed_at": contact.updated_at.isoformat(),
    }


@require_GET
def account_contacts(request: HttpRequest, username: str) -> JsonResponse:
    account = get_object_or_404(Account, username=username)
    activities.advance(account=account)
    found = Contact.objects.filter(account=account).order_by("id").prefetch_related("lists")
    return JsonResponse({"contacts": [_contact_row(contact) for contact in found]})


@csrf_exempt
@require_POST
def unsubscribe(request: HttpRequest, username: str) -> JsonResponse:
    account = get_object_or_404(Account, username=username)
    try:
        email = str(_body(request)["email"])
    except (KeyError, ValueError) as error:
        return JsonResponse({"error": f"bad request: {error}"}, status=400)
    contact = get_object_or_404(Contact, account=account, email_key=email.lower())
    cc.unsubscribe(contact=contact)
    return JsonResponse({"contact_id": str(contact.contact_id), "permission": "unsubscribed"})


@require_GET
def usage(request: HttpRequest) -> JsonResponse:
    return JsonResponse(limits.usage())


@csrf_exempt
@require_POST
def usage_reset(request: HttpRequest) -> JsonResponse:
    limits.reset()
    return JsonResponse(limits.usage())
