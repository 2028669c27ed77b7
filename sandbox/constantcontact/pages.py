"""Constant Contact's pages: login, sign-up, the authorize (consent) page, and the account's
lists and contacts."""

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from sandbox.constantcontact import (
    accounts,
    activities,
    contacts,
    custom_fields,
    lists,
    oauth,
    rules,
    session,
    tags,
)
from sandbox.constantcontact.faults import ApiError
from sandbox.constantcontact.models import Account, Activity, Contact
from sandbox.constantcontact.oauth import OAuthError

REMEMBER_COOKIE = "cc_remembered_username"
AUTHORIZE_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)


def _page(request: HttpRequest, name: str, context: dict, *, status: int = 200) -> HttpResponse:
    """A Constant Contact page, never cached."""
    response = render(request, f"constantcontact/{name}.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


# --- Login and sign-up -------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    next_path = session.safe_next(request.GET.get("next") or request.POST.get("next"))
    error = ""
    username = request.COOKIES.get(REMEMBER_COOKIE, "")
    if request.method == "POST":
        username = request.POST.get("username", "")
        account = accounts.authenticate(
            username=username, password=request.POST.get("password", "")
        )
        if account is not None:
            session.sign_in(request, account)
            response = redirect(next_path)
            if request.POST.get("remember"):
                response.set_cookie(
                    REMEMBER_COOKIE, account.username, max_age=365 * 24 * 3600, samesite="Lax"
                )
            else:
                response.delete_cookie(REMEMBER_COOKIE)
            return response
        error = "The username or password you entered is incorrect."
    context = {
        "next": next_path,
        "username": username,
        "remembered": REMEMBER_COOKIE in request.COOKIES,
        "error": error,
        "signup_url": f"/cc/signup?{urlencode({'next': next_path})}",
    }
    return _page(request, "login", context, status=400 if error else 200)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    next_path = session.safe_next(request.GET.get("next") or request.POST.get("next"))
    error = ""
    if request.method == "POST":
        try:
            account = accounts.create_account(
                username=request.POST.get("username", ""),
                password=request.POST.get("password", ""),
                organization_name=request.POST.get("organization_name", ""),
                contact_email=request.POST.get("email", ""),
            )
        except accounts.SignUpError as problem:
            error = str(problem)
        else:
            session.sign_in(request, account)
            return redirect(next_path)
    context = {"next": next_path, "error": error, "form": request.POST}
    return _page(request, "signup", context, status=400 if error else 200)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    session.sign_out(request)
    return redirect("/cc/login")


# --- Authorization -----------------------------------------------------------------------


def _redirect_with(redirect_uri: str, **params: str | None) -> HttpResponse:
    query = urlencode({key: value for key, value in params.items() if value is not None})
    separator = "&" if "?" in redirect_uri else "?"
    return redirect(f"{redirect_uri}{separator}{query}")


@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    params = {name: source.get(name, "") for name in AUTHORIZE_PARAMS}
    if not oauth.client_is_known(params["client_id"]) or not oauth.redirect_uri_is_registered(
        params["redirect_uri"]
    ):
        # Never redirect to an unverified address: tell the person instead.
        return render(request, "constantcontact/authorize_error.html", status=400)
    state = params["state"] or None
    back = params["redirect_uri"]
    try:
        if params["response_type"] != "code":
            raise OAuthError("unsupported_response_type", "The response type is not supported.")
        scope = oauth.check_scope(params["scope"])
        if not params["code_challenge"] or params["code_challenge_method"] != "S256":
            raise OAuthError(
                "invalid_request",
                "PKCE code_challenge with code_challenge_method S256 is required.",
            )
    except OAuthError as error:
        return _redirect_with(
            back, error=error.error, error_description=error.description, state=state
        )
    account = session.signed_in_account(request)
    if account is None:
        return redirect(session.login_url(f"/cc/oauth2/default/v1/authorize?{urlencode(params)}"))
    if request.method == "GET":
        context = {"params": params, "account": account}
        return _page(request, "consent", context)
    if request.POST.get("decision") != "allow":
        return _redirect_with(
            back,
            error="access_denied",
            error_description="The resource owner or authorization server denied the request.",
            state=state,
        )
    code = oauth.issue_code(
        account=account,
        client_id=params["client_id"],
        scope=scope,
        redirect_uri=back,
        code_challenge=params["code_challenge"],
    )
    return _redirect_with(back, code=code, state=state)


# --- The account's pages -----------------------------------------------------------------


@session.login_required
@require_http_methods(["GET", "POST"])
def account_home(request: HttpRequest, account: Account) -> HttpResponse:
    activities.advance(account=account)
    error = ""
    if request.method == "POST":
        try:
            lists.create_list(
                account=account,
                name=request.POST.get("name", ""),
                description=request.POST.get("description", ""),
            )
        except ApiError as problem:
            error = problem.messages[0]
        else:
            return redirect("/cc/account/")
    live = list(lists.live_lists(account).order_by("name"))
    counts = lists.membership_counts(live, active_only=False)
    account_tags = list(tags.tags_of(account))
    tagged = tags.contacts_counts(account_tags)
    context = {
        "account": account,
        "lists": [(item, counts.get(item.pk, 0)) for item in live],
        "custom_fields": list(custom_fields.fields_of(account)),
        "tags": [(tag, tagged.get(tag.pk, 0)) for tag in account_tags],
        "contacts_total": Contact.objects.filter(account=account, deleted_at__isnull=True).count(),
        "error": error,
    }
    return _page(request, "account", context, status=400 if error else 200)


def _contacts_page(request: HttpRequest, account: Account, contact_list=None) -> HttpResponse:
    activities.advance(account=account)
    found = contacts.contacts_query(
        account=account, list_ids=[str(contact_list.list_id)] if contact_list else ()
    )
    ordered = found.order_by("-updated_at", "-id").prefetch_related("tags")
    page = Paginator(ordered, 100).get_page(request.GET.get("page"))
    page.object_list = _described(account, list(page.object_list))
    importing = Activity.objects.filter(account=account, state__in=rules.UNFINISHED).exists()
    context = {
        "account": account,
        "contact_list": contact_list,
        "page": page,
        "importing": importing,
        "here": request.get_full_path(),
    }
    return _page(request, "contacts", context)


def _described(account: Account, shown: list[Contact]) -> list[Contact]:
    """Each contact with `field_values` ("Label: value" lines) and `tag_names` to show."""
    labels = {str(f.custom_field_id): f.label for f in custom_fields.fields_of(account)}
    for contact in shown:
        contact.field_values = [  # type: ignore[attr-defined]
            f"{labels[item['custom_field_id']]}: {item['value']}"
            for item in contact.custom_fields
            if item.get("custom_field_id") in labels
        ]
        contact.tag_names = sorted(tag.name for tag in contact.tags.all())  # type: ignore[attr-defined]
    return shown


@session.login_required
def contact_page(request: HttpRequest, account: Account, contact_id) -> HttpResponse:
    activities.advance(account=account)
    found = Contact.objects.filter(account=account, contact_id=contact_id).prefetch_related(
        "tags", "lists"
    )
    contact = get_object_or_404(found)
    context = {"account": account, "contact": _described(account, [contact])[0]}
    return _page(request, "contact", context)


@session.login_required
def list_page(request: HttpRequest, account: Account, list_id) -> HttpResponse:
    contact_list = get_object_or_404(lists.live_lists(account), list_id=list_id)
    return _contacts_page(request, account, contact_list)


@session.login_required
def all_contacts_page(request: HttpRequest, account: Account) -> HttpResponse:
    return _contacts_page(request, account)


@session.login_required
@require_POST
def unsubscribe_contact(request: HttpRequest, account: Account, contact_id) -> HttpResponse:
    contact = get_object_or_404(Contact, account=account, contact_id=contact_id)
    contacts.unsubscribe(contact=contact)
    return redirect(session.safe_next(request.POST.get("next")))
