"""Constant Contact's machine endpoints: the OAuth token and revoke endpoints, and the V3 API
(base /cc/v3, standing for https://api.cc.email/v3): thin views over the services, behind
Bearer tokens, scopes and the app-wide rate limits."""

import functools
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sandbox.constantcontact import (
    activities,
    contacts,
    custom_fields,
    faults,
    limits,
    lists,
    oauth,
    params,
    rules,
    shapes,
)
from sandbox.constantcontact.faults import ApiError, bad_request
from sandbox.constantcontact.models import Account, Contact
from sandbox.constantcontact.oauth import OAuthError
from sandbox.control import knobs

View = Callable[..., HttpResponse]


def endpoint(*, methods: tuple[str, ...], scope: str = "contact_data") -> Callable[[View], View]:
    """Authenticate the Bearer token, check its scope, apply the rate limits, then call the
    view with the token's account; ApiError becomes the documented error array."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @functools.wraps(view)
        def wrapped(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            auth = request.headers.get("Authorization", "")
            scheme, _, token = auth.partition(" ")
            grant = (
                oauth.grant_for_access_token(token=token.strip()) if scheme == "Bearer" else None
            )
            if grant is None:
                return faults.unauthorized()
            if scope not in grant.scope.split():
                return faults.forbidden()
            values = knobs.current()
            verdict = limits.admit(
                per_second=values["constantcontact_per_second"],
                per_day=values["constantcontact_per_day"],
                enforce=values["enforce_rate_limits"],
            )
            if verdict == "throttled":
                return faults.throttled()
            if verdict == "quota_exceeded":
                return faults.quota_exceeded()
            if request.method not in methods:
                return faults.errors(
                    status=405, key="method_not_allowed", message="Method not allowed."
                )
            if operation(request) in values["cc_forbidden_operations"]:
                return faults.forbidden()
            if refusal := values["cc_refused_operations"].get(operation(request)):
                return faults.refused(int(refusal))
            try:
                return view(request, grant.account, **kwargs)
            except ApiError as error:
                return error.response()

        return wrapped

    return decorate


def operation(request: HttpRequest) -> str:
    """The request's operation as "METHOD /path", the path as the spec writes it
    ("PUT /contacts/{contact_id}")."""
    match = request.resolver_match
    route = match.route if match is not None else ""
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.removeprefix("cc/v3"))
    return f"{request.method} {path}"


def json_answer(body: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(body, status=status, safe=False)


def json_body(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body or b"null")
    except ValueError:
        raise bad_request("The request body is not valid JSON.") from None


# --- OAuth ------------------------------------------------------------------------------


def _no_store(response: JsonResponse) -> JsonResponse:
    # Token answers must never be cached.
    response["Cache-Control"] = "no-store"
    return response


def _oauth_error(error: OAuthError) -> JsonResponse:
    response = JsonResponse(
        {"error": error.error, "error_description": error.description}, status=error.status
    )
    if error.status == 401:
        response["WWW-Authenticate"] = 'Basic realm="Constant Contact"'
    return _no_store(response)


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    try:
        oauth.authenticate_client(authorization=request.headers.get("Authorization", ""))
        grant_type = request.POST.get("grant_type")
        if grant_type == "authorization_code":
            issued = oauth.exchange_code(
                code=request.POST.get("code", ""),
                redirect_uri=request.POST.get("redirect_uri", ""),
                code_verifier=request.POST.get("code_verifier", ""),
            )
        elif grant_type == "refresh_token":
            issued = oauth.refresh(refresh_token=request.POST.get("refresh_token", ""))
        else:
            raise OAuthError("unsupported_grant_type", "The grant type is not supported.")
    except OAuthError as error:
        return _oauth_error(error)
    return _no_store(JsonResponse(issued.as_json()))


@csrf_exempt
@require_POST
def revoke(request: HttpRequest) -> HttpResponse:
    try:
        oauth.authenticate_client(authorization=request.headers.get("Authorization", ""))
    except OAuthError as error:
        return _oauth_error(error)
    oauth.revoke(token=request.POST.get("token", ""))
    return HttpResponse(status=200)


# --- Account ----------------------------------------------------------------------------


@endpoint(methods=("GET",), scope="account_read")
def account_summary(request: HttpRequest, account: Account) -> HttpResponse:
    return json_answer(
        {
            key: value
            for key, value in {
                "organization_name": account.organization_name,
                "contact_email": account.contact_email,
                "first_name": account.first_name,
                "last_name": account.last_name,
                "encoded_account_id": account.encoded_account_id,
                "country_code": "US",
                "state_code": "MA",
                "time_zone_id": "US/Eastern",
            }.items()
            if value
        }
    )


# --- Lists -------------------------------------------------------------------------------


@endpoint(methods=("GET", "POST"))
def contact_lists(request: HttpRequest, account: Account) -> HttpResponse:
    if request.method == "POST":
        body = json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            raise bad_request("'name' is required.")
        created = lists.create_list(
            account=account,
            name=body["name"],
            description=str(body.get("description") or ""),
            favorite=bool(body.get("favorite", False)),
        )
        return json_answer(shapes.list_json(created), status=201)
    query = params.query(request)
    # The schema says at most 1,000, the parameter's description "from 1 - 500": the
    # stricter holds.
    limit = params.limit(query.get("limit"), default=50, top=lists.MAX_PAGE)
    counting = query.get("include_membership_count")
    if counting not in (None, "", "all", "active"):
        raise bad_request("'include_membership_count' must be all or active.")
    status = query.get("status") or "active"
    found = lists.lists_of(account=account, status=status, name=query.get("name"))
    offset = int(query.get("offset", 0))
    page = list(found[offset : offset + limit + 1])
    more, page = len(page) > limit, page[:limit]
    counts = lists.membership_counts(page, active_only=counting == "active") if counting else {}
    answer: dict[str, Any] = {
        "lists": [shapes.list_json(item, membership_count=counts.get(item.pk)) for item in page]
    }
    if params.flag(query.get("include_count"), "include_count"):
        answer["lists_count"] = found.count()
    if more:
        answer["_links"] = params.next_link("contact_lists", {**query, "offset": offset + limit})
    return json_answer(answer)


@endpoint(methods=("GET", "PUT", "DELETE"))
def contact_list(request: HttpRequest, account: Account, list_id: str) -> HttpResponse:
    found = lists.get_list(account=account, list_id=list_id)
    if request.method == "PUT":
        body = json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            raise bad_request("'name' is required.")
        updated = lists.update_list(
            contact_list=found,
            name=body["name"],
            description=body.get("description"),
            favorite=body.get("favorite"),
        )
        return json_answer(shapes.list_json(updated))
    if request.method == "DELETE":
        return json_answer(shapes.activity_json(lists.delete_list(contact_list=found)), status=202)
    counting = request.GET.get("include_membership_count")
    counts = lists.membership_counts([found], active_only=counting == "active") if counting else {}
    return json_answer(shapes.list_json(found, membership_count=counts.get(found.pk)))


# --- Contacts ----------------------------------------------------------------------------


def _contact_json(account: Account, include: Sequence[str]) -> Callable[[Contact], dict]:
    """The contacts of one answer as the API gives them (the account's date fields read once)."""
    readings = custom_fields.date_readings(account) if "custom_fields" in include else {}
    return lambda contact: contacts.contact_json(contact, include=include, date_readings=readings)


@endpoint(methods=("GET", "POST"))
def contact_collection(request: HttpRequest, account: Account) -> HttpResponse:
    if request.method == "POST":
        created = contacts.create_contact(account=account, body=json_body(request))
        return json_answer(_contact_json(account, rules.INCLUDES)(created), status=201)
    activities.advance(account=account)
    query = params.query(request)
    limit = params.limit(query.get("limit"), default=50, top=500)
    include = params.csv(query.get("include"), allowed=rules.INCLUDES, name="include")
    found = contacts.contacts_query(
        account=account,
        status=params.csv(query.get("status"), allowed=rules.CONTACT_STATUSES, name="status"),
        email=query.get("email"),
        list_ids=[item for item in (query.get("lists") or "").split(",") if item],
        updated_after=params.moment(query.get("updated_after"), name="updated_after"),
        optout_after=params.moment(query.get("optout_after"), name="optout_after"),
    )
    after = int(query.get("after", 0))
    page = found.filter(id__gt=after)
    if "list_memberships" in include:
        page = page.prefetch_related("lists")
    if "taggings" in include:
        page = page.prefetch_related("tags")
    rows = list(page[: limit + 1])
    more, rows = len(rows) > limit, rows[:limit]
    shown = _contact_json(account, include)
    answer: dict[str, Any] = {"contacts": [shown(contact) for contact in rows]}
    if params.flag(query.get("include_count"), "include_count"):
        answer["contacts_count"] = found.count()
    if more:
        answer["_links"] = params.next_link("contacts", {**query, "after": rows[-1].id})
    return json_answer(answer)


@endpoint(methods=("GET", "PUT", "DELETE"))
def contact(request: HttpRequest, account: Account, contact_id: str) -> HttpResponse:
    if request.method == "PUT":
        updated = contacts.replace_contact(
            account=account, contact_id=contact_id, body=json_body(request)
        )
        return json_answer(_contact_json(account, rules.INCLUDES)(updated))
    if request.method == "DELETE":
        contacts.delete_contact(account=account, contact_id=contact_id)
        return HttpResponse(status=204)
    activities.advance(account=account)
    include = params.csv(request.GET.get("include"), allowed=rules.INCLUDES, name="include")
    found = contacts.find_contact(account=account, contact_id=contact_id)
    return json_answer(_contact_json(account, include)(found))


@endpoint(methods=("POST",))
def sign_up_form(request: HttpRequest, account: Account) -> HttpResponse:
    found, created = contacts.sign_up(account=account, body=json_body(request))
    return json_answer(
        {"contact_id": str(found.contact_id), "action": "created" if created else "updated"},
        status=201 if created else 200,
    )


# --- Activities --------------------------------------------------------------------------


@endpoint(methods=("POST",))
def contacts_json_import(request: HttpRequest, account: Account) -> HttpResponse:
    # Constant Contact silently drops data past 4 MB; the sandbox refuses such a request
    # instead (400, a code the spec documents), so a client that sends one is caught.
    if int(request.headers.get("Content-Length") or 0) >= activities.MAX_IMPORT_BYTES:
        raise bad_request("The request body exceeds the 4 MB limit.")
    body = json_body(request)
    if knobs.get("cc_import_refuses_custom_fields") and _carries_custom_fields(body):
        raise bad_request("The import's custom field columns are not valid.")
    created = activities.create_import(account=account, body=body)
    return json_answer(shapes.activity_json(created), status=201)


def _carries_custom_fields(body: Any) -> bool:
    rows = body.get("import_data") if isinstance(body, dict) else None
    return any(
        isinstance(row, dict) and any(str(key).startswith("cf:") for key in row)
        for row in rows or []
    )


@endpoint(methods=("POST",))
def add_list_memberships(request: HttpRequest, account: Account) -> HttpResponse:
    created = activities.create_add_list_memberships(account=account, body=json_body(request))
    return json_answer(shapes.activity_json(created), status=201)


@endpoint(methods=("GET",))
def activity(request: HttpRequest, account: Account, activity_id: str) -> HttpResponse:
    found = activities.get_activity(account=account, activity_id=activity_id)
    return json_answer(shapes.activity_json(found))


@endpoint(methods=("GET",))
def activity_list(request: HttpRequest, account: Account) -> HttpResponse:
    query = params.query(request)
    limit = params.limit(query.get("limit"), default=50, top=500)
    found = activities.list_activities(account=account, state=query.get("state"))
    before = int(query.get("before", 0))
    if before:
        found = found.filter(id__lt=before)
    rows = list(found[: limit + 1])
    more, rows = len(rows) > limit, rows[:limit]
    answer: dict[str, Any] = {"activities": [shapes.activity_json(item) for item in rows]}
    if more:
        answer["_links"] = params.next_link("activities", {**query, "before": rows[-1].id})
    return json_answer(answer)
