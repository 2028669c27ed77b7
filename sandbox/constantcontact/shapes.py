"""The V3 API's JSON conventions (times in UTC to the second, UUID ids, empty fields left
out) and the shapes of lists, activities and custom fields: of the sandbox's models, and of
the in-process fake's (tests/plugins/fake_constantcontact.py), so no model is imported."""

import math
import uuid
from datetime import UTC, datetime
from typing import Any, Protocol

from sandbox.constantcontact.faults import bad_request

# The kinds of bulk activity (models.Activity's): an import's status counts people, and
# taggings touch no list.
IMPORT = "add_contacts"
ADD_LIST_MEMBERSHIPS = "list_add_membership"
LIST_DELETE = "list_delete"
ADD_TAGGINGS = "contacts_taggings_add"


class ListShape(Protocol):
    @property
    def list_id(self) -> Any: ...
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def favorite(self) -> bool: ...
    @property
    def created_at(self) -> datetime | None: ...
    @property
    def updated_at(self) -> datetime | None: ...
    @property
    def deleted_at(self) -> datetime | None: ...


class ActivityShape(Protocol):
    @property
    def activity_id(self) -> Any: ...
    @property
    def kind(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def items_total_count(self) -> int: ...
    @property
    def items_completed_count(self) -> int: ...
    @property
    def person_count(self) -> int: ...
    @property
    def error_count(self) -> int: ...
    @property
    def correctable_count(self) -> int: ...
    @property
    def cannot_add_to_list_count(self) -> int: ...
    @property
    def list_count(self) -> int: ...
    @property
    def activity_errors(self) -> Any: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def started_at(self) -> datetime | None: ...
    @property
    def completed_at(self) -> datetime | None: ...


class FieldShape(Protocol):
    @property
    def custom_field_id(self) -> Any: ...
    @property
    def label(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def metadata(self) -> Any: ...
    @property
    def choices(self) -> Any: ...
    @property
    def version(self) -> int | None: ...


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def without_nulls(values: dict[str, Any]) -> dict[str, Any]:
    # The spec's fields are not nullable: Constant Contact leaves empty ones out.
    return {key: value for key, value in values.items() if value not in (None, "")}


def parse_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise bad_request(f"'{value}' is not a valid id.") from None


def list_json(contact_list: ListShape, *, membership_count: int | None = None) -> dict:
    body = without_nulls(
        {
            "list_id": str(contact_list.list_id),
            "name": contact_list.name,
            "description": contact_list.description,
            "favorite": contact_list.favorite,
            "created_at": iso(contact_list.created_at),
            "updated_at": iso(contact_list.updated_at),
            "deleted_at": iso(contact_list.deleted_at),
        }
    )
    body["favorite"] = contact_list.favorite
    if membership_count is not None:
        body["membership_count"] = membership_count
    return body


def activity_json(activity: ActivityShape) -> dict:
    total, done = activity.items_total_count, activity.items_completed_count
    status: dict[str, Any] = {"items_total_count": total, "items_completed_count": done}
    if activity.kind == IMPORT:
        status.update(
            person_count=activity.person_count,
            error_count=activity.error_count,
            correctable_count=activity.correctable_count,
            cannot_add_to_list_count=activity.cannot_add_to_list_count,
        )
    if activity.kind != ADD_TAGGINGS:
        status["list_count"] = activity.list_count
    body = {
        "activity_id": str(activity.activity_id),
        "state": activity.state,
        "created_at": iso(activity.created_at),
        "updated_at": iso(activity.updated_at),
        "percent_done": 100 if total == 0 else math.floor(100 * done / total),
        "activity_errors": list(activity.activity_errors),
        "status": status,
        "_links": {"self": {"href": f"/v3/activities/{activity.activity_id}"}},
    }
    if activity.started_at:
        body["started_at"] = iso(activity.started_at)
    if activity.completed_at:
        body["completed_at"] = iso(activity.completed_at)
    return body


def custom_field_json(field: FieldShape) -> dict:
    body: dict[str, Any] = {
        "custom_field_id": str(field.custom_field_id),
        "label": field.label,
        "name": field.name,
        "type": field.type,
        "created_at": iso(field.created_at),
        "updated_at": iso(field.updated_at),
    }
    if field.metadata:
        body["metadata"] = field.metadata
    if field.choices:
        body["choices"] = field.choices
    if field.version is not None:
        body["version"] = field.version
    return body
