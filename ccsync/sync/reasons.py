"""What the pages say about each reason a customer is not in the list, and about customers in
it with a note: its words, what the person can do about it, and where Help says more.

One source for the status page, the customers pages, their CSV and the Help page, so the
advice a person reads next to a customer is the advice Help gives. The labels are the
rules' own (rules.SKIP_LABELS); the order puts first what the person can fix themselves.
"""

from dataclasses import dataclass

from ccsync.sync.rules import SKIP_LABELS, SkipReason

REFUSED = "refused"  # Constant Contact refused the contact (CustomerRecord.Outcome.FAILED)
SEVERAL = "several"  # in the list by the first valid of several addresses
UPDATE_REFUSED = "update_refused"  # in the list; Constant Contact refused its last update


@dataclass(frozen=True)
class Guidance:
    key: str  # a SkipReason's value, or one of the keys above
    label: str
    what_to_do: str
    anchor: str  # the Help page's section
    fixable: bool  # the person can fix it in QuickBooks Online
    more: str = ""  # what the Help page adds


NOT_IN_LIST: tuple[Guidance, ...] = (
    Guidance(
        SkipReason.NO_EMAIL.value,
        SKIP_LABELS[SkipReason.NO_EMAIL],
        "Add an email address to the customer in QuickBooks Online: it is synced within seconds.",
        "no-email",
        fixable=True,
        more="Add it on the customer's page in QuickBooks Online, in the Email field.",
    ),
    Guidance(
        SkipReason.INVALID_EMAIL.value,
        SKIP_LABELS[SkipReason.INVALID_EMAIL],
        "Fix the email address in QuickBooks Online (like name@example.com, at most 50 "
        "characters): it is synced within seconds.",
        "invalid-email",
        fixable=True,
        more="QuickBooks Online's Email field may hold several addresses separated by commas, "
        "semicolons or spaces: the first valid one is used. When none is, the status page "
        "shows the field as QuickBooks holds it, so you can find the mistake (a missing “@”, "
        "a space, “at” written out, an address longer than 50 characters).",
    ),
    Guidance(
        SkipReason.INACTIVE.value,
        SKIP_LABELS[SkipReason.INACTIVE],
        "Make the customer active in QuickBooks Online if you want them in the list: they are "
        "synced within seconds.",
        "inactive",
        fixable=True,
        more="A customer made inactive before the app synced it is not brought to the list. "
        "Inactive customers are still read, so that they are listed with this reason.",
    ),
    Guidance(
        SkipReason.DUPLICATE_EMAIL.value,
        SKIP_LABELS[SkipReason.DUPLICATE_EMAIL],
        "One contact per email address: the other customer keeps it (a customer over a "
        "sub-customer, then the oldest). To sync this one too, give it its own email address "
        "in QuickBooks Online.",
        "same-email",
        fixable=True,
        more="Constant Contact keeps one contact per email address, so customers sharing one "
        "make one contact. The one that keeps it: a customer over its sub-customers (jobs "
        "often share their parent's address), then the oldest customer in QuickBooks Online. "
        "The status page says which customer keeps it.",
    ),
    Guidance(
        REFUSED,
        "Refused by Constant Contact",
        "Constant Contact did not accept this contact (the detail says why). Correct the "
        "customer in QuickBooks Online: it is sent again with its next change, or at the next "
        "full check (Sync now).",
        "refused",
        fixable=True,
    ),
    Guidance(
        SkipReason.UNSUBSCRIBED.value,
        SKIP_LABELS[SkipReason.UNSUBSCRIBED],
        "The contact unsubscribed from your emails: only they can opt back in (for example "
        "through one of your Constant Contact sign-up forms). The app never subscribes anyone "
        "again.",
        "unsubscribed",
        fixable=False,
        more="An unsubscribed address is never sent again, synced before or not: the app "
        "sends it no update and no list membership. Their contact stays in Constant Contact "
        "as they left it.",
    ),
    Guidance(
        SkipReason.OVER_CAP.value,
        SKIP_LABELS[SkipReason.OVER_CAP],
        "The app syncs up to 10,000 customers per company, the oldest first, and a customer "
        "keeps its place once synced. Nothing to change in QuickBooks Online: add this contact "
        "in Constant Contact yourself if you need them.",
        "over-cap",
        fixable=False,
        more="Places go to the oldest customers first (by the date they were created in "
        "QuickBooks Online); newer customers take the places left. Contacts are never removed, "
        "so a place never frees up.",
    ),
)

IN_LIST_NOTES: tuple[Guidance, ...] = (
    Guidance(
        SEVERAL,
        "In the list with the first valid of several addresses",
        "The customer's email field holds several addresses: the first valid one is the "
        "contact's, the others are not in the list. To sync another one, give it a customer "
        "of its own in QuickBooks Online.",
        "several-addresses",
        fixable=True,
    ),
    Guidance(
        UPDATE_REFUSED,
        "In the list; Constant Contact refused its last update",
        "The contact keeps what it held before. Correct the customer in QuickBooks Online: it "
        "is sent again with its next change, or at the next full check (Sync now).",
        "update-refused",
        fixable=True,
    ),
)

BY_KEY: dict[str, Guidance] = {g.key: g for g in (*NOT_IN_LIST, *IN_LIST_NOTES)}
# The order of the not-in-the-list listing: what the person can fix first.
ORDER: dict[str, int] = {g.key: place for place, g in enumerate(NOT_IN_LIST)}
