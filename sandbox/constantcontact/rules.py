"""Constant Contact's rules over plain values and duck-typed objects: said once here for the
sandbox's models and for the in-process fake (tests/plugins/fake_constantcontact.py), which
runs where the sandbox's apps are not installed. So this module imports no model."""

from datetime import datetime
from typing import Protocol


class HasPermission(Protocol):
    """What set_permission reads and writes: a Contact, or the fake's."""

    permission_to_send: str
    email_updated_at: datetime
    opt_in_source: str
    opt_in_date: datetime | None
    opt_out_source: str
    opt_out_date: datetime | None
    opt_out_reason: str


def set_permission(contact: HasPermission, permission: str, *, source: str, now: datetime) -> None:
    """The contact's permission to send, with the opt-in or opt-out it means."""
    if permission == contact.permission_to_send:
        return
    contact.permission_to_send = permission
    contact.email_updated_at = now
    if permission == "unsubscribed":
        contact.opt_out_source, contact.opt_out_date = source, now
    else:
        contact.opt_out_source, contact.opt_out_date, contact.opt_out_reason = "", None, ""
        if permission in ("explicit", "implicit"):
            contact.opt_in_source, contact.opt_in_date = source, now
