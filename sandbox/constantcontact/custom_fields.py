"""An account's custom fields: their V3 JSON shape, creation (at most 100 an account), and the
check of a value a contact is given for one.

Types, metadata and `version` follow the guide "Create and update custom fields"
(developer.constantcontact.com/api_guide/create_custom_fields.html) and the spec's
`createCustomFields_request`. Values are strings (the spec's contact `custom_fields[].value`,
at most 255 characters); where the documentation says nothing of a type's value formats the
sandbox takes the narrowest reading (see `check_value`).

Where the documentation is silent the knobs give each reading:
- `cc_custom_field_punctuation`: what a label's punctuation does to the field's `name` (the
  spec says only "constructed from the label by replacing blanks with underscores"): "kept"
  (that sentence, literally), "dropped" (the name keeps letters, digits and underscores) or
  "refused" (400).
- `cc_custom_field_date_format`: how a date field's value reads back (stored as a date):
  "YYYY-MM-DD", any format the spec lists for dates ("MM/DD/YYYY", "M/D/YYYY", ...), or
  "display_format" (each field's `metadata.display_format`, which "may display as
  MM/DD/YYYY").
"""

import re
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from sandbox.constantcontact.faults import bad_request, conflict, not_found
from sandbox.constantcontact.models import Account, CustomField
from sandbox.constantcontact.rules import SELECTS, TYPES
from sandbox.constantcontact.shapes import parse_id
from sandbox.control import knobs

MAX_PER_ACCOUNT = 100
MAX_LABEL = 50
MAX_DECIMAL_PLACES = 4
# The date formats the spec lists (`anniversary`, `sms_consent_date`): how a date may read.
READ_DATE_FORMATS = (
    "YYYY-MM-DD",
    "MM/DD/YYYY",
    "M/D/YYYY",
    "YYYY/MM/DD",
    "YYYY/M/D",
    "YYYY-M-D",
    "MM-DD-YYYY",
    "M-D-YYYY",
    "M-DD-YYYY",
)
PUNCTUATION_READINGS = ("kept", "dropped", "refused")
_PUNCTUATION = re.compile(r"[^\w ]")


def name_for(label: str) -> str:
    """The spec: "constructed from the label by replacing blanks with underscores"; what
    punctuation does is undocumented (the knob's reading)."""
    if knobs.get("cc_custom_field_punctuation") == "dropped":
        label = " ".join(_PUNCTUATION.sub("", label).split())
    return label.replace(" ", "_")


def format_date(day: date, pattern: str) -> str:
    """`day` written in one of READ_DATE_FORMATS."""
    parts = re.split(r"([/-])", pattern)
    values = {
        "YYYY": f"{day.year:04d}",
        "MM": f"{day.month:02d}",
        "M": str(day.month),
        "DD": f"{day.day:02d}",
        "D": str(day.day),
    }
    return "".join(values.get(part, part) for part in parts)


def date_readings(account: Account) -> dict[str, str]:
    """The account's date fields (by id) whose values read back in a format other than the
    stored YYYY-MM-DD, and that format (`cc_custom_field_date_format`)."""
    wanted = knobs.get("cc_custom_field_date_format")
    found = {}
    for field in fields_of(account).filter(type="date"):
        shown = (
            (field.metadata or {}).get("display_format") if wanted == "display_format" else wanted
        )
        if shown in READ_DATE_FORMATS and shown != "YYYY-MM-DD":
            found[str(field.custom_field_id)] = shown
    return found


def as_read(values: list[dict], readings: dict[str, str]) -> list[dict]:
    """A contact's stored custom field values as the API gives them back."""
    return [
        {**item, "value": format_date(date.fromisoformat(item["value"]), readings[key])}
        if (key := str(item.get("custom_field_id"))) in readings and item.get("value")
        else item
        for item in values
    ]


def fields_of(account: Account) -> QuerySet[CustomField]:
    return CustomField.objects.filter(account=account).order_by("created_at", "custom_field_id")


def get_field(*, account: Account, custom_field_id: str) -> CustomField:
    found = fields_of(account).filter(custom_field_id=parse_id(custom_field_id)).first()
    if found is None:
        raise not_found()
    return found


def by_name(account: Account) -> dict[str, CustomField]:
    return {field.name: field for field in fields_of(account)}


def create_field(*, account: Account, body: Any) -> CustomField:
    """POST /contact_custom_fields: a 400 listing every problem of the body, 409 for a label
    (or the name made of it) already in use, 400 past the account's 100 fields."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    problems = []
    label = body.get("label")
    if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL:
        problems.append(f"'label' is required, 1 to {MAX_LABEL} characters.")
    elif _PUNCTUATION.search(label) and knobs.get("cc_custom_field_punctuation") == "refused":
        problems.append("'label' can hold only letters, digits, blanks and underscores.")
    kind = body.get("type")
    if kind not in TYPES:
        problems.append(f"'type' is required and must be one of {', '.join(TYPES)}.")
    metadata, version = body.get("metadata") or {}, body.get("version")
    problems += _metadata_problems(kind, metadata)
    if version is not None and (kind not in ("date", "datetime") or version not in (1, 2)):
        problems.append("'version' is 1 or 2, for date fields only.")
    choices = _choices(kind, body.get("choices"), problems)
    if problems:
        raise bad_request(*problems)
    assert isinstance(label, str) and isinstance(kind, str)
    label = label.strip()
    name = name_for(label)
    with transaction.atomic():
        mine = fields_of(account).select_for_update()
        if mine.filter(name__iexact=name).exists() or mine.filter(label__iexact=label).exists():
            raise conflict(f"The custom field label '{label}' is already in use.")
        if mine.count() >= MAX_PER_ACCOUNT:
            raise bad_request(f"An account can have at most {MAX_PER_ACCOUNT} custom fields.")
        try:
            with transaction.atomic():
                return CustomField.objects.create(
                    account=account,
                    label=label,
                    name=name,
                    type=kind,
                    metadata=metadata,
                    choices=choices,
                    version=version if version is not None else (2 if kind == "date" else None),
                )
        except IntegrityError:
            raise conflict(f"The custom field label '{label}' is already in use.") from None


def _metadata_problems(kind: Any, metadata: Any) -> list[str]:
    if not isinstance(metadata, dict):
        return ["'metadata' must be an object."]
    problems = []
    for flag in ("allow_negative", "integer"):
        if flag in metadata and not isinstance(metadata[flag], bool):
            problems.append(f"'metadata.{flag}' must be true or false.")
    places = metadata.get("decimal_places")
    if places is not None and (
        not isinstance(places, int) or not 0 <= places <= MAX_DECIMAL_PLACES
    ):
        problems.append(f"'metadata.decimal_places' must be 0 to {MAX_DECIMAL_PLACES}.")
    # The spec: "If the integer is set to false, the decimal_places must be between 1 and 4."
    if metadata.get("integer") is False and not (isinstance(places, int) and places >= 1):
        problems.append("'metadata.decimal_places' must be 1 to 4 when 'integer' is false.")
    code = metadata.get("currency_code")
    if code is not None and (kind != "currency" or not re.fullmatch(r"[A-Z]{3}", str(code))):
        problems.append("'metadata.currency_code' is a three-letter code, for currency fields.")
    if "display_format" in metadata and kind != "date":
        problems.append("'metadata.display_format' is for date fields only.")
    return problems


def _choices(kind: Any, raw: Any, problems: list[str]) -> list[dict]:
    if kind not in SELECTS:
        if raw:
            problems.append("'choices' are for single_select and multi_select fields only.")
        return []
    labels = [item.get("choice_label") for item in raw or [] if isinstance(item, dict)]
    if not labels or not all(isinstance(label, str) and label for label in labels):
        problems.append("'choices' must list at least one choice with a 'choice_label'.")
        return []
    return [
        {"choice_id": number, "choice_label": label, "display_order": number}
        for number, label in enumerate(labels, 1)
    ]
