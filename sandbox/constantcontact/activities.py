"""Bulk activities (JSON contact import, add list memberships, add tags), processed lazily.

Every read of an account's activities, contacts or pages (and a background tick) advances
its unfinished activities to where they would be by now: elapsed seconds since creation x
the knob `cc_import_rate_per_second` items. So contacts appear progressively, and the same
timings always give the same states.
"""

import threading
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from sandbox.constantcontact import imports, lists, tags
from sandbox.constantcontact.faults import ApiError, bad_request
from sandbox.constantcontact.models import Account, Activity, Contact, ContactList
from sandbox.constantcontact.rules import UNFINISHED, advance_to, items_due
from sandbox.constantcontact.shapes import parse_id
from sandbox.control import clock, knobs

MAX_IMPORT_BYTES = 4 * 1024 * 1024
MAX_IMPORT_CONTACTS = 40_000
MAX_SOURCE_CONTACTS = 500
MAX_TARGET_LISTS = 50

_advance_lock = threading.Lock()


# --- Creating ----------------------------------------------------------------------------


def create_import(*, account: Account, body: Any) -> Activity:
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    rows, list_ids = body.get("import_data"), body.get("list_ids")
    if not isinstance(rows, list) or not rows:
        raise bad_request("'import_data' must be a non-empty array of contacts.")
    if len(rows) > MAX_IMPORT_CONTACTS:
        raise bad_request(f"'import_data' can hold at most {MAX_IMPORT_CONTACTS} contacts.")
    targets = _target_lists(account, list_ids)
    return _queue(account, Activity.IMPORT, {"rows": rows}, targets, total=len(rows))


def create_add_list_memberships(*, account: Account, body: Any) -> Activity:
    if not isinstance(body, dict) or not isinstance(body.get("source"), dict):
        raise bad_request("'source' and 'list_ids' are required.")
    source = body["source"]
    targets = _target_lists(account, body.get("list_ids"))
    if source.get("contact_ids"):
        ids = source["contact_ids"]
        if not isinstance(ids, list) or len(ids) > MAX_SOURCE_CONTACTS:
            raise bad_request(f"'source.contact_ids' can hold at most {MAX_SOURCE_CONTACTS} ids.")
        found = Contact.objects.filter(
            account=account, contact_id__in=[parse_id(str(item)) for item in ids]
        )
    elif source.get("list_ids"):
        sources = lists.lists_by_ids(account=account, list_ids=[str(i) for i in source["list_ids"]])
        found = Contact.objects.filter(account=account, lists__in=sources).distinct()
    else:
        raise bad_request("'source' needs 'contact_ids' or 'list_ids'.")
    contact_pks = list(
        found.filter(deleted_at__isnull=True).order_by("id").values_list("id", flat=True)
    )
    return _queue(
        account,
        Activity.ADD_LIST_MEMBERSHIPS,
        {"contacts": contact_pks},
        targets,
        total=len(contact_pks),
    )


def create_add_taggings(*, account: Account, body: Any) -> Activity:
    """POST /activities/contacts_taggings_add: the tags must exist; the contacts are those
    the source names when the activity is created."""
    if not isinstance(body, dict):
        raise bad_request("'source' and 'tag_ids' are required.")
    targets = tags.tags_by_ids(account=account, tag_ids=body.get("tag_ids"))
    contact_pks = tags.tagging_contacts(account=account, body=body)
    return _queue(
        account,
        Activity.ADD_TAGGINGS,
        {"contacts": contact_pks, "tag_ids": [str(tag.tag_id) for tag in targets]},
        [],
        total=len(contact_pks),
    )


def _target_lists(account: Account, list_ids: Any) -> list[ContactList]:
    if not isinstance(list_ids, list) or not 1 <= len(list_ids) <= MAX_TARGET_LISTS:
        raise bad_request(f"'list_ids' must hold 1 to {MAX_TARGET_LISTS} list ids.")
    return lists.lists_by_ids(account=account, list_ids=[str(item) for item in list_ids])


def _queue(
    account: Account, kind: str, payload: dict, targets: list[ContactList], *, total: int
) -> Activity:
    advance(account=account)
    limit = knobs.get("cc_max_queued_activities")
    if Activity.objects.filter(account=account, state__in=UNFINISHED).count() >= limit:
        raise ApiError(
            429,
            "too_many_requests",
            f"Too many requests. You exceeded {limit:,} queued activities for this user account.",
        )
    now = clock.activities_now()
    return Activity.objects.create(
        account=account,
        kind=kind,
        payload={**payload, "list_ids": [str(item.list_id) for item in targets]},
        items_total_count=total,
        list_count=len(targets),
        created_at=now,
        updated_at=now,
    )


# --- Reading -----------------------------------------------------------------------------


def get_activity(*, account: Account, activity_id: str) -> Activity:
    advance(account=account)
    found = Activity.objects.filter(account=account, activity_id=parse_id(activity_id)).first()
    if found is None:
        raise ApiError(404, "not_found", "The requested resource was not found.")
    return found


def list_activities(*, account: Account, state: str | None) -> QuerySet[Activity]:
    advance(account=account)
    found = Activity.objects.filter(account=account)
    if state:
        found = found.filter(state=state)
    return found.order_by("-id")


# --- Processing --------------------------------------------------------------------------


def advance(*, account: Account | None = None) -> None:
    """Bring unfinished activities (of one account, or all) up to date, oldest first."""
    with _advance_lock:
        pending = Activity.objects.filter(state__in=UNFINISHED).order_by("id")
        if account is not None:
            pending = pending.filter(account=account)
        rate = knobs.get("cc_import_rate_per_second")
        for activity in pending:
            with transaction.atomic():
                _advance_one(activity, rate=rate, now=clock.activities_now())


def _advance_one(activity: Activity, *, rate: float, now: datetime) -> None:
    target = items_due(activity, rate=rate, now=now)
    if target is None:
        return
    start = activity.items_completed_count
    if activity.kind == Activity.IMPORT:
        imports.import_rows(activity, start, target)
    elif activity.kind == Activity.ADD_TAGGINGS:
        tags.add_taggings(activity.payload["contacts"][start:target], activity.payload["tag_ids"])
    else:
        _add_memberships(activity, start, target)
    advance_to(activity, target, now=now)
    activity.save()


def _add_memberships(activity: Activity, start: int, end: int) -> None:
    targets = list(ContactList.objects.filter(list_id__in=activity.payload["list_ids"]))
    found = Contact.objects.filter(pk__in=activity.payload["contacts"][start:end])
    lists.add_members([c for c in found if c.permission_to_send != "unsubscribed"], targets)
