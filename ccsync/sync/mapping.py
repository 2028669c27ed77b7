"""A QuickBooks Customer as a Constant Contact contact.

Stated mapping (values are trimmed, cut to Constant Contact's lengths at a word boundary (a
phone's extension that does not fit is dropped whole), empty ones omitted;
an import leaves alone what it is not sent a value for, so a value emptied after it was sent
is emptied by a PUT of the whole contact, see `contact_update`):
- email: the address the rules chose (rules.choose_email).
- first_name / last_name: GivenName / FamilyName; when both are empty, DisplayName split at
  its first space (one word: first_name only).
- company_name: CompanyName. job_title: Title, unless it is an honorific (QuickBooks' Title
  holds "Mr.", "Dr.", ...), which is not a job title.
- phones: PrimaryPhone -> work_phone, Mobile -> mobile_phone, AlternatePhone -> other_phone
  (Constant Contact has no fax kind; Fax is not sent).
- addresses: BillAddr -> work_* (the business address), ShipAddr -> other_*. Line1 is the
  street, Line2-Line5 joined into street2 (Constant Contact appends it to the street: the
  two together, with their ", ", are cut to 255); CountrySubDivisionCode is the state.
- The QuickBooks identity is kept in our database (customer id <-> email <-> contact id); with
  sales data on (sales.py), the row also carries the chosen figures as `cf:<field name>`
  columns, the customer id among them if chosen.
"""

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from integrations.constantcontact.client import MAX_IMPORT_BYTES, MAX_IMPORT_ROWS

# Constant Contact's lengths (its V3 OpenAPI: JsonImportContact, ContactPutRequest).
NAME_MAX = 50  # first_name, last_name, company_name, job_title
PHONE_MAX = 25  # an import takes 50, a PUT's phone_number 25: the smaller fits both
STREET_MAX = 255
PLACE_MAX = 50  # city, state, zip, country
STREET_JOIN = ", "  # street and street2 as one street


_HONORIFICS = {
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "rev", "sir", "madam", "dame", "lord",
    "lady", "fr", "hon", "mstr", "master",
}  # fmt: skip
_PHONES = (("PrimaryPhone", "work"), ("Mobile", "mobile"), ("AlternatePhone", "other"))
_ADDRESSES = (("BillAddr", "work"), ("ShipAddr", "other"))
_LINES = ("Line2", "Line3", "Line4", "Line5")  # street2


# A phone's extension at its end: "ext. 12", "extension 12", "x12", "#12".
_EXTENSION = re.compile(r"\s*(?:,\s*)?(?:ext\.?|extn\.?|extension|x|#)\s*\d+$", re.IGNORECASE)
_TRAILING = " ,;:-/&"  # left dangling at the end of a cut


def _clean(value: Any, limit: int) -> str:
    text = " ".join(str(value).split()) if value is not None else ""
    return fit(text, limit)


def fit(text: str, limit: int, *, split_word: bool = True) -> str:
    """`text` cut to `limit` characters at a word boundary: a cut word is dropped whole, and
    with it the separator it leaves dangling. A first word longer than the limit is cut
    inside (there is no boundary to cut at) unless `split_word` is False: then nothing
    is left."""
    if len(text) <= limit:
        return text
    head = text[: limit + 1]
    boundary = head.rfind(" ")
    cut = head[:boundary].rstrip(_TRAILING) if boundary > 0 else ""
    if not cut and split_word:
        cut = text[:limit].rstrip()
    return cut


def phone(value: Any) -> str:
    """A phone number that fits: its extension, when the whole does not fit, is dropped
    whole (never "555-1234 extensi"); the number itself is then cut like any text."""
    text = " ".join(str(value).split()) if value is not None else ""
    if len(text) > PHONE_MAX:
        text = _EXTENSION.sub("", text)
    return fit(text, PHONE_MAX)


def names(customer: Mapping[str, Any]) -> tuple[str, str]:
    first = _clean(customer.get("GivenName"), NAME_MAX)
    last = _clean(customer.get("FamilyName"), NAME_MAX)
    if first or last:
        return first, last
    display, _, rest = _clean(customer.get("DisplayName"), 10_000).partition(" ")
    return fit(display, NAME_MAX), fit(rest, NAME_MAX)


def job_title(customer: Mapping[str, Any]) -> str:
    title = _clean(customer.get("Title"), NAME_MAX)
    return "" if title.lower().strip(".") in _HONORIFICS else title


def import_row(customer: Mapping[str, Any], *, email: str) -> dict[str, str]:
    """One row of contacts_json_import's import_data."""
    first, last = names(customer)
    row = {
        "email": email,
        "first_name": first,
        "last_name": last,
        "company_name": _clean(customer.get("CompanyName"), NAME_MAX),
        "job_title": job_title(customer),
    }
    for field, kind in _PHONES:
        row[f"{kind}_phone"] = phone((customer.get(field) or {}).get("FreeFormNumber"))
    for field, kind in _ADDRESSES:
        address = customer.get(field) or {}
        street = _clean(address.get("Line1"), STREET_MAX)
        more = ", ".join(
            line for line in (_clean(address.get(n), STREET_MAX) for n in _LINES) if line
        )
        row[f"{kind}_street"] = street
        # Constant Contact appends street2 to street (a PUT sends them joined by ", "):
        # together they must fit.
        room = STREET_MAX - len(street) - len(STREET_JOIN) if street else STREET_MAX
        # A fragment of a word there would only garble the address.
        row[f"{kind}_street2"] = fit(more, max(room, 0), split_word=False)
        row[f"{kind}_city"] = _clean(address.get("City"), PLACE_MAX)
        row[f"{kind}_state"] = _clean(address.get("CountrySubDivisionCode"), PLACE_MAX)
        row[f"{kind}_zip"] = _clean(address.get("PostalCode"), PLACE_MAX)
        row[f"{kind}_country"] = _clean(address.get("Country"), PLACE_MAX)
    return {key: value for key, value in row.items() if value}


SALES_PREFIX = "cf:"  # an import's custom field column


def without_sales(row: Mapping[str, str]) -> dict[str, str]:
    """The contact's own fields of a row, its cf: columns left out."""
    return {key: value for key, value in row.items() if not key.startswith(SALES_PREFIX)}


def emptied(row: Mapping[str, str], *, sent: Mapping[str, str]) -> list[str]:
    """The fields of the row last `sent` that are empty now. An import cannot empty them
    (it leaves alone what it is not sent a value for): a PUT of the whole contact must.
    A figure is never emptied: it is left out when it cannot be sent or is no longer
    chosen, and what Constant Contact holds stays for the segments built on it."""
    return sorted(key for key in without_sales(sent) if key not in row)


def row_hash(row: Mapping[str, str]) -> str:
    """A stable fingerprint of what is sent: same fields, same hash, whatever their order."""
    canonical = json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


# Properties of a contact QuickBooks knows nothing of: a PUT carries them back as read.
_NOT_OURS = ("custom_fields", "birthday_month", "birthday_day", "anniversary", "notes", "taggings")
_OWNED_PHONES = {kind for _, kind in _PHONES}
_OWNED_ADDRESSES = {kind for _, kind in _ADDRESSES}
MAX_PHONES = MAX_ADDRESSES = 3


def contact_update(
    row: Mapping[str, str],
    *,
    existing: Mapping[str, Any],
    list_ids: Sequence[str],
    custom_field_ids: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A PUT /contacts/{id} body: `existing` (the contact as read, with every subresource)
    with `row`'s values; with `existing` empty, a POST /contacts body.

    PUT replaces every top-level property (omitted ones become null), so what QuickBooks
    does not own (custom fields, notes, birthday, tags, the phones and addresses of kinds we
    never send) is carried back from `existing`, the address is always sent, and the lists
    are the existing ones plus ours (nothing is removed). The permission is never sent: a
    PUT that sends it sets it, and writing back one read a moment earlier could re-subscribe
    a contact who unsubscribed meanwhile. The row's cf: columns are set by
    `custom_field_ids` (column -> field id); the contact's other custom fields are carried
    back.
    """
    body: dict[str, Any] = {key: existing[key] for key in _NOT_OURS if existing.get(key)}
    field_ids = custom_field_ids or {}
    figures = {field_ids[key]: value for key, value in row.items() if key in field_ids}
    if figures:
        kept = [
            field
            for field in existing.get("custom_fields") or []
            if field.get("custom_field_id") not in figures
        ]
        body["custom_fields"] = kept + [
            {"custom_field_id": field_id, "value": value} for field_id, value in figures.items()
        ]
    body["email_address"] = {"address": row["email"]}
    for field in ("first_name", "last_name", "company_name", "job_title"):
        body[field] = row.get(field, "")
    ours = [
        {"kind": kind, "phone_number": row[f"{kind}_phone"]}
        for _, kind in _PHONES
        if row.get(f"{kind}_phone")
    ]
    theirs = [
        {"kind": p["kind"], "phone_number": p["phone_number"]}
        for p in existing.get("phone_numbers") or []
        if p.get("kind") not in _OWNED_PHONES and p.get("phone_number")
    ]
    body["phone_numbers"] = (ours + theirs)[:MAX_PHONES]
    ours = [_street_address(row, kind) for _, kind in _ADDRESSES if _has_address(row, kind)]
    theirs = [
        _writable_address(address)
        for address in existing.get("street_addresses") or []
        if address.get("kind") not in _OWNED_ADDRESSES
    ]
    body["street_addresses"] = (ours + theirs)[:MAX_ADDRESSES]
    lists = list(existing.get("list_memberships") or [])
    body["list_memberships"] = lists + [list_id for list_id in list_ids if list_id not in lists]
    body["update_source"] = "Account"
    return body


def _writable_address(address: Mapping[str, Any]) -> dict[str, str]:
    fields = ("kind", "street", "city", "state", "postal_code", "country")
    return {name: address[name] for name in fields if address.get(name)}


def _has_address(row: Mapping[str, str], kind: str) -> bool:
    return any(key.startswith(f"{kind}_") and not key.endswith("_phone") for key in row)


def _street_address(row: Mapping[str, str], kind: str) -> dict[str, str]:
    parts = (row.get(f"{kind}_street"), row.get(f"{kind}_street2"))
    street = STREET_JOIN.join(part for part in parts if part)
    address = {
        "kind": kind,
        "street": fit(street, STREET_MAX),
        "city": row.get(f"{kind}_city", ""),
        "state": row.get(f"{kind}_state", ""),
        "postal_code": row.get(f"{kind}_zip", ""),
        "country": row.get(f"{kind}_country", ""),
    }
    return {key: value for key, value in address.items() if value}


T = TypeVar("T")


def _json_size(value: Any) -> int:
    # As requests' json= encodes it (default separators, ASCII escapes): the larger form.
    return len(json.dumps(value).encode())


def import_body_size(rows: Sequence[Mapping[str, str]], list_ids: Sequence[str]) -> int:
    return _json_size({"import_data": list(rows), "list_ids": list(list_ids)})


def chunk_rows(
    items: Iterable[tuple[T, Mapping[str, str]]],
    *,
    list_ids: Sequence[str],
    max_bytes: int = MAX_IMPORT_BYTES,
    max_rows: int = MAX_IMPORT_ROWS,
) -> Iterator[list[tuple[T, Mapping[str, str]]]]:
    """Group (key, row) pairs into import requests whose JSON body stays under `max_bytes`
    and holds at most `max_rows` rows."""
    envelope = import_body_size([], list_ids)
    chunk: list[tuple[T, Mapping[str, str]]] = []
    size = envelope
    for key, row in items:
        row_size = _json_size(row) + 2  # and its ", "
        if envelope + row_size >= max_bytes:
            raise ValueError("one contact is larger than an import request may be")
        if chunk and (size + row_size >= max_bytes or len(chunk) >= max_rows):
            yield chunk
            chunk, size = [], envelope
        chunk.append((key, row))
        size += row_size
    if chunk:
        yield chunk
