"""The sales facts a tenant may send for segmenting, each one a Constant Contact custom field.

Labels fit Constant Contact's 50 characters (createCustomFields_request.label) and hold no
punctuation: the field's `name` (the import's `cf:` key) is made from the label, blanks
becoming underscores, and what punctuation does there is undocumented. Money is a
number with two decimals in the company's home currency (QuickBooks' reports give home
currency amounts); counts are whole numbers; dates are version 2 date fields (stored as
dates, so segments can compare them). The customer type and id are text.
"""

from dataclasses import dataclass, field
from typing import Any

DEFAULT_TAG = "QuickBooks Online"


@dataclass(frozen=True)
class Fact:
    key: str
    label: str  # the custom field's label in Constant Contact
    choice: str  # what the Settings page calls it
    type: str  # Constant Contact's custom field type
    negative: bool = False  # the value can be below zero
    metadata: dict[str, Any] = field(default_factory=dict)


_MONEY = {"decimal_places": 2, "integer": False}
_COUNT = {"integer": True}

FACTS: tuple[Fact, ...] = (
    Fact("total_sales", "QuickBooks total sales", "Total sales, all time", "number",
         negative=True, metadata=_MONEY),
    Fact("sales_12_months", "QuickBooks sales last 12 months", "Total sales, last 12 months",
         "number", negative=True, metadata=_MONEY),
    Fact("open_balance", "QuickBooks open balance", "Open balance", "number", negative=True,
         metadata=_MONEY),
    Fact("first_purchase", "QuickBooks first purchase", "First purchase date", "date"),
    Fact("last_purchase", "QuickBooks last purchase", "Last purchase date", "date"),
    Fact("invoices", "QuickBooks invoices", "Number of invoices", "number", metadata=_COUNT),
    Fact("sales_receipts", "QuickBooks sales receipts", "Number of sales receipts", "number",
         metadata=_COUNT),
    Fact("customer_type", "QuickBooks customer type", "Customer type", "string"),
    Fact("customer_id", "QuickBooks customer id", "QuickBooks customer id", "string"),
)  # fmt: skip
BY_KEY = {fact.key: fact for fact in FACTS}
