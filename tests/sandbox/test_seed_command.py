"""`python -m sandbox seed`: the demo's world, seeded once."""

import requests


def test_seed_builds_the_demo_world_once(sandbox):
    first = sandbox.manage("seed", "--customers", "40", "--donors", "60")
    assert "Seeded" in first
    assert "already seeded" in sandbox.manage("seed", "--if-empty")

    # The same user and company names give back the seeded companies.
    companies = requests.post(
        f"{sandbox.url}/_sandbox/intuit/companies",
        json={
            "email": "demo@example.com",
            "password": "demo",
            "name": "Demo User",
            "company_names": ["Amy's Bird Sanctuary", "Keystone Food Bank"],
        },
        timeout=10,
    ).json()["companies"]
    counts = []
    for company in companies:
        customers = requests.get(
            f"{sandbox.url}/_sandbox/quickbooks/{company['realm_id']}/customers", timeout=30
        ).json()["Customer"]
        counts.append(len(customers))
    assert counts == [40, 60]

    contacts = requests.get(f"{sandbox.url}/_sandbox/cc/accounts/demo/contacts", timeout=10).json()
    unsubscribed = [c for c in contacts["contacts"] if c["permission"] == "unsubscribed"]
    assert len(unsubscribed) == 3
