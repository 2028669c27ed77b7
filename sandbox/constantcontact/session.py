"""Who is signed in to Constant Contact's /cc/ pages in this browser.

The session key is Constant Contact's own: signing in to QuickBooks does not sign in here.
"""

import functools
from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from sandbox.constantcontact.models import Account

ACCOUNT_KEY = "cc_account_id"


def sign_in(request: HttpRequest, account: Account) -> None:
    request.session.cycle_key()
    request.session[ACCOUNT_KEY] = account.pk


def sign_out(request: HttpRequest) -> None:
    request.session.pop(ACCOUNT_KEY, None)


def signed_in_account(request: HttpRequest) -> Account | None:
    account_id = request.session.get(ACCOUNT_KEY)
    if account_id is None:
        return None
    return Account.objects.filter(pk=account_id).first()


def safe_next(value: str | None, *, default: str = "/cc/account/") -> str:
    """Only our own /cc/ pages: never an open redirect."""
    if value and value.startswith("/cc/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def login_url(next_path: str) -> str:
    return f"/cc/login?{urlencode({'next': next_path})}"


def login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Pages of a signed-in account (passed to the view): else the login page."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        account = signed_in_account(request)
        if account is None:
            return redirect(login_url(request.get_full_path()))
        return view(request, account, *args, **kwargs)

    return wrapped
