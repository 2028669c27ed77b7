"""The V3 API's query parameters: flags, limits, comma-separated values, times, and the
paging cursors of `_links.next`."""

import base64
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.utils.dateparse import parse_datetime

from sandbox.constantcontact.faults import bad_request

CURSOR_POSITIONS = ("offset", "after", "before")  # where a page resumes


def flag(value: str | None, name: str) -> bool:
    if value in (None, "", "false"):
        return False
    if value == "true":
        return True
    raise bad_request(f"'{name}' must be true or false.")


def limit(value: str | None, *, default: int, top: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= top:
        raise bad_request(f"'limit' must be an integer from 1 to {top}.")
    return number


def csv(value: str | None, *, allowed: Sequence[str], name: str) -> list[str]:
    items = [item.strip() for item in (value or "").split(",") if item.strip()]
    unknown = [item for item in items if item not in allowed]
    if unknown:
        raise bad_request(f"'{unknown[0]}' is not a valid value for '{name}'.")
    return items


def moment(value: str | None, *, name: str) -> datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value.replace(" ", "+"))
    if parsed is None:
        raise bad_request(f"'{name}' must be an ISO-8601 date-time.")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def query(request: HttpRequest) -> dict[str, Any]:
    """The request's query, or the one its paging cursor stands for."""
    if request.GET.get("cursor"):
        return _decode_cursor(request.GET["cursor"])
    # Positions come only from our own cursors.
    return {key: value for key, value in request.GET.items() if key not in CURSOR_POSITIONS}


def next_link(path: str, resume: dict[str, Any]) -> dict:
    """`_links` to the next page: the query to resume, as a cursor."""
    return {"next": {"href": f"/v3/{path}?{urlencode({'cursor': _encode_cursor(resume)})}"}}


def _encode_cursor(values: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode()


def _decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError:
        raise bad_request("The cursor is not valid.") from None
    positions = (
        [values.get(name, 0) for name in CURSOR_POSITIONS] if isinstance(values, dict) else []
    )
    if not positions or not all(isinstance(item, int) for item in positions):
        raise bad_request("The cursor is not valid.")
    return values
