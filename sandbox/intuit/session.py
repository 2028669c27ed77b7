"""Who is signed in to QuickBooks in this browser, and in which company.

The Intuit sign-in is shared by the authorize page and the QuickBooks pages, as it is at
Intuit: signing in on one is signing in on the other.
"""

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from sandbox.intuit.models import Company, IntuitUser

USER_KEY = "intuit_user_id"
AUTH_TIME_KEY = "intuit_auth_time"
COMPANY_KEY = "quickbooks_realm_id"


def sign_in(request: HttpRequest, user: IntuitUser) -> None:
    request.session.cycle_key()
    request.session[USER_KEY] = user.pk
    request.session[AUTH_TIME_KEY] = int(timezone.now().timestamp())
    request.session.pop(COMPANY_KEY, None)


def sign_out(request: HttpRequest) -> None:
    request.session.flush()


def signed_in_user(request: HttpRequest) -> IntuitUser | None:
    user_id = request.session.get(USER_KEY)
    if user_id is None:
        return None
    return IntuitUser.objects.filter(pk=user_id).first()


def auth_time(request: HttpRequest) -> datetime:
    """When the person signed in: the ID token's auth_time."""
    stamp = request.session.get(AUTH_TIME_KEY)
    return datetime.fromtimestamp(stamp, tz=UTC) if stamp else timezone.now()


def choose_company(request: HttpRequest, company: Company) -> None:
    request.session[COMPANY_KEY] = company.realm_id


def signed_in_company(request: HttpRequest) -> Company | None:
    """The company the signed-in user is working in; the only one if they have just one."""
    user = signed_in_user(request)
    if user is None:
        return None
    companies = user.companies.order_by("name", "pk")
    realm_id = request.session.get(COMPANY_KEY)
    if realm_id:
        return companies.filter(realm_id=realm_id).first()
    only = list(companies[:2])
    return only[0] if len(only) == 1 else None


def login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """QuickBooks pages need a signed-in user working in a company: else the sign-in page."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if signed_in_company(request) is None:
            return redirect(f"/qbo/?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return wrapped
