"""Sales data's figures as sent: formats, jobs rolled up, what cannot be sent, and the PUT."""

import re
from datetime import date
from decimal import Decimal

import pytest

from ccsync.sync.confirming import same_value
from ccsync.sync.mapping import contact_update, emptied
from ccsync.sync.sales import Column, Columns, combined, figures, sales_row
from integrations.quickbooks.reports import CustomerSales
from tenants.sales_facts import FACTS


def sale(total: str, *, first: date | None, last: date | None, **more) -> CustomerSales:
    values = {
        "total_sales": Decimal(total),
        "sales_last_12_months": Decimal(total),
        "open_balance": Decimal("0"),
        "first_purchase": first,
        "last_purchase": last,
        "invoices": 1,
        "sales_receipts": 0,
    }
    return CustomerSales(**(values | more))


COLUMNS = Columns(
    (
        Column("total_sales", "QuickBooks_total_sales", "f1", negative=True),
        Column("open_balance", "QuickBooks_open_balance", "f2", negative=False),
        Column("last_purchase", "QuickBooks_last_purchase", "f3", negative=False),
        Column("customer_id", "QuickBooks_customer_id", "f4", negative=False),
    )
)


def test_a_customer_with_jobs_adds_them_up_and_keeps_the_outer_dates():
    own = sale("100.5", first=date(2024, 3, 1), last=date(2024, 3, 1))
    job = sale("-20", first=date(2023, 1, 9), last=date(2025, 6, 30), invoices=2, sales_receipts=3)
    total = combined([own, job])
    assert total is not None
    assert (total.total_sales, total.invoices, total.sales_receipts) == (Decimal("80.5"), 3, 3)
    assert (total.first_purchase, total.last_purchase) == (date(2023, 1, 9), date(2025, 6, 30))
    assert combined([]) is None


def test_figures_are_text_with_two_decimals_and_iso_dates():
    values = figures(
        sale("1234.5", first=date(2022, 2, 3), last=None, open_balance=Decimal("-7")),
        customer_id="58",
        customer_type="Wholesale",
    )
    assert values == {
        "total_sales": "1234.50",
        "sales_12_months": "1234.50",
        "open_balance": "-7.00",
        "first_purchase": "2022-02-03",
        "invoices": "1",
        "sales_receipts": "0",
        "customer_type": "Wholesale",
        "customer_id": "58",
    }  # no last purchase: left out, never sent empty


def test_a_customer_without_sales_gets_zeros_and_no_dates():
    values = figures(None, customer_id="9", customer_type="")
    assert values["total_sales"] == "0.00" and values["invoices"] == "0"
    assert "first_purchase" not in values and "customer_type" not in values


def test_a_negative_figure_a_field_cannot_hold_is_noted_not_sent():
    row, note = sales_row(
        {"total_sales": "-5.00", "open_balance": "-12.00", "customer_id": "9"}, COLUMNS
    )
    assert row == {"cf:QuickBooks_total_sales": "-5.00", "cf:QuickBooks_customer_id": "9"}
    assert "Open balance -12.00 (it takes no negative numbers)" in note


def test_a_field_for_whole_numbers_gets_whole_numbers_or_nothing():
    whole = Columns((Column("total_sales", "T", "f1", negative=True, decimals=0),))
    assert sales_row({"total_sales": "150.00"}, whole) == ({"cf:T": "150"}, "")
    row, note = sales_row({"total_sales": "150.50"}, whole)
    assert row == {} and "150.50 (it takes whole numbers only)" in note
    one = Columns((Column("total_sales", "T", "f1", negative=True, decimals=1),))
    assert sales_row({"total_sales": "150.50"}, one) == ({"cf:T": "150.5"}, "")


def test_only_the_chosen_columns_are_sent():
    row, note = sales_row({"invoices": "4", "customer_id": "9"}, COLUMNS)
    assert row == {"cf:QuickBooks_customer_id": "9"} and note == ""
    assert sales_row({"customer_id": "9"}, Columns()) == ({}, "")


def test_a_figure_left_out_is_never_emptied_by_a_put():
    sent = {"email": "a@example.com", "first_name": "A", "cf:QuickBooks_total_sales": "5.00"}
    assert emptied({"email": "a@example.com"}, sent=sent) == ["first_name"]


def test_a_put_sets_our_custom_fields_by_id_and_carries_back_the_others():
    existing = {
        "contact_id": "c1",
        "email_address": {"address": "a@example.com", "permission_to_send": "implicit"},
        "custom_fields": [
            {"custom_field_id": "theirs", "value": "gold"},
            {"custom_field_id": "f1", "value": "1.00"},
        ],
    }
    row = {"email": "a@example.com", "first_name": "A", "cf:QuickBooks_total_sales": "9.00"}
    body = contact_update(
        row, existing=existing, list_ids=["L"], custom_field_ids=COLUMNS.field_ids
    )
    assert body["custom_fields"] == [
        {"custom_field_id": "theirs", "value": "gold"},
        {"custom_field_id": "f1", "value": "9.00"},
    ]
    assert not any(key.startswith("cf:") for key in body)
    plain = contact_update(row, existing=existing, list_ids=["L"])
    assert plain["custom_fields"] == existing["custom_fields"]  # option off: carried back


def test_the_labels_hold_no_punctuation_and_fit():
    """The create-custom-fields guide: labels of at most 50 characters; the field's `name`
    is made from the label and what punctuation does there is undocumented: none is used."""
    for fact in FACTS:
        assert re.fullmatch(r"[A-Za-z0-9 ]{1,50}", fact.label), fact.label
        assert fact.type in ("string", "text_area", "number", "currency", "date"), fact.type


@pytest.mark.parametrize(
    ("sent", "held", "same"),
    [
        ("150.50", "150.5", True),
        ("2025-03-07", "03/07/2025", True),
        ("2025-03-07", "3/7/2025", True),
        ("2025-03-07", "2025/3/7", True),
        ("2025-03-07", "2025-03-07T00:00:00Z", True),
        ("2025-03-07", "03/08/2025", False),
        ("2025-03-07", "", False),
        ("12", "12.00", True),
        ("Retail", "retail", False),
    ],
)
def test_a_figure_is_compared_with_what_constant_contact_gives_back(sent, held, same):
    """A date field (version 2) may read back in its display format (MM/DD/YYYY) or any the
    spec lists for dates; a number however written."""
    assert same_value(sent, held) is same
