"""Constant Contact V3 API: the account, lists, contacts and bulk activities the sync uses.

Each call names its endpoint to `before_request` (one of ENDPOINTS).
"""

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from django.conf import settings

from integrations.constantcontact.errors import (
    BadRequest,
    ConstantContactError,
    CustomFieldLimitReached,
    Throttled,
    TransientError,
    Unauthorized,
    error_for,
)
from integrations.http import AfterResponse, BeforeRequest, Provider, Transport
from integrations.tokens import TokenSource

ENDPOINTS = (
    "account_summary",
    "contact_lists",
    "create_list",
    "contacts",
    "contacts_sample",
    "get_contact",
    "create_contact",
    "put_contact",
    "contacts_json_import",
    "activities",
    "get_activity",
    "add_list_memberships",
    "custom_fields",
    "create_custom_field",
    "tags",
    "create_tag",
    "contacts_taggings_add",
)
# The spec: a contact's address takes 80 characters (POST and PUT /contacts), an import's
# `email` 50. A longer address than an import takes goes by POST or PUT.
MAX_EMAIL = 80
MAX_IMPORT_EMAIL = 50
MAX_CUSTOM_FIELDS = 100  # an account's, all types together
LISTS_PAGE = 500  # GET /contact_lists' limit: "from 1 - 500" (the spec's description)
MAX_IMPORT_ROWS = 40_000
# Constant Contact silently drops import data past 4 MB: stay safely below.
MAX_IMPORT_BYTES = 4_000_000
MAX_LIST_IDS = 50
MAX_MEMBERSHIP_CONTACTS = 500
MAX_TAG_IDS = 50  # the spec's createTagRemoveActivity_request
# Set by Constant Contact, not writable: left out of a PUT.
_SYSTEM_FIELDS = frozenset(
    {"contact_id", "create_source", "created_at", "updated_at", "deleted_at"}
)
_EMAIL_SYSTEM_FIELDS = frozenset(
    {"created_at", "updated_at", "opt_in_date", "opt_out_source", "opt_out_date", "confirm_status"}
)

PROVIDER = Provider(
    name="Constant Contact",
    key="constantcontact",
    error=ConstantContactError,
    unauthorized=Unauthorized,
    transient=TransientError,
    error_for=error_for,
    throttled=Throttled,
)


def _csv(values: Sequence[str] | None) -> str | None:
    return ",".join(values) if values else None


def _time(value: datetime | None) -> str | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("Constant Contact times need a timezone")
    return value.isoformat() if value is not None else None


def _next_href(body: dict) -> str | None:
    links = body.get("_links")
    following = links.get("next") if isinstance(links, dict) else None
    href = following.get("href") if isinstance(following, dict) else None
    return href if isinstance(href, str) and href else None


def resolve_link(href: str) -> str:
    """A `_links` href ("/v3/contacts?cursor=...", relative to the API host) as a URL under
    CONSTANTCONTACT_API_BASE, whatever path prefix the base has (e.g. ".../cc/v3")."""
    base = settings.CONSTANTCONTACT_API_BASE
    base_path = urlsplit(base).path.rstrip("/")
    parts = urlsplit(href)
    if base_path and (parts.path == base_path or parts.path.startswith(base_path + "/")):
        rest = parts.path[len(base_path) :]
    elif parts.path.startswith("/v3/"):
        rest = parts.path[len("/v3") :]
    else:
        raise ConstantContactError("Constant Contact: unexpected link in a page")
    return base + rest + (f"?{parts.query}" if parts.query else "")


class ConstantContactClient:
    def __init__(
        self,
        *,
        tokens: TokenSource,
        before_request: BeforeRequest | None = None,
        after_response: AfterResponse | None = None,
        session: requests.Session | None = None,
    ):
        self._transport = Transport(
            provider=PROVIDER,
            tokens=tokens,
            before_request=before_request,
            after_response=after_response,
            session=session,
        )

    def account_summary(self) -> dict:
        return self._call("GET", "/account/summary", endpoint="account_summary")

    def all_lists(self, *, include_membership_count: bool = False) -> list[dict]:
        """Every list of the account, all pages; with `membership_count` (every member,
        unsubscribed ones included) when asked."""
        params: dict[str, Any] = {"limit": LISTS_PAGE}
        if include_membership_count:
            params["include_membership_count"] = "all"
        lists: list[dict] = []
        for page in self._pages("/contact_lists", endpoint="contact_lists", params=params):
            lists += _items(page, "lists")
        return lists

    def create_list(self, *, name: str) -> dict:
        """A new list; Conflict if the name is taken."""
        return self._call("POST", "/contact_lists", endpoint="create_list", json={"name": name})

    def iter_contacts(
        self,
        *,
        status: str | None = None,
        email: str | None = None,
        lists: Sequence[str] | None = None,
        updated_after: datetime | None = None,
        optout_after: datetime | None = None,
        include: Sequence[str] | None = None,
        limit: int = 500,
    ) -> Iterator[dict]:
        """Contacts matching the filters, following `_links.next` through every page."""
        params = {
            "status": status,
            "email": email,
            "lists": _csv(lists),
            "updated_after": _time(updated_after),
            "optout_after": _time(optout_after),
            "include": _csv(include),
            "limit": limit,
        }
        for page in self._pages(
            "/contacts",
            endpoint="contacts",
            params={name: value for name, value in params.items() if value is not None},
        ):
            yield from _items(page, "contacts")

    def sample_contacts(
        self,
        *,
        list_id: str,
        updated_after: datetime,
        include: Sequence[str] = ("custom_fields",),
        limit: int = 50,
    ) -> list[dict]:
        """Up to `limit` of the list's contacts updated since `updated_after`, with the
        subresources named in `include`: one page, one call (its own endpoint name, so the
        metrics count samples apart from reads)."""
        params = {
            "lists": list_id,
            "updated_after": _time(updated_after),
            "include": _csv(include),
            "limit": limit,
        }
        return _items(
            self._call("GET", "/contacts", endpoint="contacts_sample", params=params), "contacts"
        )

    def find_contact(
        self, *, email: str, include: Sequence[str] = ("list_memberships",)
    ) -> dict | None:
        """The contact with this address in any status (unsubscribed and deleted included),
        with the subresources named in `include`; None if there is none."""
        wanted = email.strip().lower()
        for contact in self.iter_contacts(status="all", email=email, include=include):
            address = contact.get("email_address")
            if isinstance(address, dict) and str(address.get("address", "")).lower() == wanted:
                return contact
        return None

    def get_contact(self, *, contact_id: str, include: Sequence[str] = ()) -> dict:
        params = {"include": _csv(include)} if include else None
        return self._call(
            "GET", f"/contacts/{quote(contact_id, safe='')}", endpoint="get_contact", params=params
        )

    def create_contact(self, *, contact: Mapping[str, Any]) -> dict:
        """A new contact (POST /contacts), for an address an import cannot take (51 to 80
        characters): permission `implicit` and source Account, as an import gives a new
        contact. Conflict (409) when the address is a contact already, whatever its status:
        so it never touches an existing contact, an unsubscribed one least of all (that one
        goes by GET and PUT, which never sends the permission)."""
        address = _address(contact)
        body = {key: value for key, value in contact.items() if key not in _SYSTEM_FIELDS}
        body["email_address"] = {"address": address, "permission_to_send": "implicit"}
        body["create_source"] = "Account"
        body.pop("update_source", None)
        return self._call("POST", "/contacts", endpoint="create_contact", json=body)

    def put_contact(self, *, contact_id: str, contact: Mapping[str, Any]) -> dict:
        """Replace the contact and return it as Constant Contact holds it now (check its
        permission there: a contact unsubscribed meanwhile stays so).

        The spec: omitted top-level properties are overwritten with null (omitted
        sub-resources such as list_memberships stay), so `email_address.address` is always
        sent (ValueError without it); the permission never is: a PUT that carries it sets it,
        and one read a moment before could opt back in a contact who has just left. System
        fields are left out, so a fetched contact can be edited and sent back."""
        address = _address(contact)
        body = {key: value for key, value in contact.items() if key not in _SYSTEM_FIELDS}
        body["email_address"] = {
            key: value
            for key, value in contact["email_address"].items()
            if key not in _EMAIL_SYSTEM_FIELDS and key != "permission_to_send"
        } | {"address": address}
        body["update_source"] = "Account"
        return self._call(
            "PUT", f"/contacts/{quote(contact_id, safe='')}", endpoint="put_contact", json=body
        )

    def import_contacts(
        self, *, rows: Sequence[Mapping[str, Any]], list_ids: Sequence[str]
    ) -> dict:
        """Start a JSON import activity (create or update by email, add to the lists)."""
        if not rows or len(rows) > MAX_IMPORT_ROWS:
            raise ValueError(f"an import takes 1 to {MAX_IMPORT_ROWS} contacts")
        _check_list_ids(list_ids)
        body = {"import_data": rows, "list_ids": list(list_ids)}
        if len(json.dumps(body).encode()) >= MAX_IMPORT_BYTES:
            raise ValueError("import too large: Constant Contact would silently drop data")
        return self._call(
            "POST", "/activities/contacts_json_import", endpoint="contacts_json_import", json=body
        )

    def iter_activities(self, *, limit: int = 50) -> Iterator[dict]:
        """The account's activities, newest first, page by page (`_links.next`): one call
        tells the state, counts and errors of every recent import (GET /activities)."""
        for page in self._pages("/activities", endpoint="activities", params={"limit": limit}):
            yield from _items(page, "activities")

    def get_activity(self, *, activity_id: str) -> dict:
        return self._call(
            "GET", f"/activities/{quote(activity_id, safe='')}", endpoint="get_activity"
        )

    def add_list_memberships(self, *, contact_ids: Sequence[str], list_ids: Sequence[str]) -> dict:
        """Start an activity adding these contacts to these lists."""
        if not contact_ids or len(contact_ids) > MAX_MEMBERSHIP_CONTACTS:
            raise ValueError(f"add_list_memberships takes 1 to {MAX_MEMBERSHIP_CONTACTS} contacts")
        _check_list_ids(list_ids)
        return self._call(
            "POST",
            "/activities/add_list_memberships",
            endpoint="add_list_memberships",
            json={"source": {"contact_ids": list(contact_ids)}, "list_ids": list(list_ids)},
        )

    def custom_fields(self) -> list[dict]:
        """Every custom field of the account (at most 100), all pages."""
        found: list[dict] = []
        for page in self._pages(
            "/contact_custom_fields", endpoint="custom_fields", params={"limit": 100}
        ):
            found += _items(page, "custom_fields")
        return found

    def create_custom_field(
        self, *, label: str, type: str, metadata: dict | None = None, version: int | None = None
    ) -> dict:
        """A new custom field. Its `name`, the key of an import's `cf:` columns, is made by
        Constant Contact from the label (blanks made underscores; what punctuation does is
        undocumented, so labels have none): use the one answered.

        Raises Conflict (409: the label, or the name made of it, is taken), NotPermitted
        (403: the user's role may not create fields), CustomFieldLimitReached (the account
        holds 100: the spec names no error for the 101st, so a 400 is checked by listing
        the fields, 1 call) or BadRequest (400: Constant Contact refused the field)."""
        body: dict[str, Any] = {"label": label, "type": type}
        if metadata is not None:
            body["metadata"] = metadata
        if version is not None:
            body["version"] = version
        try:
            return self._call(
                "POST", "/contact_custom_fields", endpoint="create_custom_field", json=body
            )
        except BadRequest as error:
            if len(self.custom_fields()) >= MAX_CUSTOM_FIELDS:
                raise CustomFieldLimitReached(
                    "Constant Contact: the account holds its 100 custom fields",
                    status=error.status,
                    error_key=error.error_key,
                    error_message=error.error_message,
                ) from error
            raise

    def tags(self) -> list[dict]:
        """Every tag of the account, all pages."""
        found: list[dict] = []
        for page in self._pages("/contact_tags", endpoint="tags", params={"limit": 500}):
            found += _items(page, "tags")
        return found

    def create_tag(self, *, name: str) -> dict:
        """A new tag; Conflict if the name is taken."""
        return self._call("POST", "/contact_tags", endpoint="create_tag", json={"name": name})

    def add_taggings(
        self,
        *,
        tag_ids: Sequence[str],
        contact_ids: Sequence[str] = (),
        list_ids: Sequence[str] = (),
        exclude_contact_ids: Sequence[str] = (),
    ) -> dict:
        """Start an activity adding these tags to the contacts named, or to every member of
        the lists (less `exclude_contact_ids`): exactly one of the two sources."""
        if not tag_ids or len(tag_ids) > MAX_TAG_IDS:
            raise ValueError(f"add_taggings takes 1 to {MAX_TAG_IDS} tag ids")
        if bool(contact_ids) == bool(list_ids):
            raise ValueError("add_taggings takes contact_ids or list_ids, not both")
        if contact_ids:
            if len(contact_ids) > MAX_MEMBERSHIP_CONTACTS:
                raise ValueError(f"add_taggings takes at most {MAX_MEMBERSHIP_CONTACTS} contacts")
            if exclude_contact_ids:
                raise ValueError("exclude_contact_ids goes only with list_ids")
            body: dict[str, Any] = {"source": {"contact_ids": list(contact_ids)}}
        else:
            _check_list_ids(list_ids)
            body = {"source": {"list_ids": list(list_ids)}}
            if exclude_contact_ids:
                body["exclude"] = {"contact_ids": list(exclude_contact_ids)}
        body["tag_ids"] = list(tag_ids)
        return self._call(
            "POST",
            "/activities/contacts_taggings_add",
            endpoint="contacts_taggings_add",
            json=body,
        )

    def _pages(self, path: str, *, endpoint: str, params: Mapping[str, Any]) -> Iterator[dict]:
        body = self._call("GET", path, endpoint=endpoint, params=params)
        yield body
        while (href := _next_href(body)) is not None:
            body = self._call("GET", resolve_link(href), endpoint=endpoint)
            yield body

    def _call(
        self,
        method: str,
        path_or_url: str,
        *,
        endpoint: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> dict:
        url = (
            path_or_url
            if path_or_url.startswith(("http://", "https://"))
            else settings.CONSTANTCONTACT_API_BASE + path_or_url
        )
        body = self._transport.call(method, url, endpoint=endpoint, params=params, json=json)
        if not isinstance(body, dict):
            raise ConstantContactError(f"Constant Contact {endpoint}: unexpected answer shape")
        return body


def permission_of(contact: Mapping[str, Any]) -> str:
    """The contact's permission_to_send ("unsubscribed": nothing more is sent to it)."""
    address = contact.get("email_address")
    return str(address.get("permission_to_send", "")) if isinstance(address, dict) else ""


# The date formats the spec lists for a contact's dates; a date custom field (version 2) may
# read back in its display format (MM/DD/YYYY) as well as YYYY-MM-DD.
_DATES = (
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:T.*)?"), ("y", "m", "d")),
    (re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"), ("y", "m", "d")),
    (re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})"), ("m", "d", "y")),
    (re.compile(r"(\d{1,2})-(\d{1,2})-(\d{4})"), ("m", "d", "y")),
)


def read_date(value: str) -> date | None:
    """A date value as Constant Contact gives it back, in any format the spec allows
    (MM/DD/YYYY, M/D/YYYY, YYYY/MM/DD, YYYY/M/D, YYYY-MM-DD, YYYY-M-D, MM-DD-YYYY,
    M-D-YYYY, M-DD-YYYY, or an ISO date and time); None if it is none of them."""
    text = value.strip()
    for pattern, order in _DATES:
        match = pattern.fullmatch(text)
        if match:
            parts = dict(zip(order, (int(item) for item in match.groups()), strict=True))
            try:
                return date(parts["y"], parts["m"], parts["d"])
            except ValueError:
                return None
    return None


def _address(contact: Mapping[str, Any]) -> str:
    """The contact's email_address.address, which every POST and PUT carries."""
    email = contact.get("email_address")
    address = email.get("address") if isinstance(email, dict) else None
    if not isinstance(address, str) or not address:
        raise ValueError("a contact is sent with its email_address.address")
    if len(address) > MAX_EMAIL:
        raise ValueError(f"an email address takes at most {MAX_EMAIL} characters")
    return address


def _items(page: dict, key: str) -> list[dict]:
    items = page.get(key, [])
    if not isinstance(items, list):
        raise ConstantContactError(f"Constant Contact {key}: unexpected answer shape")
    return items


def _check_list_ids(list_ids: Sequence[str]) -> None:
    if not list_ids or len(list_ids) > MAX_LIST_IDS:
        raise ValueError(f"1 to {MAX_LIST_IDS} list ids")
