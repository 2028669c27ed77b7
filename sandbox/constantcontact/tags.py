"""An account's tags: their V3 JSON shape, creation, and which contacts a tagging activity's
`source` names (the spec's `createTagRemoveActivity_request`; the guides "Tags overview" and
"Add Tags to Contacts", developer.constantcontact.com/api_guide/tags_overview.html and
add_tagging_activity.html)."""

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet

from sandbox.constantcontact import lists
from sandbox.constantcontact.faults import bad_request, conflict, not_found
from sandbox.constantcontact.models import Account, Contact, Tag
from sandbox.constantcontact.shapes import iso, parse_id

MAX_PER_ACCOUNT = 500  # "Your account can have up to 500 tags" (Tags overview)
MAX_NAME = 255
MAX_SOURCE_CONTACTS = 500
MAX_SOURCE_LISTS = 50
MAX_TAG_IDS = 50
SOURCES = ("contact_ids", "list_ids", "tag_ids", "all_active_contacts", "new_subscriber")
BATCH = 500


def tag_json(tag: Tag, *, contacts_count: int | None = None) -> dict:
    body: dict[str, Any] = {
        "tag_id": str(tag.tag_id),
        "name": tag.name,
        "created_at": iso(tag.created_at),
        "updated_at": iso(tag.updated_at),
    }
    if tag.tag_source:
        body["tag_source"] = tag.tag_source
    if contacts_count is not None:
        body["contacts_count"] = contacts_count
    return body


def tags_of(account: Account) -> QuerySet[Tag]:
    return Tag.objects.filter(account=account).order_by("created_at", "tag_id")


def contacts_counts(tags: Iterable[Tag]) -> dict[Any, int]:
    rows = Tag.objects.filter(pk__in=[tag.pk for tag in tags]).annotate(
        tagged=Count("contacts", filter=Q(contacts__deleted_at__isnull=True))
    )
    return {row.pk: row.tagged for row in rows}


def get_tag(*, account: Account, tag_id: str) -> Tag:
    found = tags_of(account).filter(tag_id=parse_id(tag_id)).first()
    if found is None:
        raise not_found()
    return found


def create_tag(*, account: Account, body: Any) -> Tag:
    """POST /contact_tags: `name` 1 to 255 characters and unique (409), `tag_source` kept."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    name, source = body.get("name"), body.get("tag_source")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= MAX_NAME:
        raise bad_request(f"'name' is required, 1 to {MAX_NAME} characters.")
    if source is not None and not isinstance(source, str):
        raise bad_request("'tag_source' must be a string.")
    name = name.strip()
    with transaction.atomic():
        if tags_of(account).filter(name__iexact=name).exists():
            raise conflict(f"The tag name '{name}' is already in use.")
        if tags_of(account).count() >= MAX_PER_ACCOUNT:
            raise bad_request(f"An account can have at most {MAX_PER_ACCOUNT} tags.")
        try:
            with transaction.atomic():
                return Tag.objects.create(account=account, name=name, tag_source=source or "")
        except IntegrityError:
            raise conflict(f"The tag name '{name}' is already in use.") from None


def tags_by_ids(*, account: Account, tag_ids: Any) -> list[Tag]:
    if not isinstance(tag_ids, list) or not 1 <= len(tag_ids) <= MAX_TAG_IDS:
        raise bad_request(f"'tag_ids' must hold 1 to {MAX_TAG_IDS} tag ids.")
    wanted = list(dict.fromkeys(str(item) for item in tag_ids))
    found = {
        str(tag.tag_id): tag
        for tag in tags_of(account).filter(tag_id__in=[parse_id(i) for i in wanted])
    }
    missing = [item for item in wanted if item not in found]
    if missing:
        raise bad_request(*(f"Tag {item} does not exist." for item in missing))
    return [found[item] for item in wanted]


def tagging_contacts(*, account: Account, body: dict) -> list[int]:
    """The contacts (internal ids, in order) a tagging activity's `source` and `exclude`
    name: exactly one source; `exclude` only with `list_ids` or `all_active_contacts`."""
    source, exclude = body.get("source"), body.get("exclude")
    if not isinstance(source, dict):
        raise bad_request("'source' is required.")
    given = [name for name in SOURCES if source.get(name) not in (None, False, [])]
    if len(given) != 1:
        raise bad_request(f"'source' must hold exactly one of {', '.join(SOURCES)}.")
    kind = given[0]
    excluded = _excluded(exclude, kind)
    found = Contact.objects.filter(account=account, deleted_at__isnull=True)
    if kind == "contact_ids":
        ids = _id_list(source[kind], "source.contact_ids", MAX_SOURCE_CONTACTS)
        found = found.filter(contact_id__in=[parse_id(item) for item in ids])
    elif kind == "list_ids":
        ids = _id_list(source[kind], "source.list_ids", MAX_SOURCE_LISTS)
        found = found.filter(lists__in=lists.lists_by_ids(account=account, list_ids=ids))
    elif kind == "tag_ids":
        found = found.filter(tags__in=tags_by_ids(account=account, tag_ids=source[kind]))
    elif kind == "all_active_contacts":
        if source[kind] is not True:
            raise bad_request("'source.all_active_contacts' must be true.")
        found = found.exclude(permission_to_send="unsubscribed")
    else:
        raise bad_request("The sandbox does not model 'source.new_subscriber'.")
    if excluded:
        found = found.exclude(contact_id__in=[parse_id(item) for item in excluded])
    return list(found.distinct().order_by("id").values_list("id", flat=True))


def _excluded(exclude: Any, kind: str) -> list[str]:
    if exclude in (None, {}):
        return []
    if kind not in ("list_ids", "all_active_contacts"):
        raise bad_request("'exclude' applies only to the list_ids and all_active_contacts sources.")
    if not isinstance(exclude, dict):
        raise bad_request("'exclude' must be an object.")
    return _id_list(exclude.get("contact_ids") or [], "exclude.contact_ids", None)


def _id_list(value: Any, name: str, top: int | None) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise bad_request(f"'{name}' must be an array of ids.")
    if top is not None and len(value) > top:
        raise bad_request(f"'{name}' can hold at most {top} ids.")
    return value


def add_taggings(contact_pks: Sequence[int], tag_ids: Sequence[str]) -> None:
    """Every contact gets every tag (in bulk; taggings already there are kept)."""
    through = Contact.tags.through
    targets = list(Tag.objects.filter(tag_id__in=tag_ids).values_list("pk", flat=True))
    links = [through(contact_id=pk, tag_id=tag) for pk in contact_pks for tag in targets]
    through.objects.bulk_create(links, ignore_conflicts=True, batch_size=BATCH)
