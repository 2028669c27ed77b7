"""Constant Contact in process: accounts' lists, contacts, bulk activities, custom fields and
tags in memory. FakeConstantContactClient is ConstantContactClient with its one request
(`_call`) answered from them as the sandbox's V3 API answers it over HTTP, pages included.

It mirrors sandbox/constantcontact: lists.py, contacts.py and validation.py (what a contact
holds, a PUT replacing it), activities.py and imports.py (an import's rows merged into
contacts; an unsubscribed contact never added to a list; activities advanced when read, at
`cc_import_rate_per_second` items a second of the fake's clock, all at once by default),
custom_fields.py and tags.py, and the faults and limits of the API (429 throttled or
quota_exceeded, 5xx, too many queued activities). Its rules and JSON shapes are the
sandbox's own, from the modules that import no model (rules.py, import_rows.py, shapes.py,
faults.py): the sandbox's apps are not installed here. tests/contract/ holds this fake and
the sandbox to the same assertions.
"""

import base64
import json
import math
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.conf import settings
from django.utils import timezone

from integrations.constantcontact import errors as cc_errors
from integrations.constantcontact.client import (
    MAX_IMPORT_ROWS,
    MAX_LIST_IDS,
    MAX_TAG_IDS,
    ConstantContactClient,
)
from integrations.http import AfterResponse, BeforeRequest
from integrations.tokens import TokenSource
from sandbox.constantcontact import rules, shapes
from sandbox.constantcontact.faults import ApiError, bad_request, conflict, not_found
from sandbox.constantcontact.import_rows import Refused, Row, apply_row, parse_row
from sandbox.constantcontact.rules import (
    ADDRESS_KINDS,
    ADDRESS_LIMITS,
    CONTACT_STATUSES,
    INCLUDES,
    NAME_FIELDS,
    PHONE_KINDS,
    set_permission,
    valid_email,
)
from sandbox.constantcontact.shapes import iso

Clock = Callable[[], datetime]
MAX_FIELDS, MAX_LABEL = 100, 50
MAX_TAGS = 500


def client_error(refused: ApiError, endpoint: str) -> cc_errors.ConstantContactError:
    """The client's error for an answer in the V3 error shape, as it reads the sandbox's."""
    body = [{"error_key": refused.key, "error_message": m} for m in refused.messages]
    found = cc_errors.error_for(refused.status, body, endpoint)
    assert found is not None
    return found


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class ContactList:
    list_id: str
    name: str
    created_at: datetime
    updated_at: datetime
    description: str = ""
    favorite: bool = False
    deleted_at: datetime | None = None

    def json(self, *, membership_count: int | None = None) -> dict[str, Any]:
        return shapes.list_json(self, membership_count=membership_count)


@dataclass
class Contact:
    contact_id: str
    email: str
    permission_to_send: str
    create_source: str
    update_source: str
    created_at: datetime
    updated_at: datetime
    email_created_at: datetime
    email_updated_at: datetime
    opt_in_source: str = ""
    opt_in_date: datetime | None = None
    opt_out_source: str = ""
    opt_out_date: datetime | None = None
    opt_out_reason: str = ""
    first_name: str = ""
    last_name: str = ""
    job_title: str = ""
    company_name: str = ""
    birthday_month: int | None = None
    birthday_day: int | None = None
    anniversary: str = ""
    deleted_at: datetime | None = None
    phone_numbers: list[dict] = field(default_factory=list)
    street_addresses: list[dict] = field(default_factory=list)
    custom_fields: list[dict] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)
    lists: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        return self.email.lower()

    def json(self, *, include: Sequence[str] = ()) -> dict[str, Any]:
        body = rules.contact_body(self)
        for name in include:
            if name == "list_memberships":
                body[name] = sorted(self.lists)
            elif name == "taggings":
                body[name] = sorted(self.tags)
            else:
                body[name] = json.loads(json.dumps(getattr(self, name)))
        return body


@dataclass
class Activity:
    activity_id: str
    kind: str  # shapes.IMPORT, ADD_LIST_MEMBERSHIPS or ADD_TAGGINGS
    payload: dict[str, Any]
    items_total_count: int
    created_at: datetime
    updated_at: datetime
    list_count: int = 0
    state: str = "initialized"
    items_completed_count: int = 0
    person_count: int = 0
    error_count: int = 0
    correctable_count: int = 0
    cannot_add_to_list_count: int = 0
    activity_errors: list[str] = field(default_factory=list)
    started_at: datetime | None = None
    completed_at: datetime | None = None

    def json(self) -> dict[str, Any]:
        return shapes.activity_json(self)


@dataclass
class CustomField:
    custom_field_id: str
    label: str
    name: str
    type: str
    created_at: datetime
    metadata: dict[str, Any] = field(default_factory=dict)
    choices: list[dict[str, Any]] = field(default_factory=list)
    version: int | None = None

    @property
    def updated_at(self) -> datetime:
        return self.created_at

    def json(self) -> dict[str, Any]:
        return shapes.custom_field_json(self)

    def check(self, value: str) -> str:
        return rules.check_value(self, value)


@dataclass
class Tag:
    tag_id: str
    name: str
    created_at: datetime

    def json(self) -> dict[str, Any]:
        return {
            "tag_id": self.tag_id,
            "name": self.name,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.created_at),
        }


@dataclass
class Account:
    """One Constant Contact account of the fake."""

    username: str
    clock: Clock
    knob: Callable[[str, Any], Any]
    encoded_account_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    lists: dict[str, ContactList] = field(default_factory=dict)
    contacts: dict[str, Contact] = field(default_factory=dict)  # by contact id
    activities: dict[str, Activity] = field(default_factory=dict)  # in creation order
    fields: dict[str, CustomField] = field(default_factory=dict)
    tags: dict[str, Tag] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "organization_name": f"{self.username.title()} Organization",
            "contact_email": f"{self.username}@example.com",
            "encoded_account_id": self.encoded_account_id,
            "country_code": "US",
            "state_code": "MA",
            "time_zone_id": "US/Eastern",
        }

    # --- lists

    def create_list(self, name: str) -> ContactList:
        name = name.strip()
        if not name or len(name) > 255:
            raise bad_request("The list name must be 1 to 255 characters long.")
        if any(item.name.lower() == name.lower() for item in self.lists.values()):
            raise conflict(f"The list name '{name}' is already in use.")
        now = self.clock()
        created = ContactList(list_id=new_id(), name=name, created_at=now, updated_at=now)
        self.lists[created.list_id] = created
        return created

    def lists_by_ids(self, list_ids: Any) -> list[ContactList]:
        if not isinstance(list_ids, list) or not 1 <= len(list_ids) <= MAX_LIST_IDS:
            raise bad_request(f"'list_ids' must hold 1 to {MAX_LIST_IDS} list ids.")
        wanted = list(dict.fromkeys(str(item) for item in list_ids))
        missing = [item for item in wanted if item not in self.lists]
        if missing:
            raise bad_request(*(f"List {item} does not exist." for item in missing))
        return [self.lists[item] for item in wanted]

    def membership_count(self, list_id: str) -> int:
        return sum(1 for c in self.contacts.values() if list_id in c.lists and c.deleted_at is None)

    # --- contacts

    def by_email(self, email: str) -> Contact | None:
        key = email.strip().lower()
        return next((c for c in self.contacts.values() if c.key == key), None)

    def new_contact(self, email: str, *, source: str, permission: str) -> Contact:
        contact = rules.new_contact(
            partial(Contact, contact_id=new_id()),
            email=email,
            source=source,
            permission=permission,
            now=self.clock(),
        )
        self.contacts[contact.contact_id] = contact
        return contact

    def unsubscribe(self, email: str) -> Contact:
        contact = self.by_email(email) or self.new_contact(
            email, source="Account", permission="implicit"
        )
        now = self.clock()
        set_permission(contact, "unsubscribed", source="Contact", now=now)
        contact.updated_at = now
        return contact

    def query(
        self,
        *,
        status: Sequence[str],
        email: str | None,
        list_ids: Sequence[str],
        updated_after: datetime | None,
        optout_after: datetime | None,
    ) -> list[Contact]:
        found = list(self.contacts.values())
        if "all" not in status:
            found = [c for c in found if _has_status(c, status)]
        if email:
            found = [c for c in found if c.key == email.strip().lower()]
        if list_ids:
            if len(list_ids) > 25:
                raise bad_request("At most 25 lists can be used as a filter.")
            found = [c for c in found if c.lists & set(list_ids)]
        if updated_after:
            found = [c for c in found if c.updated_at > updated_after]
        if optout_after:
            found = [c for c in found if c.opt_out_date and c.opt_out_date > optout_after]
        return found

    def find(self, contact_id: str) -> Contact:
        found = self.contacts.get(str(contact_id))
        if found is None:
            raise not_found()
        return found

    def create(self, body: Any) -> Contact:
        """POST /contacts: a new contact (409 for an address already held)."""
        fields = self._contact_fields(body, source_field="create_source")
        if "email" not in fields:
            raise bad_request("'email_address' is required.")
        if self.by_email(fields["email"]) is not None:
            raise conflict("Validation failed: Email already exists.")
        contact = self.new_contact(
            fields["email"],
            source=fields["source"],
            permission=fields.get("permission_to_send") or "implicit",
        )
        return self._save(contact, fields, replace=False)

    def replace(self, contact_id: str, body: Any) -> Contact:
        """PUT: top-level fields not sent become empty; sub-resources not sent are kept; a
        PUT without the address is refused (it would null it)."""
        contact = self.find(contact_id)
        fields = self._contact_fields(body, source_field="update_source")
        if "email" not in fields:
            raise bad_request("'email_address.address' is required: a PUT nulls what it omits.")
        now = self.clock()
        if fields["email"].lower() != contact.key:
            taken = self.by_email(fields["email"])
            if taken is not None and taken is not contact:
                raise conflict("Validation failed: Email already exists.")
            contact.email = fields["email"]
            contact.email_updated_at = now
        if fields.get("permission_to_send"):
            set_permission(contact, fields["permission_to_send"], source=fields["source"], now=now)
        contact.deleted_at = None
        return self._save(contact, fields, replace=True)

    def _save(self, contact: Contact, fields: dict[str, Any], *, replace: bool) -> Contact:
        rules.write_fields(contact, fields, replace=replace, now=self.clock())
        if "lists" in fields:
            contact.lists = set(fields["lists"])
        return contact

    def _contact_fields(self, body: Any, *, source_field: str) -> dict[str, Any]:
        """The writable fields of a PUT body, or a 400 listing every problem
        (sandbox/constantcontact/validation.py)."""
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        problems: list[str] = []
        fields: dict[str, Any] = {}
        email = body.get("email_address")
        if email is not None:
            if not isinstance(email, dict) or not valid_email(email.get("address")):
                problems.append("'email_address.address' must be a valid email address.")
            else:
                fields["email"] = email["address"].strip()
                if "permission_to_send" in email:
                    fields["permission_to_send"] = email["permission_to_send"]
        for name in NAME_FIELDS:
            value = body.get(name)
            if value is not None and (not isinstance(value, str) or len(value) > 50):
                problems.append(f"'{name}' exceeds the maximum length of 50.")
            fields[name] = value
        fields["anniversary"] = body.get("anniversary")
        fields["birthday_month"] = body.get("birthday_month")
        fields["birthday_day"] = body.get("birthday_day")
        source = body.get(source_field)
        if source not in ("Contact", "Account"):
            problems.append(f"'{source_field}' must be one of Contact, Account.")
        fields["source"] = source
        if "phone_numbers" in body:
            phones = [p for p in body["phone_numbers"] or [] if isinstance(p, dict)]
            if len(phones) > 3:
                problems.append("'phone_numbers' can have at most 3 items.")
            for phone in phones:
                if phone.get("kind") not in PHONE_KINDS:
                    problems.append(
                        f"'phone_numbers.kind' must be one of {', '.join(PHONE_KINDS)}."
                    )
                if len(str(phone.get("phone_number") or "")) > 25:
                    problems.append(
                        "'phone_numbers.phone_number' exceeds the maximum length of 25."
                    )
            fields["phone_numbers"] = [
                {"phone_number": p.get("phone_number"), "kind": p.get("kind")} for p in phones
            ]
        if "street_addresses" in body:
            addresses = [a for a in body["street_addresses"] or [] if isinstance(a, dict)]
            if len(addresses) > 3:
                problems.append("'street_addresses' can have at most 3 items.")
            for address in addresses:
                if address.get("kind") not in ADDRESS_KINDS:
                    problems.append(
                        f"'street_addresses.kind' must be one of {', '.join(ADDRESS_KINDS)}."
                    )
                for name, limit in ADDRESS_LIMITS.items():
                    if len(str(address.get(name) or "")) > limit:
                        problems.append(
                            f"'street_addresses.{name}' exceeds the maximum length of {limit}."
                        )
            fields["street_addresses"] = [
                {"kind": a.get("kind"), **{name: a.get(name) for name in ADDRESS_LIMITS}}
                for a in addresses
            ]
        if "notes" in body:
            fields["notes"] = [n for n in body["notes"] or [] if isinstance(n, dict)]
        if "custom_fields" in body:
            stored = []
            for item in body["custom_fields"] or []:
                found = self.fields.get(str(item.get("custom_field_id")))
                value = item.get("value")
                if found is None:
                    problems.append(f"Custom field {item.get('custom_field_id')} does not exist.")
                elif isinstance(value, str) and value:
                    try:
                        value = found.check(value)
                    except ValueError as problem:
                        problems.append(f"Custom field '{found.name}' {problem}.")
                    stored.append({"custom_field_id": found.custom_field_id, "value": value})
            fields["custom_fields"] = stored
        if "list_memberships" in body:
            memberships = [str(item) for item in body["list_memberships"] or []]
            if problems:
                raise bad_request(*problems)
            fields["lists"] = [item.list_id for item in self.lists_by_ids(memberships)]
        if problems:
            raise bad_request(*problems)
        return fields

    # --- activities

    def queue(
        self, kind: str, payload: dict[str, Any], targets: list[ContactList], *, total: int
    ) -> Activity:
        self.advance()
        limit = self.knob("cc_max_queued_activities", 1_000)
        if sum(1 for a in self.activities.values() if a.state in rules.UNFINISHED) >= limit:
            raise ApiError(
                429,
                "too_many_requests",
                f"Too many requests. You exceeded {limit:,} queued activities for this user "
                "account.",
            )
        now = self.clock()
        activity = Activity(
            activity_id=new_id(),
            kind=kind,
            payload={**payload, "list_ids": [item.list_id for item in targets]},
            items_total_count=total,
            list_count=len(targets),
            created_at=now,
            updated_at=now,
        )
        self.activities[activity.activity_id] = activity
        return activity

    def create_import(self, rows: list[Any], list_ids: list[str]) -> Activity:
        if not isinstance(rows, list) or not rows:
            raise bad_request("'import_data' must be a non-empty array of contacts.")
        if len(rows) > MAX_IMPORT_ROWS:
            raise bad_request(f"'import_data' can hold at most {MAX_IMPORT_ROWS} contacts.")
        targets = self.lists_by_ids(list_ids)
        return self.queue(shapes.IMPORT, {"rows": rows}, targets, total=len(rows))

    def create_add_list_memberships(self, contact_ids: list[str], list_ids: list[str]) -> Activity:
        targets = self.lists_by_ids(list_ids)
        found = [
            c.contact_id
            for c in self.contacts.values()
            if c.contact_id in set(contact_ids) and c.deleted_at is None
        ]
        return self.queue(
            shapes.ADD_LIST_MEMBERSHIPS, {"contacts": found}, targets, total=len(found)
        )

    def create_add_taggings(self, body: dict[str, Any]) -> Activity:
        tag_ids = body.get("tag_ids")
        if not isinstance(tag_ids, list) or not 1 <= len(tag_ids) <= MAX_TAG_IDS:
            raise bad_request(f"'tag_ids' must hold 1 to {MAX_TAG_IDS} tag ids.")
        missing = [item for item in tag_ids if item not in self.tags]
        if missing:
            raise bad_request(*(f"Tag {item} does not exist." for item in missing))
        source = body["source"]
        live = [c for c in self.contacts.values() if c.deleted_at is None]
        if source.get("contact_ids"):
            wanted = set(source["contact_ids"])
            found = [c for c in live if c.contact_id in wanted]
        else:
            lists = {item.list_id for item in self.lists_by_ids(source["list_ids"])}
            found = [c for c in live if c.lists & lists]
        excluded = set((body.get("exclude") or {}).get("contact_ids") or [])
        ids = [c.contact_id for c in found if c.contact_id not in excluded]
        return self.queue(
            shapes.ADD_TAGGINGS, {"contacts": ids, "tag_ids": list(tag_ids)}, [], total=len(ids)
        )

    def activity(self, activity_id: str) -> Activity:
        self.advance()
        found = self.activities.get(str(activity_id))
        if found is None:
            raise not_found()
        return found

    def advance(self) -> None:
        """Bring unfinished activities up to where they are by now, oldest first: every item
        at once by default, else `cc_import_rate_per_second` items a second of the clock."""
        rate = self.knob("cc_import_rate_per_second", math.inf)
        now = self.clock()
        for activity in self.activities.values():
            if activity.state not in rules.UNFINISHED:
                continue
            target = rules.items_due(activity, rate=rate, now=now)
            if target is None:
                continue
            start = activity.items_completed_count
            if activity.kind == shapes.IMPORT:
                self._import_rows(activity, start, target)
            elif activity.kind == shapes.ADD_TAGGINGS:
                for contact_id in activity.payload["contacts"][start:target]:
                    self.contacts[contact_id].tags |= set(activity.payload["tag_ids"])
            else:
                for contact_id in activity.payload["contacts"][start:target]:
                    contact = self.contacts[contact_id]
                    if contact.permission_to_send != "unsubscribed":
                        contact.lists |= set(activity.payload["list_ids"])
            rules.advance_to(activity, target, now=now)

    def _import_rows(self, activity: Activity, start: int, end: int) -> None:
        """Rows `start` to `end` of an import: contacts added or updated with the values the
        rows carry (never their permission), and put on its lists unless unsubscribed
        (sandbox/constantcontact/imports.py, its rows parsed and applied by import_rows.py)."""
        refused_domains = frozenset(d.lower() for d in self.knob("cc_import_refused_domains", []))
        by_name = {f.name: f for f in self.fields.values()}
        parsed = [
            parse_row(
                line, raw, refused_domains=refused_domains, fields=by_name, report_custom=True
            )
            for line, raw in enumerate(activity.payload["rows"][start:end], start + 1)
        ]
        rows = [row for row in parsed if isinstance(row, Row)]
        refused = [row for row in parsed if isinstance(row, Refused)]
        refused += [problem for row in rows for problem in row.problems]
        now = self.clock()
        seen: dict[str, Contact] = {}
        blocked: set[str] = set()
        for row in rows:
            contact = self.by_email(row.email) or self.new_contact(
                row.email, source="Account", permission="implicit"
            )
            apply_row(contact, row, now=now)
            seen[contact.key] = contact
            if contact.permission_to_send == "unsubscribed":
                blocked.add(contact.key)
        for key, contact in seen.items():
            if key not in blocked:
                contact.lists |= set(activity.payload["list_ids"])
        activity.person_count += len(rows)
        activity.error_count += len(refused)
        activity.cannot_add_to_list_count += sum(1 for row in rows if row.email.lower() in blocked)
        activity.activity_errors += [
            problem.message("plain") for problem in sorted(refused, key=lambda p: p.line)
        ]

    # --- custom fields and tags

    def create_field(self, body: dict[str, Any]) -> CustomField:
        label, kind = body.get("label"), body.get("type")
        problems = []
        if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL:
            problems.append(f"'label' is required, 1 to {MAX_LABEL} characters.")
        if kind not in rules.TYPES:
            problems.append(f"'type' is required and must be one of {', '.join(rules.TYPES)}.")
        version = body.get("version")
        if version is not None and (kind not in ("date", "datetime") or version not in (1, 2)):
            problems.append("'version' is 1 or 2, for date fields only.")
        metadata = body.get("metadata") or {}
        if metadata.get("integer") is False and not (
            isinstance(metadata.get("decimal_places"), int) and metadata["decimal_places"] >= 1
        ):
            problems.append("'metadata.decimal_places' must be 1 to 4 when 'integer' is false.")
        if problems:
            raise bad_request(*problems)
        assert isinstance(label, str) and isinstance(kind, str)
        label = label.strip()
        name = label.replace(" ", "_")
        if any(
            f.name.lower() == name.lower() or f.label.lower() == label.lower()
            for f in self.fields.values()
        ):
            raise conflict(f"The custom field label '{label}' is already in use.")
        if len(self.fields) >= MAX_FIELDS:
            raise bad_request(f"An account can have at most {MAX_FIELDS} custom fields.")
        created = CustomField(
            custom_field_id=new_id(),
            label=label,
            name=name,
            type=kind,
            created_at=self.clock(),
            metadata=metadata,
            version=version if version is not None else (2 if kind == "date" else None),
        )
        self.fields[created.custom_field_id] = created
        return created

    def create_tag(self, name: str) -> Tag:
        name = str(name).strip()
        if not 1 <= len(name) <= 255:
            raise bad_request("'name' is required, 1 to 255 characters.")
        if any(tag.name.lower() == name.lower() for tag in self.tags.values()):
            raise conflict(f"The tag name '{name}' is already in use.")
        if len(self.tags) >= MAX_TAGS:
            raise bad_request(f"An account can have at most {MAX_TAGS} tags.")
        created = Tag(tag_id=new_id(), name=name, created_at=self.clock())
        self.tags[created.tag_id] = created
        return created


def _has_status(contact: Contact, status: Sequence[str]) -> bool:
    live = contact.deleted_at is None
    if not status:
        return live  # deleted contacts are left out unless asked for
    for item in status:
        if item == "deleted" and not live:
            return True
        if item == "active" and live and contact.permission_to_send != "unsubscribed":
            return True
        if live and contact.permission_to_send == item:
            return True
    return False


@dataclass
class Usage:
    """The app's calls as Constant Contact counts them: the whole app's 4 a second and its
    day's quota (sandbox/constantcontact/limits.py), on the fake's clock."""

    recent: list[datetime] = field(default_factory=list)
    day: str = ""
    today: int = 0
    total: int = 0
    throttled: int = 0
    quota_exceeded: int = 0


@dataclass
class FakeConstantContact:
    """Every account of the fake Constant Contact, the access tokens that open them, the
    calls it answered, and the knobs that make its API fail as the sandbox's do (same
    names; per-second and daily limits are enforced only when a test sets
    `enforce_rate_limits`: the app's limiter keeps its calls under them)."""

    clock: Clock = timezone.now
    accounts: dict[str, Account] = field(default_factory=dict)  # by username
    tokens: dict[str, str] = field(default_factory=dict)  # access token -> username
    knobs: dict[str, Any] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)

    def knob(self, name: str, default: Any) -> Any:
        return self.knobs.get(name, default)

    def new_account(self, *, username: str, list_names: Sequence[str] = ()) -> tuple[Account, str]:
        """An account with these lists, and an access token that opens it."""
        account = Account(username=username, clock=self.clock, knob=self.knob)
        for name in list_names:
            account.create_list(name)
        self.accounts[username] = account
        token = f"fake-cc-access-{username}"
        self.tokens[token] = username
        return account, token

    def admit(self) -> ApiError | None:
        """Count one call, or the 429 or 5xx the sandbox would answer it with."""
        usage, now = self.usage, self.clock()
        enforce = self.knob("enforce_rate_limits", False)
        day = now.astimezone(UTC).date().isoformat()
        if usage.day != day:
            usage.day, usage.today = day, 0
        usage.recent = [at for at in usage.recent if (now - at).total_seconds() < 1.0]
        if enforce and usage.today >= self.knob("constantcontact_per_day", 10_000):
            usage.quota_exceeded += 1
            return ApiError(429, "quota_exceeded", "Limit Exceeded")
        if enforce and len(usage.recent) >= self.knob("constantcontact_per_second", 4):
            usage.throttled += 1
            return ApiError(429, "throttled", "Too Many Requests")
        roll = random.random()
        if roll < self.knob("constantcontact_error_rate", 0.0):
            return ApiError(500, "server_error", "An unexpected error occurred.")
        if roll - self.knob("constantcontact_error_rate", 0.0) < self.knob(
            "constantcontact_throttle_rate", 0.0
        ):
            return ApiError(429, "throttled", "Too Many Requests")
        usage.recent.append(now)
        usage.today += 1
        usage.total += 1
        return None


class FakeConstantContactClient(ConstantContactClient):
    """ConstantContactClient itself, its requests answered by a FakeConstantContact instead
    of the V3 API over HTTP: every public method is the real one (paging by `_links.next`,
    the checks before sending, what a PUT leaves out); only `_call`, the one request the
    client makes, is answered here, through `before_request` and `after_response` as the
    transport does (a page is a call), failing with the errors the transport raises."""

    def __init__(
        self,
        world: FakeConstantContact,
        *,
        tokens: TokenSource,
        before_request: BeforeRequest | None = None,
        after_response: AfterResponse | None = None,
        session: Any = None,
    ):
        self.world = world
        self.tokens = tokens
        self.before_request = before_request
        self.after_response = after_response

    def _call(
        self,
        method: str,
        path_or_url: str,
        *,
        endpoint: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> dict:
        account = self._account(endpoint)
        try:
            return self._answered(account, method, path_or_url, params, json)
        except ApiError as refused:
            raise client_error(refused, endpoint) from None

    def _answered(
        self, account: Account, method: str, path_or_url: str, params: Any, json: Any
    ) -> dict:
        parts = urlsplit(path_or_url)
        path = parts.path.removeprefix(urlsplit(settings.CONSTANTCONTACT_API_BASE).path)
        query = {**dict(parse_qsl(parts.query)), **(params or {})}
        if "cursor" in query:  # the query the page resumes, as the sandbox encodes it
            query = _over_the_wire(base64.urlsafe_b64decode(query["cursor"]).decode(), raw=True)
        answer = _answer(account, method, path, query, _over_the_wire(json))
        return _over_the_wire(answer)

    def _account(self, endpoint: str) -> Account:
        """The account, once this call got through (token, limits, injected faults)."""
        token = self.tokens.access_token()
        account, error = self._attempt(token, endpoint)
        if isinstance(error, cc_errors.Unauthorized):
            token = self.tokens.renew(rejected=token)
            account, error = self._attempt(token, endpoint)
        if error is not None:
            raise error
        assert account is not None
        return account

    def _attempt(
        self, token: str, endpoint: str
    ) -> tuple[Account | None, cc_errors.ConstantContactError | None]:
        if self.before_request is not None:
            self.before_request(endpoint)
        username = self.world.tokens.get(token)
        refused = (
            ApiError(401, "unauthorized", "The access token used is invalid.")
            if username is None
            else self.world.admit()
        )
        error = client_error(refused, endpoint) if refused else None
        if self.after_response is not None:
            status = refused.status if refused else 200
            self.after_response("constantcontact", endpoint, status, error)
        return (None if error else self.world.accounts[username or ""]), error


def _answer(
    account: Account, method: str, path: str, query: dict[str, Any], body: Any
) -> dict[str, Any]:
    """The V3 API's answer to one request (sandbox/constantcontact/api.py's views)."""
    name, _, item = path.strip("/").partition("/")
    if (method, path) == ("GET", "/account/summary"):
        return account.summary()
    if name == "contact_lists" and not item:
        if method == "POST":
            return account.create_list(str((body or {}).get("name", ""))).json()
        counting = query.get("include_membership_count")
        lists = sorted(account.lists.values(), key=lambda i: (i.created_at, i.list_id))
        rows = [
            i.json(membership_count=account.membership_count(i.list_id) if counting else None)
            for i in lists
        ]
        return _page("lists", rows, query, path=name, default=50, top=1000)
    if name == "contacts" and not item and method == "POST":
        return account.create(body).json(include=INCLUDES)
    if name == "contacts" and not item:
        account.advance()
        include = _csv(query.get("include"), allowed=INCLUDES, name="include")
        found = account.query(
            status=_csv(query.get("status"), allowed=CONTACT_STATUSES, name="status"),
            email=query.get("email"),
            list_ids=_csv(query.get("lists")),
            updated_after=_moment(query.get("updated_after")),
            optout_after=_moment(query.get("optout_after")),
        )
        rows = [c.json(include=include) for c in found]
        return _page("contacts", rows, query, path=name, default=50, top=500)
    if name == "contacts":
        if method == "PUT":
            return account.replace(item, body).json(include=INCLUDES)
        account.advance()
        include = _csv(query.get("include"), allowed=INCLUDES, name="include")
        return account.find(item).json(include=include)
    if name == "activities" and method == "POST":
        source = (body or {}).get("source") or {}
        if item == "contacts_json_import":
            return account.create_import(body.get("import_data"), body.get("list_ids")).json()
        if item == "add_list_memberships":
            return account.create_add_list_memberships(
                list(source.get("contact_ids") or []), body.get("list_ids")
            ).json()
        if item == "contacts_taggings_add":
            return account.create_add_taggings(body).json()
    if name == "activities" and item:
        return account.activity(item).json()
    if name == "activities":
        account.advance()
        rows = [a.json() for a in reversed(list(account.activities.values()))]
        return _page("activities", rows, query, path=name, default=50, top=500)
    if name == "contact_custom_fields":
        if method == "POST":
            return account.create_field(body).json()
        rows = [f.json() for f in account.fields.values()]
        return _page("custom_fields", rows, query, path=name, default=50, top=100)
    if name == "contact_tags":
        if method == "POST":
            return account.create_tag(str((body or {}).get("name", ""))).json()
        rows = [t.json() for t in account.tags.values()]
        return _page("tags", rows, query, path=name, default=50, top=500)
    raise AssertionError(f"the fake Constant Contact does not answer {method} {path}")


def _page(
    key: str, rows: list[dict], query: dict[str, Any], *, path: str, default: int, top: int
) -> dict[str, Any]:
    """One page of `rows`, with `_links.next` to the query that resumes after it."""
    raw = query.get("limit")
    limit = int(raw) if str(raw or "").isdigit() else default if raw in (None, "") else 0
    if not 1 <= limit <= top:
        raise bad_request(f"'limit' must be an integer from 1 to {top}.")
    offset = int(query.get("offset", 0))
    answer: dict[str, Any] = {key: rows[offset : offset + limit]}
    if len(rows) > offset + limit:
        resume = json.dumps({**query, "offset": offset + limit}).encode()
        cursor = base64.urlsafe_b64encode(resume).decode()
        answer["_links"] = {"next": {"href": f"/v3/{path}?{urlencode({'cursor': cursor})}"}}
    return answer


def _over_the_wire(value: Any, *, raw: bool = False) -> Any:
    """A value as JSON carries it (`raw`: JSON text read)."""
    return json.loads(value if raw else json.dumps(value))


def _csv(value: Any, *, allowed: Sequence[str] | None = None, name: str = "") -> list[str]:
    items = [item.strip() for item in str(value or "").split(",") if item.strip()]
    unknown = [item for item in items if allowed is not None and item not in allowed]
    if unknown:
        raise bad_request(f"'{unknown[0]}' is not a valid value for '{name}'.")
    return items


def _moment(value: Any) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
