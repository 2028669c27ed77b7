"""Constant Contact logins: accounts, passwords and who is signed in to the /cc/ pages.

The session key is Constant Contact's own: signing in to QuickBooks does not sign in here.
"""

import functools
from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib.auth.hashers import PBKDF2PasswordHasher, check_password, make_password
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from sandbox.constantcontact.models import Account

ACCOUNT_KEY = "cc_account_id"


class _SandboxPasswordHasher(PBKDF2PasswordHasher):
    # Demo credentials only: Django's million iterations cost seconds of CPU per sign-up
    # and log-in (tests, benchmarks with hundreds of accounts); few iterations are enough.
    iterations = 10_000


def hash_password(password: str) -> str:
    return make_password(password, hasher=_SandboxPasswordHasher())


class SignUpError(ValueError):
    pass


def create_account(
    *, username: str, password: str, organization_name: str, contact_email: str = ""
) -> Account:
    username = username.strip()
    if not username or not password:
        raise SignUpError("Choose a username and a password.")
    try:
        with transaction.atomic():
            return Account.objects.create(
                username=username,
                password=hash_password(password),
                organization_name=organization_name.strip() or username,
                contact_email=contact_email.strip(),
            )
    except IntegrityError:
        raise SignUpError("That username is taken. Choose another one.") from None


def authenticate(*, username: str, password: str) -> Account | None:
    account = Account.objects.filter(username=username.strip()).first()
    if account is None or not check_password(password, account.password):
        return None
    return account


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


def cc_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        account = signed_in_account(request)
        if account is None:
            return redirect(login_url(request.get_full_path()))
        return view(request, account, *args, **kwargs)

    return wrapped
