"""Seeded customers: a realistic company carrying every edge case of the sync rules."""

import random
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from sandbox.quickbooks.models import Customer
from sandbox.quickbooks.seed_sales import seed_sales
from sandbox.quickbooks.services import next_ids

GIVEN = (
    "Amy Bill Carla Dev Elena Frank Grace Hiro Ines Jamal Kate Liam Maya Noah Olga Pedro Quinn "
    "Rosa Sam Tara"
).split()
FAMILY = (
    "Lauterbach Nguyen Okafor Schmidt Garcia Kowalski Tanaka Smith Rossi Dubois Haddad "
    "Johansson Murphy Patel Cohen"
).split()
# (given, family, company): accents, CJK, emoji.
UNICODE_NAMES = [
    ("José", "Álvarez", "Café Olé"),
    ("Zoë", "Brontë", "Crème Brûlée Bakery"),
    ("Søren", "Kierkegård", "Fjørd Fishing"),
    ("小龍", "李", "龍記茶餐廳"),
    ("太郎", "山田", "山田商店"),
    ("Renée", "Dupont 🌸", "🎉 Party Supplies"),
    ("Łukasz", "Wróbel", "Żółć & Syn"),
    ("Ngozi", "Ọkàfọ̀", "Ìlú Crafts"),
]
BUSINESS_WORDS = [
    "Bird Sanctuary",
    "Landscaping",
    "Pool Service",
    "Dental",
    "Bakery",
    "Plumbing",
    "Books",
    "Design",
    "Auto Repair",
    "Florist",
]
INVALID_EMAILS = ["not-an-email", "jane at example.com", "@no-local-part.com", "bob@", "x@y"]
LONG_COMPANY = "The Extraordinarily Long Named Landscaping and Garden Design Cooperative of the Bay"
LONG_CITY = "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch Village"
LONG_PHONE = "+1 (650) 555-0199 extension 12345"


def seed_customers(*, realm_id: str, count: int, random_seed: int = 0, sales: bool = False) -> int:
    """Add `count` customers to a company (bulk, no webhooks); returns how many. With
    `sales`, the company's customers then get customer types and sales (seed_sales.py).

    Deterministic for a seed (times are offsets from the moment of seeding). The mix, by
    share of customers:
    - about 5% no email, 3% only invalid emails ("not-an-email", "x@y", ...) and 5%
      inactive: about 13% ineligible, so 12,000 customers give about 10,500 eligible
      ones (seed 0: 10,478, with 9,581 distinct addresses) and the 10,000 cap bites;
    - about 3% several emails in one field ("a@x.com, b@x.com") and 1% an invalid one
      before a valid one ("not-an-email, c@x.com"): the first valid address counts;
    - about 4% parents followed by 1-3 sub-customers (Job true, ParentRef, Level 1,
      FullyQualifiedName "Parent:Child"; about 8% of all) sharing the parent's email;
    - about 5% unicode names (accents, CJK, emoji), 2% values longer than Constant
      Contact takes (company > 50, street lines > 255 together, city > 50, phone > 25),
      4% only a DisplayName (no given or family name);
    - CreateTime over the last three years, growing with the Id, except about 10%
      imported customers created earlier than their Id suggests (so "oldest first" and
      "lowest Id first" differ); LastUpdatedTime between CreateTime and now, some within
      the last 30 days (CDC sees them).
    """
    rng = random.Random(random_seed)
    moment = timezone.now()
    with transaction.atomic():
        first = next_ids(realm_id=realm_id, count=count)
        taken = set(
            Customer.objects.filter(realm_id=realm_id).values_list("display_name", flat=True)
        )
        customers = _new_customers(
            rng, realm_id=realm_id, first=first, count=count, taken=taken, moment=moment
        )
        Customer.objects.bulk_create(customers, batch_size=1000)
        if sales:
            seed_sales(realm_id=realm_id, random_seed=random_seed)
    return count


def _new_customers(
    rng: random.Random,
    *,
    realm_id: str,
    first: int,
    count: int,
    taken: set[str],
    moment: datetime,
) -> list[Customer]:
    """`count` customers numbered from `first`, some parents followed by their
    sub-customers; each display name is added to `taken`."""
    customers: list[Customer] = []
    parent: Customer | None = None
    children_left = 0
    for offset in range(count):
        number = first + offset
        created, updated = _times(rng, moment, share_done=offset / max(count, 1))
        if children_left and parent is not None:
            data = _subcustomer(rng, number, parent)
            children_left -= 1
        else:
            data, children_left = _top_level(rng, number, taken, last=offset + 1 >= count)
            parent = None
        taken.add(data["DisplayName"])
        customer = Customer(
            realm_id=realm_id,
            number=number,
            sync_token=rng.randint(0, 5),
            data=data,
            created_at=created.replace(microsecond=0),
            updated_at=updated.replace(microsecond=0),
        )
        customer.copy_columns()
        customers.append(customer)
        if children_left and parent is None:
            parent = customer
    return customers


def _times(rng: random.Random, moment: datetime, *, share_done: float) -> tuple[datetime, datetime]:
    """CreateTime growing with the Id over three years (some imported earlier), and a
    LastUpdatedTime between it and now."""
    created = moment - timedelta(days=3 * 365) * (1 - share_done)
    if rng.random() < 0.10:
        created -= timedelta(days=rng.randint(30, 700))
    return created, created + (moment - created) * rng.random()


def _top_level(
    rng: random.Random, number: int, taken: set[str], *, last: bool
) -> tuple[dict[str, Any], int]:
    """A customer that is no one's sub-customer, and how many sub-customers follow it."""
    data = _customer(rng, number, taken)
    data.update(Job=False, FullyQualifiedName=data["DisplayName"])
    children = 0
    if rng.random() < 0.04 and not last:
        children = rng.randint(1, 3)
        data["Active"] = True
        if not data.get("PrimaryEmailAddr"):
            data["PrimaryEmailAddr"] = {"Address": _email(number, "parent")}
    return data, children


def _customer(rng: random.Random, number: int, taken: set[str]) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.05:
        given, family, company = rng.choice(UNICODE_NAMES)
    else:
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        company = f"{family} {rng.choice(BUSINESS_WORDS)}" if rng.random() < 0.6 else ""
    display = _unique(f"{given} {family}", taken)
    data: dict[str, Any] = {
        "DisplayName": display,
        "GivenName": given,
        "FamilyName": family,
        "Active": True,
        "PrimaryPhone": {"FreeFormNumber": f"(650) 555-{number % 10000:04d}"},
        "BillAddr": {
            "Line1": f"{number} Main St.",
            "City": "Bayshore",
            "CountrySubDivisionCode": "CA",
            "PostalCode": f"9{number % 10000:04d}",
            "Country": "USA",
        },
    }
    if company:
        data["CompanyName"] = company
    if rng.random() < 0.3:
        data["Mobile"] = {"FreeFormNumber": f"(415) 555-{(number * 7) % 10000:04d}"}
    if rng.random() < 0.2:
        data["ShipAddr"] = {**data["BillAddr"], "Line1": f"{number} Dock Rd."}
    if rng.random() < 0.04:
        # Only a DisplayName, as people often type just a business name.
        data.pop("GivenName")
        data.pop("FamilyName")
        data["DisplayName"] = _unique(f"{rng.choice(BUSINESS_WORDS)} {number}", taken)
    if rng.random() < 0.02:
        data["CompanyName"] = LONG_COMPANY
        data["BillAddr"] = {
            "Line1": "Building 7, " + "Suite 1200, " * 12,
            "Line2": "Attention: Accounts Payable Department, Third Floor, " * 3,
            "Line3": "c/o The Very Long Street Address Holding Company",
            "City": LONG_CITY,
            "CountrySubDivisionCode": "CA",
            "PostalCode": "94326",
            "Country": "USA",
        }
        data["AlternatePhone"] = {"FreeFormNumber": LONG_PHONE}
    data.update(_email_case(rng, number, given, family))
    return data


def _email_case(rng: random.Random, number: int, given: str, family: str) -> dict[str, Any]:
    roll = rng.random()
    address = _email(number, f"{given}.{family}")
    if roll < 0.06:
        return {}
    if roll < 0.09:
        return {"PrimaryEmailAddr": {"Address": rng.choice(INVALID_EMAILS)}}
    if roll < 0.14:
        return {"PrimaryEmailAddr": {"Address": address}, "Active": False}
    if roll < 0.17:
        return {"PrimaryEmailAddr": {"Address": f"{address}, {_email(number, 'billing')}"}}
    if roll < 0.18:
        return {"PrimaryEmailAddr": {"Address": f"not-an-email, {address}"}}
    return {"PrimaryEmailAddr": {"Address": address}}


def _subcustomer(rng: random.Random, number: int, parent: Customer) -> dict[str, Any]:
    display = f"Job {number}"
    return {
        "DisplayName": display,
        "Active": True,
        "Job": True,
        "ParentRef": {"value": parent.customer_id},
        "Level": 1,
        "FullyQualifiedName": f"{parent.data['DisplayName']}:{display}",
        "PrimaryEmailAddr": dict(parent.data["PrimaryEmailAddr"]),
        "BillAddr": dict(parent.data["BillAddr"]),
        "Notes": rng.choice(["Kitchen remodel", "Spring cleanup", "Annual service"]),
    }


def _email(number: int, local: str) -> str:
    ascii_local = unicodedata.normalize("NFKD", local).encode("ascii", "ignore").decode()
    cleaned = "".join(c for c in ascii_local.lower() if c.isalnum() or c == ".").strip(".")
    return f"{cleaned or 'customer'}.{number}@example.com"


def _unique(name: str, taken: set[str]) -> str:
    candidate, suffix = name, 1
    while candidate in taken:
        suffix += 1
        candidate = f"{name} ({suffix})"
    return candidate
