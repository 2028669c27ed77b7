"""The invariants of a customer record's sync state (ccsync/sync/customer_state.py) over
random sequences of what happens to customers: QuickBooks adds, edits and deletes them, a
run observes and judges them, sends them, Constant Contact confirms or refuses an import,
a person unsubscribes and the app reads it. In process: the engine's own judging, sending,
confirming and unsubscribes, against a Constant Contact kept in memory that records every
address it was sent."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from ccsync.sync import confirming, judging, runs, sending, unsubscribes
from ccsync.sync.models import ContactImport, CustomerRecord, Run, UnsubscribedAddress
from integrations.constantcontact import errors as cc_errors
from tenants.models import ListSelection, Tenant

Outcome = CustomerRecord.Outcome
ADDRESSES = ["ann@example.com", "bob@example.com", "cat@example.com", "not an address", None]
LIST_ID = "list-1"
NAMES = ("first_name", "last_name", "company_name", "job_title")
START = datetime(2024, 1, 1, tzinfo=UTC)


class MemoryConstantContact:
    """What the engine asks of Constant Contact, kept in memory. It knows which addresses
    the app knew unsubscribed (`known_unsubscribed`) to catch one sent anyway, and which
    addresses it confirmed holding since `accepted` was last emptied."""

    def __init__(self, known_unsubscribed) -> None:
        self.known_unsubscribed = known_unsubscribed
        self.contacts: dict[str, dict[str, Any]] = {}  # by address
        self.unsubscribed: set[str] = set()
        self.imports: dict[str, dict[str, Any]] = {}
        self.accepted: set[str] = set()
        self.sent_unsubscribed: list[str] = []
        self.ids = count(1)

    def _sending(self, emails: list[str]) -> None:
        known = self.known_unsubscribed()
        self.sent_unsubscribed += [email for email in emails if email in known]

    def import_contacts(self, *, rows: list[dict[str, str]], list_ids: list[str]) -> dict:
        self._sending([row["email"] for row in rows])
        activity_id = f"import-{next(self.ids)}"
        self.imports[activity_id] = {"rows": rows, "state": "processing", "errors": []}
        return {"activity_id": activity_id}

    def finish(self, activity_id: str, *, refuse: str | None = None) -> None:
        """Constant Contact is done with the import: every contact taken but `refuse`."""
        done = self.imports[activity_id]
        done["state"] = "completed"
        for row in done["rows"]:
            if row["email"] == refuse:
                done["errors"].append(f"{refuse}: the email address is not valid")
                continue
            contact = self.contacts.setdefault(row["email"], {"contact_id": f"c{next(self.ids)}"})
            contact["lists"] = {*contact.get("lists", ()), LIST_ID}
            contact["names"] = {k: v for k, v in row.items() if k in NAMES}
            self.accepted.add(row["email"])

    def iter_activities(self, *, limit: int):
        for activity_id, found in reversed(self.imports.items()):
            yield {
                "activity_id": activity_id,
                "state": found["state"],
                "created_at": START.isoformat(),
                "status": {"error_count": len(found["errors"])},
                "activity_errors": found["errors"],
            }

    def get_activity(self, *, activity_id: str) -> dict:
        raise cc_errors.NotFound("listed above")

    def _contact(self, email: str) -> dict[str, Any] | None:
        found = self.contacts.get(email)
        if found is None:
            return None
        permission = "unsubscribed" if email in self.unsubscribed else "implicit"
        return {
            "contact_id": found["contact_id"],
            "email_address": {"address": email, "permission_to_send": permission},
            "list_memberships": sorted(found["lists"]),
            **found["names"],
        }

    def get_contact(self, *, contact_id: str, include) -> dict:
        for email, found in self.contacts.items():
            if found["contact_id"] == contact_id:
                return self._contact(email) or {}
        raise cc_errors.NotFound("no such contact")

    def find_contact(self, *, email: str, include) -> dict | None:
        return self._contact(email)

    def put_contact(self, *, contact_id: str, contact: dict) -> dict:
        old = next(e for e, c in self.contacts.items() if c["contact_id"] == contact_id)
        new = (contact.get("email_address") or {}).get("address", old)
        self._sending([new])
        if new != old and new in self.contacts:
            raise cc_errors.Conflict("another contact has this address")
        self.contacts[new] = self.contacts.pop(old)
        self.contacts[new]["names"] = {k: v for k, v in contact.items() if k in NAMES and v}
        self.accepted.add(new)
        return contact

    def iter_contacts(self, *, status: str, limit: int, **since: Any):
        """The unsubscribed addresses, or every contact (a read-back)."""
        if status == "unsubscribed":
            yield from ({"email_address": {"address": e}} for e in sorted(self.unsubscribed))
        else:
            yield from (self._contact(email) for email in sorted(self.contacts))


class CustomerLife(RuleBasedStateMachine):
    """One company's customers: each rule is something that happens, the invariants hold
    after every one of them."""

    tenants = count(1)

    def __init__(self) -> None:
        super().__init__()
        self.tenant = Tenant.objects.create(realm_id=f"9{next(self.tenants):08d}")
        ListSelection.objects.create(tenant=self.tenant, list_id=LIST_ID, list_name="Customers")
        self.cc = MemoryConstantContact(self._known_unsubscribed)
        run = Run.objects.create(tenant=self.tenant, kind=Run.Kind.CHANGES)
        assert runs.claim(run_id=run.pk, worker="w")
        run.refresh_from_db()
        self.sync = runs.Sync(
            run=run, worker="w", list_id=LIST_ID, qb=None, cc=self.cc, calls=Counter()
        )
        self.customers: dict[str, dict[str, Any]] = {}
        self.once_in_list: set[int] = set()

    def _known_unsubscribed(self) -> set[str]:
        addresses = UnsubscribedAddress.objects.filter(tenant=self.tenant)
        return set(addresses.values_list("email", flat=True))

    def _observed(self, *customers: dict[str, Any]) -> None:
        """A run of changes: QuickBooks read, then the rules applied."""
        judging.observe(tenant=self.tenant, customers=list(customers))
        ids = [str(c["Id"]) for c in customers]
        judging.judge(tenant=self.tenant, list_id=LIST_ID, customer_ids=ids, ensure_list=False)

    @rule(email=st.sampled_from(ADDRESSES), job=st.booleans())
    def quickbooks_adds(self, email: str | None, job: bool) -> None:
        number = str(len(self.customers) + 1)
        customer: dict[str, Any] = {
            "Id": number,
            "DisplayName": f"Customer {number}",
            "GivenName": f"Given{number}",
            "Active": True,
            "MetaData": {"CreateTime": (START + timedelta(days=int(number))).isoformat()},
        }
        if email is not None:
            customer["PrimaryEmailAddr"] = {"Address": email}
        if job and self.customers:
            customer["ParentRef"] = {"value": "1"}
        self.customers[number] = customer
        self._observed(customer)

    @rule(
        data=st.data(),
        email=st.sampled_from(ADDRESSES),
        active=st.booleans(),
        title=st.sampled_from(["", "Engineer"]),
    )
    def quickbooks_edits(self, data, email: str | None, active: bool, title: str) -> None:
        if not self.customers:
            return
        number = data.draw(st.sampled_from(sorted(self.customers)))
        customer = self.customers[number]
        customer.pop("PrimaryEmailAddr", None)
        if email is not None:
            customer["PrimaryEmailAddr"] = {"Address": email}
        customer["Active"] = active
        customer["Title"] = title
        self._observed(customer)

    @rule(data=st.data())
    def quickbooks_deletes(self, data) -> None:
        if not self.customers:
            return
        number = data.draw(st.sampled_from(sorted(self.customers)))
        self._observed({"Id": number, "status": "Deleted"})

    @rule()
    def run_sends(self) -> None:
        sending.send_pending(self.sync)

    @rule()
    def constant_contact_confirms(self) -> None:
        for activity_id, found in self.cc.imports.items():
            if found["state"] == "processing":
                self.cc.finish(activity_id)
        confirming.confirm_imports(tenant=self.tenant, cc=self.cc)

    @rule(data=st.data())
    def constant_contact_refuses_one(self, data) -> None:
        waiting = [a for a, found in self.cc.imports.items() if found["state"] == "processing"]
        if not waiting:
            return
        activity_id = data.draw(st.sampled_from(waiting))
        rows = self.cc.imports[activity_id]["rows"]
        refused = data.draw(st.sampled_from([row["email"] for row in rows]))
        self.cc.finish(activity_id, refuse=refused)
        confirming.confirm_imports(tenant=self.tenant, cc=self.cc)

    @rule(email=st.sampled_from(ADDRESSES[:3]))
    def person_unsubscribes(self, email: str) -> None:
        self.cc.unsubscribed.add(email)

    @rule()
    def app_reads_unsubscribes(self) -> None:
        unsubscribes.refresh_unsubscribes(tenant=self.tenant, cc=self.cc)

    # --- invariants ------------------------------------------------------------------------

    def _records(self) -> list[CustomerRecord]:
        return list(CustomerRecord.objects.filter(tenant=self.tenant))

    @invariant()
    def skipped_exactly_with_a_reason(self) -> None:
        for record in self._records():
            assert (record.outcome == Outcome.SKIPPED) == bool(record.reason), record

    @invariant()
    def sent_exactly_while_an_unconfirmed_import_carries_it(self) -> None:
        for record in self._records():
            assert (record.outcome == Outcome.SENT) == (record.pending_import_id is not None)
            if record.outcome == Outcome.SENT:
                carried = ContactImport.objects.get(pk=record.pending_import_id)
                assert carried.state == ContactImport.State.SENT and record.queued_hash

    @invariant()
    def synced_only_once_constant_contact_confirmed(self) -> None:
        """In the list only by what Constant Contact accepted (an import finished without
        an error for it, a PUT answered); never taken back."""
        for record in self._records():
            if record.outcome == Outcome.SYNCED:
                assert record.in_list and record.synced_at is not None
            if record.sent_hash:
                assert record.in_list
            if record.in_list and record.pk not in self.once_in_list:
                assert record.sent_email in self.cc.accepted, record
                self.once_in_list.add(record.pk)
            assert record.in_list or record.pk not in self.once_in_list
        self.cc.accepted.clear()

    @invariant()
    def never_sent_once_known_unsubscribed(self) -> None:
        assert self.cc.sent_unsubscribed == []
        known = self._known_unsubscribed()
        for record in self._records():
            if record.outcome in (Outcome.PENDING, Outcome.SENT):
                assert record.email not in known, record
                assert record.email and record.row, record


@pytest.mark.django_db
def test_a_customer_records_invariants_hold_whatever_happens(settings):
    settings.SYNC_CUSTOMER_CAP = 3  # the cap's places come into play
    run_state_machine_as_test(
        CustomerLife,
        settings=hypothesis_settings(max_examples=30, stateful_step_count=25, deadline=None),
    )
