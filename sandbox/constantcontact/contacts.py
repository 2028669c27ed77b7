"""An account's contacts: the V3 JSON shape, the queries of GET /contacts, and the writes of
the API, the sign-up form and the Unsubscribe button."""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from sandbox.constantcontact import custom_fields, rules, validation
from sandbox.constantcontact.faults import bad_request, conflict, not_found
from sandbox.constantcontact.models import Account, Contact
from sandbox.constantcontact.rules import NAME_FIELDS, contact_body, set_permission, stamp_items
from sandbox.constantcontact.shapes import parse_id

MAX_LISTS_FILTER = 25


# --- JSON shape --------------------------------------------------------------------------


def contact_json(
    contact: Contact, *, include: Iterable[str] = (), date_readings: Mapping[str, str] | None = None
) -> dict:
    """The contact as the API gives it; `date_readings`: the date fields whose values read
    back in another format (custom_fields.date_readings)."""
    body = contact_body(contact)
    for name in include:
        if name == "list_memberships":
            body[name] = sorted(str(item.list_id) for item in contact.lists.all())
        elif name == "taggings":
            body[name] = sorted(str(tag.tag_id) for tag in contact.tags.all())
        elif name == "custom_fields":
            body[name] = custom_fields.as_read(contact.custom_fields, dict(date_readings or {}))
        else:
            body[name] = getattr(contact, name)
    return body


# --- Queries -----------------------------------------------------------------------------


def contacts_query(
    *,
    account: Account,
    status: Sequence[str] = (),
    email: str | None = None,
    list_ids: Sequence[str] = (),
    updated_after: datetime | None = None,
    optout_after: datetime | None = None,
) -> QuerySet[Contact]:
    found = Contact.objects.filter(account=account)
    if "all" not in status:
        found = found.filter(_status_filter(status))
    if email:
        found = found.filter(email_key=email.strip().lower())
    if list_ids:
        if len(list_ids) > MAX_LISTS_FILTER:
            raise bad_request(f"At most {MAX_LISTS_FILTER} lists can be used as a filter.")
        found = found.filter(lists__list_id__in=[parse_id(item) for item in list_ids]).distinct()
    if updated_after:
        found = found.filter(updated_at__gt=updated_after)
    if optout_after:
        found = found.filter(opt_out_date__gt=optout_after)
    return found.order_by("id")


def _status_filter(status: Sequence[str]) -> Q:
    live = Q(deleted_at__isnull=True)
    if not status:
        return live  # deleted contacts are left out unless asked for
    wanted = Q(pk__in=[])
    for item in status:
        if item == "deleted":
            wanted |= Q(deleted_at__isnull=False)
        elif item == "active":
            wanted |= live & ~Q(permission_to_send="unsubscribed")
        else:
            wanted |= live & Q(permission_to_send=item)
    return wanted


def find_contact(*, account: Account, contact_id: str) -> Contact:
    found = Contact.objects.filter(account=account, contact_id=parse_id(contact_id)).first()
    if found is None:
        raise not_found()
    return found


# --- Writes ------------------------------------------------------------------------------


def _email_taken(account: Account, email: str, *, other_than: Contact | None = None) -> bool:
    taken = Contact.objects.filter(account=account, email_key=email.lower())
    if other_than is not None:
        taken = taken.exclude(pk=other_than.pk)
    return taken.exists()


def new_contact(*, account: Account, email: str, source: str, permission: str) -> Contact:
    """An unsaved contact with its email address and opt-in set as Constant Contact does."""
    return rules.new_contact(
        partial(Contact, account=account, email_key=email.lower()),
        email=email,
        source=source,
        permission=permission,
        now=timezone.now(),
    )


def create_contact(*, account: Account, body: Any) -> Contact:
    fields = validation.contact_fields(account, body, source_field="create_source")
    if "email" not in fields:
        raise bad_request("'email_address' is required.")
    if _email_taken(account, fields["email"]):
        raise conflict("Validation failed: Email already exists.")
    contact = new_contact(
        account=account,
        email=fields["email"],
        source=fields["source"],
        permission=fields.get("permission_to_send", "implicit"),
    )
    return _save(contact, fields, replace=False)


def replace_contact(*, account: Account, contact_id: str, body: Any) -> Contact:
    """PUT: top-level fields not sent become empty; sub-resources not sent are kept.

    The spec: "Any properties left blank or not included in the request are overwritten with
    null value". A contact whose address were nulled would keep neither its address nor its
    permission (the sandbox has no SMS channel): a PUT without `email_address.address` is
    refused (400), so a client that leaves it out is caught rather than trusted."""
    contact = find_contact(account=account, contact_id=contact_id)
    fields = validation.contact_fields(account, body, source_field="update_source")
    if "email" not in fields:
        raise bad_request("'email_address.address' is required: a PUT nulls what it omits.")
    source, now = fields["source"], timezone.now()
    if "email" in fields and fields["email"].lower() != contact.email_key:
        if _email_taken(account, fields["email"], other_than=contact):
            raise conflict("Validation failed: Email already exists.")
        contact.email, contact.email_key = fields["email"], fields["email"].lower()
        contact.email_updated_at = now
    permission = fields.get("permission_to_send")
    # Sent, it is set: a PUT can opt a contact back in (the spec's warning, the re-subscribe
    # guide). Not sent, it is kept.
    if permission:
        set_permission(contact, permission, source=source, now=now)
    if contact.deleted_at is not None:
        contact.deleted_at = None
    return _save(contact, fields, replace=True)


def _save(contact: Contact, fields: dict[str, Any], *, replace: bool) -> Contact:
    rules.write_fields(contact, fields, replace=replace, now=timezone.now())
    try:
        with transaction.atomic():
            contact.save()
            if "lists" in fields:
                contact.lists.set(fields["lists"])
    except IntegrityError:
        raise conflict("Validation failed: Email already exists.") from None
    return contact


def delete_contact(*, account: Account, contact_id: str) -> None:
    contact = find_contact(account=account, contact_id=contact_id)
    if contact.deleted_at is None:
        contact.deleted_at = contact.updated_at = timezone.now()
        contact.save(update_fields=["deleted_at", "updated_at"])


def sign_up(*, account: Account, body: Any) -> tuple[Contact, bool]:
    """POST /contacts/sign_up_form: create or update by email, append lists, and opt the
    contact in (explicit), re-subscribing an unsubscribed contact. Returns (contact, created)."""
    joined = validation.sign_up_lists(account, body)
    address = body["email_address"]
    now = timezone.now()
    with transaction.atomic():
        contact = Contact.objects.filter(account=account, email_key=address.lower()).first()
        created = contact is None
        if contact is None:
            contact = new_contact(
                account=account, email=address, source="Contact", permission="explicit"
            )
        else:
            set_permission(contact, "explicit", source="Contact", now=now)
            contact.deleted_at = None
        for name in NAME_FIELDS:
            if body.get(name) is not None:
                setattr(contact, name, body[name])
        if body.get("phone_number"):
            phones = [p for p in contact.phone_numbers if p.get("kind") != "other"]
            contact.phone_numbers = phones + stamp_items(
                [{"phone_number": body["phone_number"], "kind": "other"}],
                "phone_number_id",
                source="Contact",
                now=now,
            )
        contact.update_source = "Contact"
        contact.updated_at = now
        contact.save()
        contact.lists.add(*joined)
    return contact, created


def unsubscribe(*, contact: Contact, source: str = "Contact") -> None:
    """The contact opts out (the sandbox page's Unsubscribe button, or the control API)."""
    now = timezone.now()
    set_permission(contact, "unsubscribed", source=source, now=now)
    contact.updated_at = now
    contact.save()
