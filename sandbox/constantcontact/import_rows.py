"""An import's rows as plain values: each parsed into the contact properties it sets (or the
error that keeps it out), and applied to a contact; the rules of imports.py (see its
docstring), with no model, so the in-process fake (tests/plugins/fake_constantcontact.py)
imports them too."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sandbox.constantcontact.rules import (
    ADDRESS_LIMITS,
    NAME_FIELDS,
    FieldRules,
    check_value,
    stamp_items,
    valid_email,
)

PHONE_COLUMNS = {"home_phone": "home", "work_phone": "work", "mobile_phone": "mobile"}
# Columns without a kind land in "other" (as does other_phone, which wins over phone).
PHONE_COLUMN_ORDER = (("phone", "other"), *PHONE_COLUMNS.items(), ("other_phone", "other"))
ADDRESS_PREFIXES = (("", "other"), ("home_", "home"), ("work_", "work"), ("other_", "other"))
ADDRESS_COLUMNS = {"city": "city", "state": "state", "zip": "postal_code", "country": "country"}
MAX_ROW_CUSTOM_FIELDS = 25
# The spec: an import's `email` is at most 50 characters (a contact's address 80, by POST or
# PUT /contacts).
MAX_IMPORT_EMAIL = 50
ROW_TEXT_LIMITS = {
    "email": MAX_IMPORT_EMAIL,
    **{name: 50 for name in NAME_FIELDS},
    **{column: 25 for column, _ in PHONE_COLUMN_ORDER},
}


class ImportField(FieldRules, Protocol):
    """A custom field a row's `cf:` key names: a CustomField, or the fake's."""

    @property
    def custom_field_id(self) -> Any: ...


class ImportedContact(Protocol):
    """What a row writes of a contact: a Contact, or the fake's."""

    phone_numbers: Any
    street_addresses: Any
    custom_fields: Any
    deleted_at: datetime | None
    update_source: str
    updated_at: datetime


@dataclass
class Row:
    line: int
    email: str
    # Only what the row includes with a value: everything else is left as it is.
    values: dict[str, Any] = field(default_factory=dict)  # contact fields sent
    phones: dict[str, str] = field(default_factory=dict)  # kind -> number
    addresses: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> fields
    custom: dict[str, str] = field(default_factory=dict)  # custom_field_id -> value
    problems: list["Refused"] = field(default_factory=list)  # values left out, the row kept


@dataclass(frozen=True)
class Refused:
    line: int  # the contact's place in import_data, from 1
    reason: str

    def message(self, style: str) -> str:
        if style == "line":
            return f"Line {self.line}: {self.reason}"
        if style == "line_with_header":
            return f"Line {self.line + 1}: {self.reason}"
        return self.reason[:1].upper() + self.reason[1:]


def parse_row(
    line: int,
    raw: Any,
    *,
    refused_domains: frozenset[str],
    fields: Mapping[str, ImportField],
    report_custom: bool,
) -> Row | Refused:
    """A row of the import, or the error that keeps it out."""
    if not isinstance(raw, dict):
        return Refused(line, "the contact must be a JSON object.")
    email = raw.get("email")
    if not valid_email(email):
        return Refused(line, "the email address is missing or invalid.")
    if email.rpartition("@")[2].lower() in refused_domains:
        return Refused(line, "the email address cannot be imported.")
    for column, limit in ROW_TEXT_LIMITS.items():
        value = raw.get(column)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            return Refused(line, f"'{column}' must be text of at most {limit} characters.")
    custom = {key[3:]: value for key, value in raw.items() if key.startswith("cf:")}
    if len(custom) > MAX_ROW_CUSTOM_FIELDS:
        return Refused(line, f"a contact can have at most {MAX_ROW_CUSTOM_FIELDS} custom fields.")
    row = Row(line=line, email=email.strip())
    _custom_values(row, custom, fields, report=report_custom)
    row.values = {name: raw[name] for name in NAME_FIELDS if raw.get(name)}
    for column, kind in PHONE_COLUMN_ORDER:
        if raw.get(column):
            row.phones[kind] = raw[column]
    for prefix, kind in ADDRESS_PREFIXES:
        address = _address(raw, prefix)
        if isinstance(address, str):
            return Refused(line, address)
        if address:
            row.addresses[kind] = {**row.addresses.get(kind, {}), **address}
    return row


def _custom_values(
    row: Row, sent: dict[str, Any], fields: Mapping[str, ImportField], *, report: bool
) -> None:
    """The row's custom field values its fields take; those refused are activity errors
    when `report`, else dropped without a word (`cc_import_custom_field_errors`)."""
    refused = []
    for name, value in sent.items():
        found = fields.get(name)
        if found is None:
            refused.append(Refused(row.line, f"custom field '{name}' does not exist."))
        elif not isinstance(value, str):
            refused.append(Refused(row.line, f"custom field '{name}' must be a string."))
        elif value:
            try:
                row.custom[str(found.custom_field_id)] = check_value(found, value)
            except ValueError as problem:
                refused.append(Refused(row.line, f"custom field '{name}' {problem}."))
    if report:
        row.problems += refused


def _address(raw: dict, prefix: str) -> dict[str, str] | str:
    street = " ".join(
        str(raw[f"{prefix}{name}"]) for name in ("street", "street2") if raw.get(f"{prefix}{name}")
    )
    address = {"street": street} if street else {}
    for column, name in ADDRESS_COLUMNS.items():
        # The spec spells one column "home country".
        value = raw.get(f"{prefix}{column}") or (
            raw.get("home country") if prefix == "home_" and column == "country" else None
        )
        if value:
            address[name] = str(value)
    for name, value in address.items():
        if len(value) > ADDRESS_LIMITS[name]:
            return f"'{prefix}{name}' exceeds the maximum length of {ADDRESS_LIMITS[name]}."
    return address


def _fields_of(address: dict | None) -> dict[str, str]:
    """A stored address's own fields (not its id and times), for a row to merge into."""
    wanted = ("street", *ADDRESS_COLUMNS.values())
    return {key: value for key, value in (address or {}).items() if key in wanted}


def apply_row(contact: ImportedContact, row: Row, *, now: datetime) -> None:
    """Only the fields the row sends a value for; the permission is never changed."""
    for name, value in row.values.items():
        setattr(contact, name, value)
    if row.phones:
        kept = [p for p in contact.phone_numbers if p.get("kind") not in row.phones]
        sent = [{"phone_number": number, "kind": kind} for kind, number in row.phones.items()]
        contact.phone_numbers = (
            stamp_items(sent, "phone_number_id", source="Account", now=now) + kept
        )[:3]
    if row.addresses:
        stored = {a.get("kind"): a for a in contact.street_addresses}
        kept = [a for a in contact.street_addresses if a.get("kind") not in row.addresses]
        sent = [
            {**_fields_of(stored.get(kind)), "kind": kind, **fields}
            for kind, fields in row.addresses.items()
        ]
        contact.street_addresses = (
            stamp_items(sent, "street_address_id", source="Account", now=now) + kept
        )[:3]
    if row.custom:
        kept = [c for c in contact.custom_fields if c.get("custom_field_id") not in row.custom]
        sent = [{"custom_field_id": key, "value": value} for key, value in row.custom.items()]
        contact.custom_fields = kept + sent
    contact.deleted_at = None
    contact.update_source = "Account"
    contact.updated_at = now
