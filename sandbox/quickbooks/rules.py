"""QuickBooks' rules for a customer's fields and a money amount, and how it writes a time and
a customer type, over plain values: said once here for the sandbox and for the in-process fake
(tests/plugins/fake_quickbooks.py), which runs where the sandbox's apps are not installed. So
this module imports no model."""

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from sandbox.quickbooks.query import COMPANY_TIMEZONE

# Set by QuickBooks, never by a create or an update.
READ_ONLY = (
    *("Id", "SyncToken", "MetaData", "domain", "sparse"),
    *("Job", "Level", "FullyQualifiedName"),
)
NAME_PARTS = ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")
TEXT_PROPERTIES = (*NAME_PARTS, "DisplayName", "CompanyName", "Notes")
OBJECT_PROPERTIES = (
    *("PrimaryEmailAddr", "PrimaryPhone", "Mobile", "AlternatePhone", "Fax"),
    *("BillAddr", "ShipAddr", "ParentRef"),
)
EMAIL_MAX_LENGTH = 100


class CustomerError(ValueError):
    """A change QuickBooks would refuse; the message is fit to show a person."""


class CustomerNotFound(CustomerError):
    pass


def editable(fields: Any) -> dict[str, Any]:
    """The properties a create or an update may set, or CustomerError."""
    if not isinstance(fields, dict):
        raise CustomerError("A customer is a JSON object of Customer properties.")
    editable = {name: value for name, value in fields.items() if name not in READ_ONLY}
    if "Active" in editable and not isinstance(editable["Active"], bool):
        raise CustomerError("Active is true or false.")
    for name, kind, described in (
        *((name, str, "text") for name in TEXT_PROPERTIES),
        *((name, dict, "a JSON object") for name in OBJECT_PROPERTIES),
    ):
        if editable.get(name) is not None and not isinstance(editable[name], kind):
            raise CustomerError(f"{name} is {described}.")
    return editable


def with_changes(data: dict[str, Any], changes: Any) -> dict[str, Any]:
    """A customer's properties once a create or a sparse update sets the editable ones it
    gives (None or "" removes one)."""
    data = dict(data)
    for name, value in editable(changes).items():
        if value is None or value == "":
            data.pop(name, None)
        else:
            data[name] = value
    return data


def settle_name(data: dict[str, Any]) -> None:
    """Fill the DisplayName QuickBooks composes of the name's parts (and Active), and refuse
    a customer with no name or a too long email."""
    if not (data.get("DisplayName") or "").strip():
        composed = " ".join(str(data[part]) for part in NAME_PARTS if data.get(part))
        if not composed:
            raise CustomerError("Give the customer a display name, or a given or family name.")
        data["DisplayName"] = composed
    data["DisplayName"] = data["DisplayName"].strip()
    data.setdefault("Active", True)
    email = (data.get("PrimaryEmailAddr") or {}).get("Address") or ""
    if len(email) > EMAIL_MAX_LENGTH:
        raise CustomerError(f"The email field takes at most {EMAIL_MAX_LENGTH} characters.")


def cents(amount: object, *, what: str = "amount") -> int:
    """A money amount ("1234.50", 12, 12.5) in cents; refuses negative or sub-cent ones."""
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        raise CustomerError(f"The {what} must be a number.") from None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise CustomerError(f"The {what} must be zero or more, in whole cents.")
    return int(value * 100)


def quickbooks_time(moment: datetime) -> str:
    """A time as QuickBooks writes it: the company's local time with its offset."""
    return moment.astimezone(COMPANY_TIMEZONE).isoformat(timespec="seconds")


class CustomerTypeShape(Protocol):
    """What a customer type's JSON shows: a CustomerType, or the fake's."""

    @property
    def number(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def active(self) -> bool: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...


def customer_type_json(kind: CustomerTypeShape) -> dict[str, Any]:
    return {
        "domain": "QBO",
        "sparse": False,
        "Id": str(kind.number),
        "SyncToken": "0",
        "Name": kind.name,
        "Active": kind.active,
        "MetaData": {
            "CreateTime": quickbooks_time(kind.created_at),
            "LastUpdatedTime": quickbooks_time(kind.updated_at),
        },
    }
