"""Tenants made quickly but for real: companies and accounts seeded through the sandbox's
control API, then both OAuth flows driven over HTTP (Intuit sign-in, company choice and
consent; Constant Contact log-in and Allow with PKCE), the codes exchanged at the real token
endpoints and the results saved by the app's own services, the list chosen as on Settings.

Runs in the benchmark's process, whose Django settings are the stack's (see harness.py).
"""

import contextlib
import secrets
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

from ccsync.base import jobs
from ccsync.sync import lifecycle, runs
from ccsync.sync import selectors as sync_selectors
from integrations.constantcontact import errors as cc_errors
from integrations.constantcontact import oauth as cc_oauth
from integrations.quickbooks import oauth as qb_oauth
from support.accounts import PASSWORD, Account, Browser, Identity
from support.query_string import query_of
from support.stack import Stack
from tenants import services as tenant_services

LIST_NAME = "Customers"
PARALLEL = 8

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class Installed:
    tenant_id: int
    realm_id: str
    cc_username: str
    run_id: int  # the first sync's run


def new_identity(stack: Stack, company_names: Sequence[str]) -> Identity:
    """One Intuit user owning these companies (names made unique)."""
    tag = uuid.uuid4().hex[:8]
    email = f"bench-{tag}@example.com"
    answer = stack.control(
        "POST",
        "/_sandbox/intuit/companies",
        {
            "email": email,
            "password": PASSWORD,
            "name": "Bench Owner",
            "company_names": [f"{name} {tag}" for name in company_names],
        },
    )
    return Identity(email=email, companies=answer["companies"])


def new_account(stack: Stack) -> Account:
    username = f"bench-{uuid.uuid4().hex[:10]}"
    answer = stack.control(
        "POST",
        "/_sandbox/cc/accounts",
        {"username": username, "password": PASSWORD, "list_names": [LIST_NAME]},
    )
    return Account(username=username, lists=answer["lists"])


def add_customers(
    stack: Stack, realm_id: str, *, seeded: int, distinct: int = 0, sales: bool = False
) -> None:
    """`seeded` customers with every edge case of the rules (with `sales`, then customer
    types and about 3 sales transactions each), then `distinct` more that are all eligible
    with addresses of their own (so a company can hold more distinct eligible addresses
    than the seed's mix gives)."""
    stack.control(
        "POST",
        f"/_sandbox/quickbooks/{realm_id}/seed",
        {"count": seeded, "random_seed": 0, "sales": sales},
    )
    for start in range(0, distinct, 1000):
        batch = [
            {
                "DisplayName": f"Bench Customer {realm_id}-{number}",
                "GivenName": "Bench",
                "FamilyName": f"Customer {number}",
                "PrimaryEmailAddr": {"Address": f"bench.{realm_id}.{number}@example.com"},
                "Active": True,
            }
            for number in range(start, min(start + 1000, distinct))
        ]
        stack.control("POST", f"/_sandbox/quickbooks/{realm_id}/customers", batch)


def _patiently(call: Callable[[], T]) -> T:
    """Hundreds of installs at once can meet Constant Contact's 4/s (the app's limiter keeps
    its own pace, but requests arrive with jitter): a person would press Connect again."""
    for delay in (1.0, 2.0, 4.0):
        try:
            return call()
        except cc_errors.Throttled:
            time.sleep(delay)
    return call()


@dataclass(frozen=True)
class SalesChoice:
    """Settings' sales data section, as its form posts it."""

    facts: tuple[str, ...]
    tag_name: str = ""  # empty: no tag

    def as_form(self) -> dict[str, Any]:
        return {
            "enabled": True,
            "facts": list(self.facts),
            "tag_enabled": bool(self.tag_name),
            "tag_name": self.tag_name,
        }


def install(
    stack: Stack, identity: Identity, realm_id: str, *, sales: SalesChoice | None = None
) -> Installed:
    """One tenant through both consents, its list chosen (and its sales data, as Settings
    saves them: before the list): the first sync is queued."""
    account = new_account(stack)
    browser = Browser(stack.sandbox)
    # Hundreds of sign-ins at once: the sandbox may drop a connection; a person would reload.
    browser.session.mount("http://", HTTPAdapter(max_retries=Retry(total=3, backoff_factor=0.5)))
    state = secrets.token_urlsafe(16)
    back = query_of(
        browser.intuit_authorize(
            qb_oauth.authorization_url(state=state), identity, realm_id=realm_id
        )
    )
    if back.get("state") != state or back.get("realmId") != realm_id:
        raise AssertionError(f"Intuit answered {sorted(back)} for {realm_id}")
    signed_in = qb_oauth.exchange_code(code=back["code"], realm_id=realm_id)
    who = tenant_services.intuit_identity(signed_in=signed_in, realm_id=realm_id)
    company = tenant_services.confirm_company(realm_id=realm_id, tokens=signed_in.tokens)
    tenant, user = lifecycle.install(company=company, tokens=signed_in.tokens, identity=who)

    authorization = cc_oauth.start_authorization()
    back = query_of(browser.cc_authorize(authorization.url, account))
    if back.get("state") != authorization.state:
        raise AssertionError("Constant Contact answered with another state")
    cc_tokens = cc_oauth.exchange_code(code=back["code"], code_verifier=authorization.code_verifier)
    cc_tokens, summary = _patiently(
        lambda: tenant_services.read_constantcontact_account(tenant=tenant, tokens=cc_tokens)
    )
    lifecycle.connect_constantcontact(tenant=tenant, tokens=cc_tokens, account=summary)
    if sales is not None:
        lifecycle.choose_sales_data(tenant=tenant, **sales.as_form())
    lifecycle.choose_list(
        tenant=tenant, list_id=account.lists[LIST_NAME], list_name=LIST_NAME, user=user
    )
    run = sync_selectors.open_run(tenant=tenant)
    if run is None:
        raise AssertionError("choosing the list did not queue the first sync")
    return Installed(
        tenant_id=tenant.pk, realm_id=realm_id, cc_username=account.username, run_id=run.pk
    )


def in_parallel(work: Callable[[T], U], items: Sequence[T]) -> list[U]:
    """`work` over `items` on a few threads, each closing its database connection."""

    def closing(item: T) -> U:
        try:
            return work(item)
        finally:
            connection.close()

    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(closing, items))


def install_all(stack: Stack, identity: Identity) -> list[Installed]:
    return in_parallel(
        lambda company: install(stack, identity, company["realm_id"]), identity.companies
    )


@contextlib.contextmanager
def first_syncs_held() -> Iterator[None]:
    """Runs queued inside are saved but not sent to the workers: `start` sends them later
    (all at once), or the benchmark runs them itself."""
    enqueue: Any = runs._enqueue
    runs._enqueue = lambda run: None
    try:
        yield
    finally:
        runs._enqueue = enqueue


def start(run_ids: Sequence[int]) -> None:
    """Send held runs to the workers."""
    for run_id in run_ids:
        jobs.send("sync.run", [run_id], queue=jobs.FIRST_SYNC, countdown=None)
