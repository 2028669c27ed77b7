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
    heading: str  # the sales page's column
    type: str  # Constant Contact's custom field type
    negative: bool = False  # the value can be below zero
    metadata: dict[str, Any] = field(default_factory=dict)
    meaning: str = ""  # what the figure counts, in the Help page's words


_MONEY = {"decimal_places": 2, "integer": False}
_COUNT = {"integer": True}

FACTS: tuple[Fact, ...] = (
    Fact("total_sales", "QuickBooks total sales", "Total sales, all time", "Total sales",
         "number", negative=True, metadata=_MONEY,
         meaning="Invoices and sales receipts before sales tax, less credit memos and "
         "refund receipts, as QuickBooks' Sales by Customer Summary counts them."),
    Fact("sales_12_months", "QuickBooks sales last 12 months", "Total sales, last 12 months",
         "Last 12 months", "number", negative=True, metadata=_MONEY,
         meaning="The same, for sales dated in the last 12 months up to today."),
    Fact("open_balance", "QuickBooks open balance", "Open balance", "Open balance", "number",
         negative=True, metadata=_MONEY,
         meaning="What the customer owes now: open invoices less unused credits and "
         "payments not yet applied, as QuickBooks' Customer Balance Summary shows it (tax "
         "included: it is what they owe); below zero when they hold a credit."),
    Fact("first_purchase", "QuickBooks first purchase", "First purchase date", "First purchase",
         "date", meaning="The date of the customer's first invoice or sales receipt."),
    Fact("last_purchase", "QuickBooks last purchase", "Last purchase date", "Last purchase",
         "date", meaning="The date of their latest invoice or sales receipt."),
    Fact("invoices", "QuickBooks invoices", "Number of invoices", "Invoices", "number",
         metadata=_COUNT, meaning="How many invoices the customer has (voided ones not counted)."),
    Fact("sales_receipts", "QuickBooks sales receipts", "Number of sales receipts", "Receipts",
         "number", metadata=_COUNT, meaning="How many sales receipts the customer has."),
    Fact("customer_type", "QuickBooks customer type", "Customer type", "Type", "string",
         meaning="The customer type chosen on the customer in QuickBooks Online."),
    Fact("customer_id", "QuickBooks customer id", "QuickBooks customer id", "Id", "string",
         meaning="The customer's id in QuickBooks Online, to find them there."),
)  # fmt: skip
BY_KEY = {fact.key: fact for fact in FACTS}
