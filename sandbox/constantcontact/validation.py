"""What a contact may hold, and the checks of the bodies that write one: every problem of a
body is listed in one 400, as Constant Contact does."""

from collections.abc import Sequence
from typing import Any

from sandbox.constantcontact import custom_fields, lists, rules
from sandbox.constantcontact.faults import bad_request
from sandbox.constantcontact.models import Account, ContactList
from sandbox.constantcontact.rules import (
    ADDRESS_KINDS,
    ADDRESS_LIMITS,
    NAME_FIELDS,
    PERMISSIONS,
    PHONE_KINDS,
    SOURCES,
    valid_email,
)

MAX_MEMBERSHIPS = 50


class _Checker:
    """Collects every validation problem of one request body."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def text(self, body: dict, name: str, limit: int, *, where: str = "") -> str | None:
        value = body.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            self.problems.append(f"'{where}{name}' must be a string.")
        elif len(value) > limit:
            self.problems.append(f"'{where}{name}' exceeds the maximum length of {limit}.")
        return value

    def choice(self, value: Any, allowed: Sequence[str], name: str) -> None:
        if value not in allowed:
            self.problems.append(f"'{name}' must be one of {', '.join(allowed)}.")

    def many(self, body: dict, name: str, limit: int) -> list:
        value = body.get(name) or []
        if not isinstance(value, list):
            self.problems.append(f"'{name}' must be an array.")
            return []
        if len(value) > limit:
            self.problems.append(f"'{name}' can have at most {limit} items.")
        return [item for item in value if isinstance(item, dict) or name == "list_memberships"]

    def raise_if_any(self) -> None:
        if self.problems:
            raise bad_request(*self.problems)


def contact_fields(account: Account, body: Any, *, source_field: str) -> dict[str, Any]:
    """The writable fields of a POST/PUT contact body, or a 400 listing every problem."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    check = _Checker()
    fields = _email_fields(check, body.get("email_address"))
    for name in NAME_FIELDS:
        fields[name] = check.text(body, name, 50)
    fields["anniversary"] = check.text(body, "anniversary", 10)
    for name, top in (("birthday_month", 12), ("birthday_day", 31)):
        value = body.get(name)
        if value is not None and (not isinstance(value, int) or not 1 <= value <= top):
            check.problems.append(f"'{name}' must be an integer from 1 to {top}.")
        fields[name] = value
    source = body.get(source_field)
    check.choice(source, SOURCES, source_field)
    fields["source"] = source
    fields.update(_sub_resources(check, body))
    if "custom_fields" in body:
        fields["custom_fields"] = _custom_fields(check, account, body)
    if "list_memberships" in body:
        memberships = check.many(body, "list_memberships", MAX_MEMBERSHIPS)
        check.raise_if_any()
        fields["lists"] = lists.lists_by_ids(
            account=account, list_ids=[str(i) for i in memberships]
        )
    check.raise_if_any()
    return fields


def _email_fields(check: _Checker, email: Any) -> dict[str, Any]:
    if email is None:
        return {}
    if not isinstance(email, dict) or not valid_email(email.get("address")):
        check.problems.append("'email_address.address' must be a valid email address.")
        return {}
    fields = {"email": email["address"].strip()}
    if "permission_to_send" in email:
        check.choice(email["permission_to_send"], PERMISSIONS, "permission_to_send")
        fields["permission_to_send"] = email["permission_to_send"]
    return fields


def _sub_resources(check: _Checker, body: dict) -> dict[str, Any]:
    """Phones, street addresses and notes: those the body sends."""
    fields: dict[str, Any] = {}
    if "phone_numbers" in body:
        phones = check.many(body, "phone_numbers", 3)
        for phone in phones:
            check.text(phone, "phone_number", 25, where="phone_numbers.")
            check.choice(phone.get("kind"), PHONE_KINDS, "phone_numbers.kind")
        fields["phone_numbers"] = [
            {"phone_number": item.get("phone_number"), "kind": item.get("kind")} for item in phones
        ]
    if "street_addresses" in body:
        addresses = check.many(body, "street_addresses", 3)
        for address in addresses:
            check.choice(address.get("kind"), ADDRESS_KINDS, "street_addresses.kind")
            for name, limit in ADDRESS_LIMITS.items():
                check.text(address, name, limit, where="street_addresses.")
        fields["street_addresses"] = [
            {"kind": item.get("kind"), **{name: item.get(name) for name in ADDRESS_LIMITS}}
            for item in addresses
        ]
    if "notes" in body:
        fields["notes"] = check.many(body, "notes", 150)
    return fields


def _custom_fields(check: _Checker, account: Account, body: dict) -> list[dict]:
    """A PUT's or POST's custom fields (they replace the stored ones), each an existing field
    of the account with a value that field takes (as an import checks it), as stored."""
    known = {str(item.custom_field_id): item for item in custom_fields.fields_of(account)}
    stored = []
    for item in check.many(body, "custom_fields", 25):
        found = known.get(str(item.get("custom_field_id")))
        value = check.text(item, "value", rules.MAX_VALUE, where="custom_fields.")
        if found is None:
            check.problems.append(f"Custom field {item.get('custom_field_id')} does not exist.")
        elif isinstance(value, str) and value:  # an empty value clears the field
            try:
                value = rules.check_value(found, value)
            except ValueError as problem:
                check.problems.append(f"Custom field '{found.name}' {problem}.")
            stored.append({"custom_field_id": str(found.custom_field_id), "value": value})
    return stored


def sign_up_lists(account: Account, body: Any) -> list[ContactList]:
    """The lists a sign-up form body joins, once the whole body is sound (else a 400)."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    check = _Checker()
    if not valid_email(body.get("email_address")):
        check.problems.append("'email_address' must be a valid email address.")
    memberships = check.many(body, "list_memberships", MAX_MEMBERSHIPS)
    if not memberships:
        check.problems.append("'list_memberships' must list at least one list.")
    for name in NAME_FIELDS:
        check.text(body, name, 50)
    check.text(body, "phone_number", 25)
    check.raise_if_any()
    return lists.lists_by_ids(account=account, list_ids=[str(item) for item in memberships])
