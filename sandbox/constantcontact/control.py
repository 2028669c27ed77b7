"""Control API for tests, the demo and benchmarks (JSON; never part of Constant Contact)."""

from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET, require_POST

from sandbox.common import control_api, json_object
from sandbox.constantcontact import activities, contacts, limits, lists, rules
from sandbox.constantcontact.custom_fields import fields_of
from sandbox.constantcontact.models import Account, Contact
from sandbox.constantcontact.seed import seed_account
from sandbox.constantcontact.shapes import custom_field_json
from sandbox.constantcontact.tags import tag_json, tags_of


def _required(body: dict[str, Any], name: str) -> str:
    if name not in body:
        raise ValueError(f"'{name}' is required")
    return str(body[name])


@require_POST
@control_api
def accounts(request: HttpRequest) -> dict[str, Any]:
    body = json_object(request)
    account = seed_account(
        username=_required(body, "username"),
        password=_required(body, "password"),
        list_names=[str(name) for name in body.get("list_names", [])],
        unsubscribed_emails=[str(email) for email in body.get("unsubscribed_emails", [])],
    )
    names = {item.name: str(item.list_id) for item in lists.live_lists(account)}
    return {"account_id": account.encoded_account_id, "username": account.username, "lists": names}


def _contact_row(contact: Contact) -> dict[str, Any]:
    return {
        **contacts.contact_json(contact, include=rules.INCLUDES),
        "email": contact.email,
        "permission": contact.permission_to_send,
        "deleted": contact.deleted_at is not None,
        "list_names": sorted(item.name for item in contact.lists.all()),
        # To the microsecond (updated_at is to the second): when an import or a PUT last
        # changed it, for the benchmarks' latencies.
        "changed_at": contact.updated_at.isoformat(),
    }


@require_GET
@control_api
def account_contacts(request: HttpRequest, username: str) -> dict[str, Any]:
    account = get_object_or_404(Account, username=username)
    activities.advance(account=account)
    found = Contact.objects.filter(account=account).order_by("id").prefetch_related("lists")
    return {"contacts": [_contact_row(contact) for contact in found]}


@require_GET
@control_api
def account_fields_and_tags(request: HttpRequest, username: str) -> dict[str, Any]:
    """The account's custom fields and tags, for tests and benchmarks (no call counted)."""
    account = get_object_or_404(Account, username=username)
    return {
        "custom_fields": [custom_field_json(field) for field in fields_of(account)],
        "tags": [tag_json(tag) for tag in tags_of(account)],
    }


@require_POST
@control_api
def unsubscribe(request: HttpRequest, username: str) -> dict[str, Any]:
    account = get_object_or_404(Account, username=username)
    email = _required(json_object(request), "email")
    contact = get_object_or_404(Contact, account=account, email_key=email.lower())
    contacts.unsubscribe(contact=contact)
    return {"contact_id": str(contact.contact_id), "permission": "unsubscribed"}


@require_GET
@control_api
def usage(request: HttpRequest) -> dict[str, Any]:
    return limits.usage()


@require_POST
@control_api
def usage_reset(request: HttpRequest) -> dict[str, Any]:
    limits.reset()
    return limits.usage()
