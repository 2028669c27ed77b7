"""export_company and erase_company: everything about one company, and nothing else."""

import io
import json
import logging
import os
import stat

import pytest
from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.core.management import CommandError, call_command, get_commands
from django.db import models

from ccsync.sync import lifecycle
from ccsync.sync.models import CustomerRecord, Run, TenantSync, UnsubscribedAddress, WebhookEvent
from tenants.models import (
    ConstantContactConnection,
    ListSelection,
    Membership,
    QuickBooksConnection,
    Tenant,
    User,
)

TENANT_ROWS = (
    Membership,
    QuickBooksConnection,
    ConstantContactConnection,
    ListSelection,
    TenantSync,
    Run,
    CustomerRecord,
    WebhookEvent,
    UnsubscribedAddress,
)


def run(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def snapshot(tenant: Tenant) -> dict[str, int]:
    rows = {model.__name__: model.objects.filter(tenant=tenant).count() for model in TENANT_ROWS}
    rows["people"] = User.objects.filter(membership__tenant=tenant).count()
    return rows


def rows_mentioning(text: str) -> list[str]:
    """Every row of every table whose text columns contain `text`."""
    found = []
    for model in apps.get_models():
        columns = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField)
        ]
        query = models.Q()
        for column in columns:
            query |= models.Q(**{f"{column}__contains": text})
        if columns and model.objects.filter(query).exists():
            found.append(model.__name__)
    return found


@pytest.fixture
def two(company):
    """A company to act on and another sharing one of its people (an accountant)."""
    other = company("Bakery")
    held = company(shared_user=other.owner)
    return held, other


def test_export_holds_everything_about_the_company_and_no_token(two, tmp_path, caplog):
    held, other = two
    path = tmp_path / "export.json"
    with caplog.at_level(logging.INFO):
        run("export_company", held.realm_id, "--output", str(path))
    text = path.read_text()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

    for token in held.tokens:
        assert token not in text
    assert "token" not in text.lower()
    assert not any(email in text for email in other.emails[1:])  # the other's customers

    data = json.loads(text)
    assert data["realm_id"] == held.realm_id
    assert data["tenant"]["company_name"] == held.tenant.company_name
    assert {m["email"] for m in data["members"]} == {held.owner.email, other.owner.email}
    assert {m["id"] for m in data["members"]} == {held.owner.pk, other.owner.pk}
    quickbooks = data["connections"]["quickbooks"]
    assert quickbooks["state"] == "connected" and quickbooks["access_expires_at"]
    assert data["connections"]["constantcontact"]["account_name"].startswith("Account ")
    assert [entry["list_name"] for entry in data["lists"]] == ["Customers"]
    assert [r["kind"] for r in data["runs"]] == ["first"]
    assert sorted(c["email"] for c in data["customers"]) == sorted(held.emails[1:-1])
    assert all(c["row"]["email"] == c["email"] for c in data["customers"])
    assert len(data["webhook_events"]) == 2
    assert [u["email"] for u in data["unsubscribed_addresses"]] == [held.emails[-1]]
    assert data["sync_state"]["unsubscribes_read_at"]

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"realm={held.realm_id}" in logged and "customers=3" in logged
    assert not any(email in logged for email in held.emails)
    assert held.tenant.company_name not in logged


def test_export_to_stdout_is_the_same_json(two):
    held, _ = two
    data = json.loads(run("export_company", held.realm_id))
    assert len(data["customers"]) == 3 and data["tenant"]["realm_id"] == held.realm_id


def test_the_commands_belong_to_data_care():
    commands = get_commands()
    assert commands["export_company"] == commands["erase_company"] == "ccsync.datacare"


def test_unknown_company_is_an_error(db):
    for command in ("export_company", "erase_company"):
        with pytest.raises(CommandError, match="No QuickBooks company"):
            run(command, "123")


def test_erase_without_yes_is_a_dry_run(two, revoked):
    held, other = two
    before = {t.pk: snapshot(t) for t in (held.tenant, other.tenant)}
    out = run("erase_company", held.realm_id)
    assert "Would erase" in out and "Dry run: nothing was erased" in out
    assert "customers: 3" in out and "people: 1" in out and "admin log entries: 1" in out
    assert {t.pk: snapshot(t) for t in (held.tenant, other.tenant)} == before
    assert revoked == []


def test_erase_leaves_nothing_about_the_company_and_touches_no_other(two, revoked, caplog):
    held, other = two
    staff = User.objects.create(username="operator-member", is_staff=True)
    Membership.objects.create(user=staff, tenant=held.tenant)
    before = snapshot(other.tenant)
    with caplog.at_level(logging.INFO):
        out = run("erase_company", held.realm_id, "--yes")
    assert "Erased for realm" in out

    # Still connected: both grants were revoked before anything was deleted.
    assert set(revoked) == {held.tokens[i] for i in (0, 1, 4, 5)}
    assert not Tenant.objects.filter(realm_id=held.realm_id).exists()
    assert rows_mentioning(held.realm_id) == []
    for value in (*held.emails, *held.tokens, held.tenant.company_name):
        assert rows_mentioning(value) == [], value
    assert not any(model.objects.filter(tenant_id=held.tenant.pk).exists() for model in TENANT_ROWS)
    assert not User.objects.filter(pk=held.owner.pk).exists()  # acted for this company only
    # The accountant acts for another company, and operators keep their accounts.
    assert User.objects.filter(pk__in=[other.owner.pk, staff.pk]).count() == 2
    assert snapshot(other.tenant) == before
    assert LogEntry.objects.filter(object_repr__contains=other.realm_id).exists()

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"realm={held.realm_id}" in logged and "customers=3" in logged
    assert not any(email in logged for email in held.emails)


def test_erase_of_a_disconnected_company_revokes_nothing_more(two, revoked):
    held, _ = two

    lifecycle.disconnect(tenant=held.tenant, reason="Disconnected in QuickBooks.")
    revoked.clear()
    run("erase_company", held.realm_id, "--yes")
    assert revoked == []
    assert rows_mentioning(held.realm_id) == []
