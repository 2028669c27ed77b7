"""The end of every fault test: the sandbox's Constant Contact list against the sandbox's
QuickBooks company, judged by the product's own rules (ccsync.sync.rules and mapping).

Expected: every eligible customer of the company exactly once in the list, with its
current name, and no other subscribed contact in the account. Only the sandbox's control
API is read, never the app's database: what counts is what the providers hold.
"""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests

from ccsync.sync.mapping import names
from ccsync.sync.rules import (
    CUSTOMER_CAP,
    Candidate,
    Verdict,
    created_at,
    customer_email,
    decide,
    is_active,
    is_top_level,
)
from support.stack import wait_for


@dataclass(frozen=True)
class Target:
    """One company's QuickBooks side and Constant Contact side, in one sandbox."""

    sandbox_url: str
    realm_id: str
    username: str
    list_name: str
    # Synced once and never taken back (deactivated or deleted since): stay in the list.
    kept: frozenset[str] = field(default_factory=frozenset)

    def _get(self, path: str) -> Any:
        answer = requests.get(f"{self.sandbox_url}{path}", timeout=30)
        answer.raise_for_status()
        return answer.json()

    def customers(self) -> list[dict[str, Any]]:
        return self._get(f"/_sandbox/quickbooks/{self.realm_id}/customers")["Customer"]

    def contacts(self) -> list[dict[str, Any]]:
        return self._get(f"/_sandbox/cc/accounts/{self.username}/contacts")["contacts"]


def expected_contacts(
    customers: list[dict[str, Any]], *, unsubscribed: set[str]
) -> dict[str, tuple[str, str]]:
    """Address -> (first name, last name) of every customer the rules send, by its own
    customer (a winner among customers sharing an address)."""
    candidates = {
        str(c["Id"]): Candidate(
            customer_id=str(c["Id"]),
            email=customer_email(c),
            active=is_active(c),
            top_level=is_top_level(c),
            created=created_at(c),
        )
        for c in customers
    }
    decisions = decide(
        candidates.values(), unsubscribed=unsubscribed, places_taken=0, cap=CUSTOMER_CAP
    )
    by_id = {str(c["Id"]): c for c in customers}
    return {
        str(candidates[cid].email.address): names(by_id[cid])
        for cid, decision in decisions.items()
        if decision.verdict is Verdict.SEND
    }


def differences(target: Target) -> list[str]:
    """What is wrong with the list now (empty when it matches the company)."""
    contacts = [c for c in target.contacts() if not c["deleted"]]
    unsubscribed = {c["email"].lower() for c in contacts if c["permission"] == "unsubscribed"}
    expected = expected_contacts(target.customers(), unsubscribed=unsubscribed)
    members = [c for c in contacts if target.list_name in c["list_names"]]
    counted = Counter(c["email"].lower() for c in members)
    problems = [f"twice or more: {a}" for a, n in sorted(counted.items()) if n > 1]
    problems += [f"missing: {a}" for a in sorted(set(expected) - set(counted))]
    problems += [f"not eligible: {a}" for a in sorted(set(counted) - set(expected) - target.kept)]
    for contact in members:
        address = contact["email"].lower()
        if address in expected:
            found = (contact.get("first_name") or "", contact.get("last_name") or "")
            if found != expected[address]:
                problems.append(f"stale name for {address}: {found} != {expected[address]}")
    problems += [
        f"outside the list: {c['email'].lower()}"
        for c in contacts
        if target.list_name not in c["list_names"] and c["permission"] != "unsubscribed"
    ]
    return problems


def assert_list_matches_company(target: Target) -> None:
    problems = differences(target)
    assert not problems, "the list does not match QuickBooks:\n" + "\n".join(problems)


def wait_until_list_matches(target: Target, *, timeout: float) -> None:
    """Waits for the list to match the company; fails with what still differs."""
    try:
        wait_for(lambda: not differences(target), timeout=timeout, what="the list", interval=0.5)
    except AssertionError:
        assert_list_matches_company(target)
        raise
