"""The behaviours of QuickBooks and Constant Contact the sync relies on, asserted of whatever
clients tenants/clients.py builds for an installed company: the real clients talking to the
sandbox over HTTP (test_sandbox.py), or the in-process fakes (test_fakes.py). The same
assertions hold for both, so the fakes cannot drift from the sandbox (and the sandbox
follows the providers' documentation: docs/providers.md).

Each test receives a `world`: the installed company (its QuickBooks changed, its Constant
Contact account read, as tests/plugins/companies.py does), its two clients, the calls they
made, and the knobs (the sandbox's names).
"""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from integrations.constantcontact import errors as cc_errors
from integrations.limiter import get_limiter
from integrations.quickbooks import errors as qb_errors
from integrations.quickbooks.client import ALL_CUSTOMERS, CDC_MAX_OBJECTS
from tenants.clients import constantcontact_client, quickbooks_client
from tests.plugins.companies import Company, person

DONE = {"completed", "failed", "cancelled", "timed_out"}


@dataclass
class World:
    company: Company
    set_knobs: Callable[..., Any]
    calls: list[str] = field(default_factory=list)  # endpoints called, in order

    def __post_init__(self) -> None:
        tenant = self.company.tenant
        limiter = get_limiter()
        cc_hook = limiter.constantcontact_hook(tenant=str(tenant.pk))
        qb_hook = limiter.quickbooks_hook(realm_id=tenant.realm_id)

        def counting(hook: Callable[[str], None]) -> Callable[[str], None]:
            def before_request(endpoint: str) -> None:
                hook(endpoint)
                self.calls.append(endpoint)

            return before_request

        self.qb = quickbooks_client(tenant=tenant, before_request=counting(qb_hook))
        self.cc = constantcontact_client(tenant=tenant, before_request=counting(cc_hook))

    @property
    def lists(self) -> dict[str, str]:
        return self.company.lists

    def done(self, activity: dict[str, Any]) -> dict[str, Any]:
        """The activity once Constant Contact has finished it (the sandbox processes it
        in the background of its reads: asked again until it says so)."""
        for _ in range(200):
            found = self.cc.get_activity(activity_id=activity["activity_id"])
            if found["state"] in DONE:
                return found
            time.sleep(0.05)
        raise AssertionError(f"activity still {found['state']}")

    def contact(self, email: str, **include: Any) -> dict[str, Any]:
        found = self.cc.find_contact(email=email, include=list(include.get("include", ())))
        assert found is not None, email
        return found


def ids(customers: list[dict[str, Any]]) -> list[str]:
    return [customer["Id"] for customer in customers]


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Contract:
    """Every test of the contract; a subclass gives the `world` fixture."""

    # --- QuickBooks: reading customers ------------------------------------------------------

    def test_customers_page_by_page_ordered_by_id_inactive_ones_only_when_asked(self, world):
        added = world.company.add(
            *(person(f"Page {n}", f"page{n}@example.com") for n in range(6)),
            person("Page Gone", "gone@example.com", Active=False),
        )
        pages = list(world.qb.iter_customer_pages(where=ALL_CUSTOMERS, page_size=3))
        assert [(start, ids(page)) for start, page in pages] == [
            (1, ids(added[0:3])),
            (4, ids(added[3:6])),
            (7, ids(added[6:7])),
        ]
        assert world.calls == ["query"] * 3
        assert world.qb.count_customers(where=ALL_CUSTOMERS) == 7
        assert world.qb.count_customers() == 6
        assert ids(world.qb.query_customers()) == ids(added[:6])

    def test_a_customer_as_quickbooks_shows_it(self, world):
        parent, no_display = world.company.add(
            person("Amy Lee", "amy@example.com", CompanyName="Amy's Birds"),
            {"GivenName": "Bo", "FamilyName": "Li"},
        )
        (job,) = world.company.add(
            {"DisplayName": "Kitchen", "ParentRef": {"value": parent["Id"]}, "Job": True}
        )
        read = {c["Id"]: c for c in world.qb.query_customers(where=ALL_CUSTOMERS)}
        amy = read[parent["Id"]]
        assert amy["DisplayName"] == "Amy Lee" and amy["CompanyName"] == "Amy's Birds"
        assert amy["PrimaryEmailAddr"] == {"Address": "amy@example.com"}
        assert amy["Active"] is True and amy["Job"] is False and amy["SyncToken"] == "0"
        assert moment(amy["MetaData"]["CreateTime"]).tzinfo is not None
        assert read[no_display["Id"]]["DisplayName"] == "Bo Li"
        kitchen = read[job["Id"]]
        assert kitchen["Job"] is True and kitchen["ParentRef"] == {"value": parent["Id"]}
        assert kitchen["FullyQualifiedName"] == "Amy Lee:Kitchen" and kitchen["Level"] == 1

    def test_customers_by_ids_active_or_not_and_ids_quickbooks_refuses(self, world):
        one, two = world.company.add(
            person("Id One", "one@example.com"), person("Id Two", "two@example.com", Active=False)
        )
        lookup = world.qb.customers_by_ids(ids=[one["Id"], two["Id"], "999999", "abc", one["Id"]])
        assert sorted(ids(lookup.customers)) == sorted([one["Id"], two["Id"]])
        assert lookup.refused == ["abc"]

    def test_changes_since_a_moment_deleted_and_merged_ones_as_tombstones(self, world):
        since = datetime.now(UTC) - timedelta(seconds=1)
        kept, edited, gone, merged = world.company.add(
            person("Cdc Kept", "kept@example.com"),
            person("Cdc Edited", "edited@example.com"),
            person("Cdc Gone", "gone@example.com"),
            person("Cdc Merged", "merged@example.com"),
        )
        assert {c["Id"] for c in world.qb.changed_customers(since=since)} >= set(
            ids([kept, edited, gone, merged])
        )
        world.company.change(edited["Id"], PrimaryEmailAddr={"Address": "new@example.com"})
        world.company.change(gone["Id"], "delete")
        world.company.change(merged["Id"], f"merge-into/{kept['Id']}")
        changed = {c["Id"]: c for c in world.qb.changed_customers(since=since)}
        assert changed[edited["Id"]]["PrimaryEmailAddr"] == {"Address": "new@example.com"}
        assert changed[edited["Id"]]["SyncToken"] == "1"
        assert (
            changed[gone["Id"]]["status"] == "Deleted" and "DisplayName" not in changed[gone["Id"]]
        )
        assert changed[merged["Id"]]["status"] == "Deleted"
        assert "status" not in changed[kept["Id"]]
        assert ids(world.qb.customers_by_ids(ids=[gone["Id"], merged["Id"]]).customers) == []
        later = datetime.now(UTC) + timedelta(minutes=1)
        assert world.qb.changed_customers(since=later) == []
        with pytest.raises(qb_errors.QuickBooksFault):
            world.qb.changed_customers(since=datetime.now(UTC) - timedelta(days=31))

    def test_a_change_data_capture_answer_holds_1000_objects_at_most_oldest_first(self, world):
        """ "Server responses can handle a maximum of 1,000 objects": the catch-up's tests
        (tests/sync/test_catch_up.py) rely on the cap.
        https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/change-data-capture"""
        since = datetime.now(UTC) - timedelta(seconds=1)
        added = world.company.add(
            *(person(f"Cap {n}", f"cap{n}@example.com") for n in range(CDC_MAX_OBJECTS + 1))
        )
        changed = world.qb.changed_customers(since=since)
        assert ids(changed) == ids(added[:CDC_MAX_OBJECTS])
        assert world.calls == ["cdc"]

    def test_company_info_names_the_company(self, world):
        assert world.qb.company_info()["CompanyName"] == world.company.tenant.company_name

    @pytest.mark.parametrize(
        ("faults", "error"),
        [
            ({"quickbooks_error_rate": 1.0}, qb_errors.TransientError),
            ({"quickbooks_throttle_rate": 1.0}, qb_errors.Throttled),
        ],
    )
    def test_quickbooks_failures(self, world, faults, error):
        world.set_knobs(**faults)
        with pytest.raises(error):
            world.qb.count_customers()

    def test_a_company_that_no_longer_lets_the_app_in(self, world):
        world.set_knobs(quickbooks_forbidden_realms=[world.company.realm_id])
        with pytest.raises(qb_errors.Forbidden):
            world.qb.company_info()

    # --- QuickBooks: sales ------------------------------------------------------------------

    def test_sales_figures_transactions_and_their_changes(self, world):
        buyer, other = world.company.add(
            person("Sale Buyer", "buyer@example.com"), person("Sale Other", "other@example.com")
        )
        since = datetime.now(UTC) - timedelta(seconds=1)
        today = timezone.localdate()
        long_ago = (today - timedelta(days=500)).isoformat()
        invoice = world.company.sell(buyer["Id"], "100.00")
        receipt = world.company.sell(buyer["Id"], "50.00", entity="SalesReceipt", day=long_ago)
        world.company.sell(buyer["Id"], "20.00", entity="CreditMemo")
        voided = world.company.sell(other["Id"], "70.00")
        world.company.transaction(invoice["Id"], "pay", amount="30.00")
        world.company.transaction(voided["Id"], "void")

        figures = world.qb.sales_figures(today=today, customer_ids=[buyer["Id"], other["Id"]])
        assert set(figures) == {buyer["Id"]}  # a voided sale counts nothing
        bought = figures[buyer["Id"]]
        assert (bought.total_sales, bought.sales_last_12_months) == (Decimal(130), Decimal(80))
        assert bought.open_balance == Decimal(50)  # 100 - 30 paid - 20 credit
        assert (bought.first_purchase, bought.last_purchase) == (
            today - timedelta(days=500),
            today,
        )
        assert (bought.invoices, bought.sales_receipts) == (1, 1)
        assert set(world.qb.sales_figures(today=today)) == {buyer["Id"]}

        assert world.qb.transaction_customers(
            entity="Invoice", ids=[invoice["Id"], voided["Id"], "999999", "x"]
        ) == {invoice["Id"]: buyer["Id"], voided["Id"]: other["Id"]}
        assert world.qb.transaction_customers(entity="SalesReceipt", ids=[receipt["Id"]]) == {
            receipt["Id"]: buyer["Id"]
        }
        changed = {
            (entity, item["Id"]) for entity, item in world.qb.changed_transactions(since=since)
        }
        assert {("Invoice", invoice["Id"]), ("SalesReceipt", receipt["Id"])} <= changed
        assert any(entity == "Payment" for entity, _ in changed)
        assert any(entity == "CreditMemo" for entity, _ in changed)

    # --- Constant Contact: lists ------------------------------------------------------------

    def test_lists_and_a_new_one(self, world):
        names = {item["name"]: item["list_id"] for item in world.cc.all_lists()}
        assert names == world.lists
        created = world.cc.create_list(name="Newsletter")
        assert created["name"] == "Newsletter" and created["list_id"]
        assert "Newsletter" in {item["name"] for item in world.cc.all_lists()}
        with pytest.raises(cc_errors.Conflict):
            world.cc.create_list(name="newsletter")

    # --- Constant Contact: imports and their activities -------------------------------------

    def test_an_import_is_an_activity_that_completes_and_never_lists_the_unsubscribed(self, world):
        world.company.unsubscribe("left@example.com")
        customers = world.lists["Customers"]
        started = world.cc.import_contacts(
            rows=[
                {"email": "ann@example.com", "first_name": "Ann", "work_phone": "555-0100"},
                {"email": "left@example.com", "first_name": "Left"},
                {"email": "not-an-address"},
            ],
            list_ids=[customers],
        )
        assert started["state"] == "initialized"
        assert started["status"]["items_total_count"] == 3
        done = world.done(started)
        assert done["state"] == "completed"
        status = done["status"]
        assert (status["person_count"], status["error_count"]) == (2, 1)
        assert status["cannot_add_to_list_count"] == 1
        assert len(done["activity_errors"]) == 1 and isinstance(done["activity_errors"][0], str)
        assert moment(done["completed_at"]) >= moment(done["created_at"])
        newest = next(world.cc.iter_activities(limit=5))
        assert newest["activity_id"] == started["activity_id"] and newest["state"] == "completed"

        ann = world.contact("ann@example.com", include=["list_memberships", "phone_numbers"])
        assert ann["first_name"] == "Ann" and ann["list_memberships"] == [customers]
        assert ann["email_address"]["permission_to_send"] == "implicit"
        assert [(p["kind"], p["phone_number"]) for p in ann["phone_numbers"]] == [
            ("work", "555-0100")
        ]
        left = world.contact("left@example.com", include=["list_memberships"])
        assert left["email_address"]["permission_to_send"] == "unsubscribed"
        assert left["first_name"] == "Left" and left["list_memberships"] == []
        assert world.cc.find_contact(email="not-an-address") is None
        counts = {
            i["name"]: i["membership_count"]
            for i in world.cc.all_lists(include_membership_count=True)
        }
        assert counts["Customers"] == 1

    def test_an_import_leaves_alone_what_it_sends_no_value_for(self, world):
        customers = world.lists["Customers"]
        world.done(
            world.cc.import_contacts(
                rows=[{"email": "Kim@Example.com", "first_name": "Kim", "last_name": "Ode"}],
                list_ids=[customers],
            )
        )
        world.done(
            world.cc.import_contacts(
                rows=[{"email": "kim@example.com", "first_name": "Kimberly", "last_name": ""}],
                list_ids=[world.lists["Donors"]],
            )
        )
        kim = world.contact("KIM@example.com", include=["list_memberships"])
        assert (kim["first_name"], kim["last_name"]) == ("Kimberly", "Ode")
        assert kim["email_address"]["address"] == "Kim@Example.com"
        assert sorted(kim["list_memberships"]) == sorted([customers, world.lists["Donors"]])

    # --- Constant Contact: reading contacts -------------------------------------------------

    def test_contacts_filtered_paged_and_read_with_their_subresources(self, world):
        customers = world.lists["Customers"]
        rows = [{"email": f"p{n}@example.com", "first_name": f"P{n}"} for n in range(5)]
        world.done(world.cc.import_contacts(rows=rows, list_ids=[customers]))
        world.company.unsubscribe("p4@example.com")
        world.calls.clear()
        listed = list(
            world.cc.iter_contacts(lists=[customers], include=["list_memberships"], limit=2)
        )
        assert world.calls == ["contacts"] * 3  # a call a page
        assert sorted(c["email_address"]["address"] for c in listed) == [r["email"] for r in rows]
        assert all(c["list_memberships"] == [customers] for c in listed)
        unsubscribed = list(world.cc.iter_contacts(status="unsubscribed"))
        assert [c["email_address"]["address"] for c in unsubscribed] == ["p4@example.com"]
        assert (
            list(
                world.cc.iter_contacts(
                    status="unsubscribed", optout_after=datetime.now(UTC) + timedelta(minutes=1)
                )
            )
            == []
        )
        active = {c["email_address"]["address"] for c in world.cc.iter_contacts(status="active")}
        assert "p4@example.com" not in active and "p0@example.com" in active
        recent = list(
            world.cc.iter_contacts(updated_after=datetime.now(UTC) + timedelta(minutes=1))
        )
        assert recent == []

        p0 = world.contact("P0@EXAMPLE.COM")
        read = world.cc.get_contact(
            contact_id=p0["contact_id"], include=["list_memberships", "custom_fields", "taggings"]
        )
        assert read["email_address"]["address"] == "p0@example.com"
        assert read["list_memberships"] == [customers]
        assert read["custom_fields"] == [] and read["taggings"] == []
        with pytest.raises(cc_errors.NotFound):
            world.cc.get_contact(contact_id=str(uuid.uuid4()))

    def test_an_address_too_long_for_an_import_is_made_by_post(self, world):
        customers = world.lists["Customers"]
        long = "a" * 45 + "@example.com"  # 57 characters: an import takes 50, a contact 80
        done = world.done(world.cc.import_contacts(rows=[{"email": long}], list_ids=[customers]))
        assert done["status"]["error_count"] == 1
        assert world.cc.find_contact(email=long) is None
        made = world.cc.create_contact(
            contact={
                "email_address": {"address": long},
                "first_name": "Long",
                "list_memberships": [customers],
            }
        )
        assert made["email_address"]["permission_to_send"] == "implicit"
        assert made["first_name"] == "Long" and made["list_memberships"] == [customers]
        assert world.contact(long)["contact_id"] == made["contact_id"]
        with pytest.raises(cc_errors.Conflict):
            world.cc.create_contact(contact={"email_address": {"address": long}})

    # --- Constant Contact: replacing a contact ----------------------------------------------

    def test_put_replaces_top_level_fields_keeps_lists_and_changes_the_email(self, world):
        customers = world.lists["Customers"]
        world.done(
            world.cc.import_contacts(
                rows=[
                    {"email": "old@example.com", "first_name": "Old", "job_title": "Boss"},
                    {"email": "taken@example.com"},
                ],
                list_ids=[customers],
            )
        )
        old = world.contact("old@example.com", include=["list_memberships"])
        body = {"email_address": {"address": "new@example.com"}, "first_name": "New"}
        replaced = world.cc.put_contact(contact_id=old["contact_id"], contact=body)
        assert replaced["contact_id"] == old["contact_id"]
        assert replaced["email_address"]["address"] == "new@example.com"
        assert replaced["first_name"] == "New" and "job_title" not in replaced
        assert replaced["list_memberships"] == [customers]
        assert replaced["email_address"]["permission_to_send"] == "implicit"
        assert world.cc.find_contact(email="old@example.com") is None
        with pytest.raises(cc_errors.Conflict):
            world.cc.put_contact(
                contact_id=old["contact_id"],
                contact={"email_address": {"address": "taken@example.com"}},
            )
        with pytest.raises(cc_errors.BadRequest):
            world.cc.put_contact(
                contact_id=old["contact_id"],
                contact={
                    "email_address": {"address": "new@example.com"},
                    "phone_numbers": [{"phone_number": "1", "kind": "fax"}],
                },
            )

    # --- Constant Contact: custom fields and tags -------------------------------------------

    def test_custom_fields_made_once_and_set_by_an_import(self, world):
        field = world.cc.create_custom_field(
            label="QuickBooks total sales",
            type="number",
            metadata={"decimal_places": 2, "allow_negative": True},
        )
        assert field["name"] == "QuickBooks_total_sales" and field["type"] == "number"
        date_field = world.cc.create_custom_field(
            label="QuickBooks first purchase", type="date", version=2
        )
        assert date_field["version"] == 2
        assert {f["custom_field_id"] for f in world.cc.custom_fields()} == {
            field["custom_field_id"],
            date_field["custom_field_id"],
        }
        with pytest.raises(cc_errors.Conflict):
            world.cc.create_custom_field(label="quickbooks total sales", type="number")
        done = world.done(
            world.cc.import_contacts(
                rows=[
                    {
                        "email": "fig@example.com",
                        "cf:QuickBooks_total_sales": "-12.50",
                        "cf:QuickBooks_first_purchase": "2024-02-29",
                    },
                    {"email": "bad@example.com", "cf:QuickBooks_total_sales": "12.505"},
                ],
                list_ids=[world.lists["Customers"]],
            )
        )
        assert done["status"]["error_count"] == 1 and len(done["activity_errors"]) == 1
        held = {
            f["custom_field_id"]: f["value"]
            for f in world.contact("fig@example.com", include=["custom_fields"])["custom_fields"]
        }
        assert held[field["custom_field_id"]] == "-12.50"
        assert held[date_field["custom_field_id"]].startswith("2024-02-29")
        assert world.contact("bad@example.com", include=["custom_fields"])["custom_fields"] == []

    def test_tags_and_taggings_by_contact_and_by_list(self, world):
        tag = world.cc.create_tag(name="QuickBooks Online")
        assert [t["name"] for t in world.cc.tags()] == ["QuickBooks Online"]
        with pytest.raises(cc_errors.Conflict):
            world.cc.create_tag(name="quickbooks online")
        customers = world.lists["Customers"]
        rows = [{"email": f"t{n}@example.com"} for n in range(3)]
        world.done(world.cc.import_contacts(rows=rows, list_ids=[customers]))
        t0, t1, t2 = (world.contact(f"t{n}@example.com") for n in range(3))
        done = world.done(
            world.cc.add_taggings(tag_ids=[tag["tag_id"]], contact_ids=[t0["contact_id"]])
        )
        assert done["state"] == "completed" and "list_count" not in done["status"]
        tagged = {
            c["email_address"]["address"]
            for c in world.cc.iter_contacts(lists=[customers], include=["taggings"])
            if tag["tag_id"] in c["taggings"]
        }
        assert tagged == {"t0@example.com"}
        world.done(
            world.cc.add_taggings(
                tag_ids=[tag["tag_id"]],
                list_ids=[customers],
                exclude_contact_ids=[t2["contact_id"]],
            )
        )
        assert world.contact("t1@example.com", include=["taggings"])["taggings"] == [tag["tag_id"]]
        assert world.contact("t2@example.com", include=["taggings"])["taggings"] == []

    # --- Constant Contact: failures ---------------------------------------------------------

    @pytest.mark.parametrize(
        ("faults", "error"),
        [
            ({"constantcontact_error_rate": 1.0}, cc_errors.TransientError),
            ({"constantcontact_throttle_rate": 1.0}, cc_errors.Throttled),
            ({"enforce_rate_limits": True, "constantcontact_per_day": 0}, cc_errors.QuotaExceeded),
        ],
    )
    def test_constant_contact_failures(self, world, faults, error):
        world.set_knobs(**faults)
        with pytest.raises(error):
            world.cc.all_lists()

    def test_too_many_queued_activities(self, world):
        world.set_knobs(cc_max_queued_activities=0)
        with pytest.raises(cc_errors.ActivityQueueFull) as refused:
            world.cc.import_contacts(
                rows=[{"email": "q@example.com"}], list_ids=[world.lists["Customers"]]
            )
        assert refused.value.error_key == "too_many_requests"
