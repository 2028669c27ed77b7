"""Seeded customers carry every edge case of the sync rules, deterministically."""

import re
from collections import Counter
from datetime import datetime

EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")


def first_valid_email(customer: dict) -> str | None:
    field = (customer.get("PrimaryEmailAddr") or {}).get("Address", "")
    return next((part.strip() for part in field.split(",") if EMAIL.match(part.strip())), None)


def eligible(customer: dict) -> bool:
    return customer["Active"] and first_valid_email(customer) is not None


def test_twelve_thousand_customers_with_every_edge_case(company, unthrottled):
    company.seed(12_000)
    customers = company.all_customers()
    assert len(customers) == 12_000
    assert [c["Id"] for c in customers] == [str(n) for n in range(1, 12_001)]
    assert len({c["DisplayName"].lower() for c in customers}) == 12_000

    assert 10_000 < sum(map(eligible, customers)) < 10_800

    emails = [(c.get("PrimaryEmailAddr") or {}).get("Address", "") for c in customers]
    assert sum(1 for e in emails if not e) > 100  # no email
    assert any(re.fullmatch(r"[^,]+@[^,]+, [^,]+@[^,]+", e) for e in emails)  # several
    assert any(
        e.startswith("not-an-email, ") and first_valid_email({"PrimaryEmailAddr": {"Address": e}})
        for e in emails
    )
    only_invalid = [c for c in customers if c.get("PrimaryEmailAddr") and not first_valid_email(c)]
    assert len(only_invalid) > 100
    assert sum(1 for c in customers if not c["Active"]) > 300

    subs = [c for c in customers if c["Job"]]
    assert len(subs) > 200
    by_id = {c["Id"]: c for c in customers}
    for sub in subs:
        parent = by_id[sub["ParentRef"]["value"]]
        assert sub["Level"] == 1
        assert sub["FullyQualifiedName"] == f"{parent['DisplayName']}:{sub['DisplayName']}"
        assert sub["PrimaryEmailAddr"] == parent["PrimaryEmailAddr"]
    shared = Counter(first_valid_email(c) for c in customers if eligible(c))
    assert sum(1 for count in shared.values() if count > 1) > 100

    names = " ".join(c["DisplayName"] + c.get("CompanyName", "") for c in customers)
    assert "José" in names and "李" in names and "🎉" in names
    assert sum(1 for c in customers if "GivenName" not in c and "FamilyName" not in c) > 200

    long_ones = [c for c in customers if len(c.get("CompanyName", "")) > 50]
    assert long_ones
    bill = long_ones[0]["BillAddr"]
    assert sum(len(bill.get(f"Line{n}", "")) for n in range(1, 6)) > 255
    assert len(bill["City"]) > 50
    assert len(long_ones[0]["AlternatePhone"]["FreeFormNumber"]) > 25

    created = [datetime.fromisoformat(c["MetaData"]["CreateTime"]) for c in customers]
    assert created != sorted(created)  # oldest first is not lowest Id first
    for customer, create_time in zip(customers, created, strict=True):
        assert datetime.fromisoformat(customer["MetaData"]["LastUpdatedTime"]) >= create_time


def test_seeding_is_deterministic_for_a_seed(connect_company, unthrottled):
    def content(company) -> list[dict]:
        return [
            {k: v for k, v in customer.items() if k != "MetaData"}
            for customer in company.all_customers()
        ]

    first, second, third = connect_company(), connect_company(), connect_company()
    first.seed(300, random_seed=7)
    second.seed(300, random_seed=7)
    third.seed(300, random_seed=8)
    assert content(first) == content(second)
    assert content(first) != content(third)
