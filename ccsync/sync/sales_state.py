"""What the engine knows of a tenant's sales data: the one module that writes
`SalesDataState` (tests/test_state_writers.py holds every other module to it). The
person's choice (on or off, the facts, the tag and its name) is the tenant's own,
tenants.SalesData; this is what the sync made of it in the Constant Contact account and
when it read the figures.

Invariants:
- The fields and the tag's id are those of the account `account_id`: met in another
  account (Constant Contact connected to another one), they are set up anew there.
- A field Constant Contact refused values for leaves `fields` until it is set up again.
  `problem` says, for the person, what of the choice the set-up could not make or
  Constant Contact refused the values of; `problems`, by source (`Source`), what an
  optional step met (optional.py): each is gone once its step goes through again, or
  once the person's choice no longer runs the step (sales data or its tag off).
- Figures are owed exactly when `reports_retry_at` is set: the reports failed
  `reports_failures` times in a row, and are not asked again before that time.
- A tag of another name is set up anew: its id, and any tagging under way, forgotten.
- A tagging of the whole list is under way exactly when `tagging_activity_id` is set, and
  `tagging_upto` says which synced contacts it covers.
- `everyone_read_at`: when a read of every customer's figures began; a choice changed
  since (tenants.SalesData.changed_at) is owed to everyone: a full check.
"""

from datetime import datetime, timedelta
from enum import StrEnum

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ccsync.sync.mapping import SALES_PREFIX
from ccsync.sync.models import SalesDataState
from tenants.models import Tenant

# Reports that failed are asked again after 15 minutes, doubling to 12 hours: a broken
# report never costs QuickBooks calls at every run.
REPORTS_RETRY_FIRST = timedelta(minutes=15)
REPORTS_RETRY_MOST = timedelta(hours=12)


class Source(StrEnum):
    """Where an optional step's problem comes from (one problem each)."""

    REPORTS = "reports"  # QuickBooks' reports
    TRANSACTIONS = "transactions"  # the queries of whose sales transactions changed
    CUSTOM_FIELDS = "custom_fields"  # the fields listed or made in Constant Contact
    TAG = "tag"  # the tag found or made there
    TAGGING = "tagging"  # the contacts given the tag
    VALUES = "values"  # the figures' values: an import refused for them, or their check


def state_of(*, tenant_id: int) -> SalesDataState:
    """The tenant's state, made empty the first time it is needed."""
    state, _ = SalesDataState.objects.get_or_create(tenant_id=tenant_id)
    return state


def set_up(
    *, state: SalesDataState, account_id: str, fields: dict, tag_id: str, problem: str
) -> None:
    """The fields and tag as found or made in the account `account_id`, and what could not
    be set up."""
    state.account_id, state.fields, state.tag_id = account_id, fields, tag_id
    state.problem = problem[:500]
    state.save(update_fields=["account_id", "fields", "tag_id", "problem"])


def fields_refused(*, state: SalesDataState, kept: dict, problem: str) -> None:
    """Constant Contact refused the values of the fields not `kept`."""
    state.fields, state.problem = kept, problem[:500]
    state.save(update_fields=["fields", "problem"])


def columns_checked(*, tenant_id: int, columns: set[str]) -> None:
    """Constant Contact was seen holding these cf: columns' values: not sampled again for a
    while (confirming.py)."""
    with transaction.atomic():
        state = SalesDataState.objects.select_for_update().filter(tenant_id=tenant_id).first()
        if state is None:
            return
        now = timezone.now().isoformat()
        for spec in state.fields.values():
            if f"{SALES_PREFIX}{spec['name']}" in columns:
                spec["checked_at"] = now
        state.save(update_fields=["fields"])


def figures_read(*, tenant: Tenant, at: datetime, everyone_since: datetime | None) -> None:
    """Figures read from QuickBooks `at`; every customer's, in a read begun
    `everyone_since`. None are owed any more."""
    state_of(tenant_id=tenant.pk)
    SalesDataState.objects.filter(tenant=tenant).update(
        figures_read_at=at,
        everyone_read_at=everyone_since or F("everyone_read_at"),
        reports_failures=0,
        reports_retry_at=None,
    )


def figures_owed(*, tenant: Tenant, everyone_since: datetime | None) -> None:
    """The figures could not be read: they stay as they were and are owed, asked again
    after a wait that doubles with each failure in a row. A read of everyone's that could
    not be done counts as done (`everyone_since`): no full check follows only to fail."""
    state_of(tenant_id=tenant.pk)
    with transaction.atomic():
        state = SalesDataState.objects.select_for_update().get(tenant=tenant)
        state.reports_failures += 1
        wait = REPORTS_RETRY_FIRST * 2 ** min(state.reports_failures - 1, 10)
        state.reports_retry_at = timezone.now() + min(wait, REPORTS_RETRY_MOST)
        state.everyone_read_at = everyone_since or state.everyone_read_at
        state.save(update_fields=["reports_failures", "reports_retry_at", "everyone_read_at"])


def problem_met(*, tenant_id: int, source: Source, told: str) -> None:
    """An optional step from `source` failed: `told` is what the person reads."""
    state_of(tenant_id=tenant_id)
    with transaction.atomic():
        state = SalesDataState.objects.select_for_update().get(tenant_id=tenant_id)
        if state.problems.get(source) != told[:500]:
            state.problems = {**state.problems, source: told[:500]}
            state.save(update_fields=["problems"])


def problem_gone(*, tenant_id: int, source: Source) -> None:
    """The step from `source` went through: its problem, if any, is over."""
    if not SalesDataState.objects.filter(tenant_id=tenant_id, problems__has_key=source).exists():
        return
    with transaction.atomic():
        state = SalesDataState.objects.select_for_update().get(tenant_id=tenant_id)
        state.problems = {key: text for key, text in state.problems.items() if key != source}
        state.save(update_fields=["problems"])


def choice_saved(*, tenant: Tenant, enabled: bool, tag_enabled: bool) -> None:
    """The person's choice is saved: the problems of steps that no longer run are gone, for
    none of them would go through again to clear them (sales data off: every one, the
    set-up's too; the tag off: the tag's and the tagging's)."""
    if not enabled:
        SalesDataState.objects.filter(tenant=tenant).exclude(problem="", problems={}).update(
            problem="", problems={}
        )
    elif not tag_enabled:
        for source in (Source.TAG, Source.TAGGING):
            problem_gone(tenant_id=tenant.pk, source=source)


def tagging_started(*, state: SalesDataState, activity_id: str, upto: datetime) -> None:
    """The whole list is being tagged: the contacts synced up to `upto`."""
    SalesDataState.objects.filter(pk=state.pk).update(
        tagging_activity_id=activity_id, tagging_upto=upto
    )


def tagging_ended(*, state: SalesDataState) -> None:
    SalesDataState.objects.filter(pk=state.pk).update(tagging_activity_id="", tagging_upto=None)


def tag_renamed(*, tenant: Tenant) -> None:
    """The person named another tag: it is set up anew, no tagging of the old one waited for."""
    SalesDataState.objects.filter(tenant=tenant).update(
        tag_id="", tagging_activity_id="", tagging_upto=None
    )
