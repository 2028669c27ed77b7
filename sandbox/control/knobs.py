"""Knobs: injected latency, faults, token lifetimes and webhook behaviour.

Read from one database row by every request that needs them (once: see `read_once`), so a
change made over HTTP, by a management command or by a test takes effect at once in the
serving process.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sandbox.control.models import KnobSettings

PROVIDERS = ("quickbooks", "constantcontact")

DEFAULTS: dict[str, Any] = {
    # Per provider API call (QuickBooks Accounting API, Constant Contact V3 API).
    **{f"{p}_latency_ms": 0 for p in PROVIDERS},
    **{f"{p}_error_rate": 0.0 for p in PROVIDERS},  # fraction answered 500/503
    **{f"{p}_throttle_rate": 0.0 for p in PROVIDERS},  # fraction answered 429
    **{f"{p}_drop_rate": 0.0 for p in PROVIDERS},  # fraction whose connection is dropped
    # Companies whose Accounting API answers 403 Fault 3100 ApplicationAuthorizationFailed
    # to a valid token (the app's access revoked or the subscription lapsed).
    "quickbooks_forbidden_realms": [],
    # Companies whose Accounting API answers 401 AuthenticationFailed to every token, fresh
    # ones too, while the token endpoint still refreshes: a grant Intuit ended, seen by the
    # API before its token endpoint.
    "quickbooks_unauthorized_realms": [],
    # The documented limits; off only for experiments that want to see past them.
    "enforce_rate_limits": True,
    "quickbooks_per_second": 10,
    "quickbooks_per_minute": 500,
    "constantcontact_per_second": 4,
    # Cells (rows x columns) a QuickBooks report answers before it is cut short (see
    # sandbox/quickbooks/reports.py); tests shrink it.
    "quickbooks_report_max_cells": 400_000,
    # A QuickBooks report reading more transactions than this, or over more days than
    # this, answers 504 GatewayTimeout (Fault 6002); 0: never. Intuit names no threshold.
    "quickbooks_report_timeout_rows": 0,
    "quickbooks_report_timeout_days": 0,
    # A parent customer's own amount in CustomerSales/CustomerBalance: "data" (a Data row
    # in its Section) or "summary" (only in the Section's Summary total): Intuit's samples
    # show neither case.
    "quickbooks_report_parent_row": "data",
    # Every report answered otherwise, for the app's sales data to meet it: "" (answered),
    # "400" (a ValidationFault), "500" (a SystemFault) or "shape" (a 200 in a shape no
    # report has).
    "quickbooks_report_fault": "",
    "constantcontact_per_day": 10_000,
    # Token lifetimes, in seconds.
    "intuit_code_ttl": 600,
    "intuit_access_token_ttl": 3600,
    "intuit_refresh_token_ttl": 100 * 24 * 3600,
    # A grant's refresh tokens never outlive this, counted from its consent (Intuit: five
    # years), and whether the token answer gives what is left of it,
    # x_refresh_token_hard_expires_in: "requested" (when the request's header
    # x-include-refresh-token-hard-expires-in is "true", as Intuit's SDKs send it),
    # "always", or "never" (an answer without it, as before Intuit added it).
    "intuit_refresh_token_hard_lifetime": 5 * 365 * 24 * 3600,
    "intuit_refresh_token_hard_expiry": "requested",
    "cc_code_ttl": 300,
    # Seconds the sandbox's clock runs ahead of the real time (control/clock.py) for codes,
    # tokens and QuickBooks' request limits, and for bulk activities' progress alone: a test
    # moves them instead of waiting.
    "clock_offset_seconds": 0.0,
    "cc_activities_offset_seconds": 0.0,
    # The ID token's realmid claim: "" the company connected, "none" left out, or any
    # other realm id (a claim that does not match the company, for tests).
    "intuit_id_token_realmid": "",
    # Intuit's endpoints that answer 503 ("discovery", "jwks"): an identity provider down.
    "intuit_endpoints_down": [],
    "cc_access_token_ttl": 24 * 3600,
    "cc_refresh_token_ttl": 180 * 24 * 3600,
    # Webhooks: "cloudevents" (current) or "legacy" (eventNotifications).
    "webhook_format": "cloudevents",
    "webhook_delay_seconds": 0.0,
    "webhooks_enabled": True,
    # How a legacy delivery writes lastUpdated: "offset" (2015-10-05T14:42:19-0700, Intuit's
    # sample), "utc_millis" (2025-09-08T20:52:31.657Z) or "epoch_ms" (1444081339000).
    "webhook_legacy_time": "offset",
    # Events added to every delivery, for the first company in it (sandbox/quickbooks/
    # events.py INJECTED): "void", "not_an_id", "too_long", "nul", "lone_surrogate",
    # "unknown_entity".
    "webhook_injected_events": [],
    # Multiplies Intuit's retry schedule (10 s, 20 s, 30 s, 5 min, ...): tests shrink it.
    "webhook_retry_scale": 1.0,
    # Bulk imports: contacts processed per second of wall time, and how many activities an
    # account may have waiting before a new one is refused (429).
    "cc_import_rate_per_second": 5000,
    "cc_max_queued_activities": 1_000,
    # How an import words a row's error (sandbox/constantcontact/imports.py): "plain",
    # "line" or "line_with_header"; and domains whose addresses an import refuses.
    "cc_import_error_format": "plain",
    "cc_import_refused_domains": [],
    # A value an import's cf: column gives that its field refuses (or a field that does not
    # exist): "reported" as an activity error, or "silent" (dropped, no error, not counted):
    # nothing documents that it appears in activity_errors.
    "cc_import_custom_field_errors": "reported",
    # Custom fields where the documentation is silent (sandbox/constantcontact/
    # custom_fields.py): what a label's punctuation does ("kept", "dropped", "refused"), and
    # how a date value reads back ("YYYY-MM-DD", "MM/DD/YYYY", ... or "display_format").
    "cc_custom_field_punctuation": "kept",
    "cc_custom_field_date_format": "YYYY-MM-DD",
    # V3 operations answered 403 ("you lack the necessary user privileges"), as
    # "METHOD /path" with the spec's path ("POST /contact_custom_fields", "POST /contact_tags",
    # "POST /activities/contacts_taggings_add"): the connected user's role lacks them (tags
    # need the Account Owner or Manager role).
    "cc_forbidden_operations": [],
    # V3 operations answered with another documented error, as {"METHOD /path": status}:
    # 400 (a validation error), 401 (the access token refused), 403 (the user's privileges),
    # 409 (a conflict).
    "cc_refused_operations": {},
    # An import whose rows carry a cf: column is answered 400 as a whole (the spec's
    # "data validation error"), not row by row.
    "cc_import_refuses_custom_fields": False,
}


# What the request being served has read so far (None outside a request).
_read_by_request: ContextVar[dict[str, Any] | None] = ContextVar("knobs", default=None)


def _read() -> dict[str, Any]:
    row = KnobSettings.objects.filter(pk=1).first()
    return {**DEFAULTS, **(row.values if row else {})}


@contextmanager
def read_once() -> Iterator[None]:
    """Within the block (one request) the row is read at most once: every read answers
    the values of the first."""
    token = _read_by_request.set({})
    try:
        yield
    finally:
        _read_by_request.reset(token)


def current() -> dict[str, Any]:
    values = _read_by_request.get()
    if values is None:
        return _read()
    if not values:
        values.update(_read())
    return values


def get(name: str) -> Any:
    return current()[name]


def update(changes: dict[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown knobs: {', '.join(sorted(unknown))}")
    for name, value in changes.items():
        expected = type(DEFAULTS[name])
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            continue
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ValueError(f"knob {name} takes a {expected.__name__}")
    row, _ = KnobSettings.objects.get_or_create(pk=1)
    row.values = {**row.values, **changes}
    row.save()
    return _read()


def reset() -> dict[str, Any]:
    KnobSettings.objects.filter(pk=1).delete()
    return _read()
