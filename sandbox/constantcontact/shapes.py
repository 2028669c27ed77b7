"""The V3 API's JSON conventions: times in UTC to the second, UUID ids, empty fields left
out."""

import uuid
from datetime import UTC, datetime
from typing import Any

from sandbox.constantcontact.faults import bad_request


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
