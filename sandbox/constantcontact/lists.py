"""An account's contact lists: the V3 JSON shape, reads and writes, and memberships."""

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from sandbox.constantcontact.faults import bad_request, conflict, not_found
from sandbox.constantcontact.models import Account, Activity, Contact, ContactList
from sandbox.constantcontact.shapes import parse_id

BATCH = 500
MAX_PAGE = 500  # GET /contact_lists' limit: "from 1 - 500" (the spec's description)


def create_list(*, account: Account, name: str, description: str = "", favorite: bool = False):
    name = name.strip()
    if not name or len(name) > 255:
        raise bad_request("The list name must be 1 to 255 characters long.")
    if live_lists(account).filter(name__iexact=name).exists():
        raise conflict(f"The list name '{name}' is already in use.")
    try:
        with transaction.atomic():
            return ContactList.objects.create(
                account=account, name=name, description=description, favorite=favorite
            )
    except IntegrityError:
        raise conflict(f"The list name '{name}' is already in use.") from None


def live_lists(account: Account) -> QuerySet[ContactList]:
    return ContactList.objects.filter(account=account, deleted_at__isnull=True)


def lists_of(*, account: Account, status: str, name: str | None) -> QuerySet[ContactList]:
    found = ContactList.objects.filter(account=account)
    if status == "active":
        found = found.filter(deleted_at__isnull=True)
    elif status == "deleted":
        found = found.filter(deleted_at__isnull=False)
    elif status != "all":
        raise bad_request("'status' must be all, active or deleted.")
    if name:
        found = found.filter(name__iexact=name)
    return found.order_by("created_at", "list_id")


def update_list(
    *, contact_list: ContactList, name: str, description: str | None, favorite: bool | None
) -> ContactList:
    name = name.strip()
    if not name or len(name) > 255:
        raise bad_request("The list name must be 1 to 255 characters long.")
    taken = live_lists(contact_list.account).filter(name__iexact=name)
    if taken.exclude(pk=contact_list.pk).exists():
        raise conflict(f"The list name '{name}' is already in use.")
    contact_list.name = name
    if description is not None:
        contact_list.description = str(description)
    if favorite is not None:
        contact_list.favorite = bool(favorite)
    contact_list.save()
    return contact_list


def delete_list(*, contact_list: ContactList) -> Activity:
    """Deleting a list is an activity at Constant Contact; here it is done at once."""
    now = timezone.now()
    with transaction.atomic():
        contact_list.contacts.clear()
        contact_list.deleted_at = now
        contact_list.save(update_fields=["deleted_at", "updated_at"])
        return Activity.objects.create(
            account=contact_list.account,
            kind=Activity.LIST_DELETE,
            state="completed",
            payload={"list_ids": [str(contact_list.list_id)]},
            items_total_count=1,
            items_completed_count=1,
            list_count=1,
            created_at=now,
            updated_at=now,
            started_at=now,
            completed_at=now,
        )


def get_list(*, account: Account, list_id: str) -> ContactList:
    found = ContactList.objects.filter(account=account, list_id=parse_id(list_id)).first()
    if found is None:
        raise not_found()
    return found


def lists_by_ids(*, account: Account, list_ids: Sequence[str]) -> list[ContactList]:
    """The account's live lists with these ids; a 400 naming any that does not exist."""
    wanted = list(dict.fromkeys(list_ids))
    ids = [parse_id(item) for item in wanted]
    found = {str(item.list_id): item for item in live_lists(account).filter(list_id__in=ids)}
    missing = [item for item in wanted if item not in found]
    if missing:
        raise bad_request(*(f"List {item} does not exist." for item in missing))
    return [found[item] for item in wanted]


def membership_counts(lists: Iterable[ContactList], *, active_only: bool) -> dict[Any, int]:
    members = Q(contacts__deleted_at__isnull=True)
    if active_only:
        members &= ~Q(contacts__permission_to_send="unsubscribed")
    rows = ContactList.objects.filter(pk__in=[item.pk for item in lists]).annotate(
        members=Count("contacts", filter=members)
    )
    return {row.pk: row.members for row in rows}


def add_members(members: Sequence[Contact], lists: Sequence[ContactList]) -> None:
    """Every contact onto every list (in bulk; memberships already there are kept)."""
    through = Contact.lists.through
    links = [through(contact_id=c.pk, contactlist_id=item.pk) for c in members for item in lists]
    through.objects.bulk_create(links, ignore_conflicts=True, batch_size=BATCH)
