"""optional.attempt, in process: what an optional step hands on to the run, what it tries
again, and what becomes a sales-data problem (told until the step goes through again).
Against the sandbox, each failure with the contacts synced: test_sales_problems.py."""

from datetime import UTC, datetime

import pytest

from ccsync.sync import optional, runs
from ccsync.sync.models import SalesDataState
from ccsync.sync.sales_state import Source
from integrations.constantcontact import errors as cc_errors
from integrations.limiter import QuotaPaused
from integrations.quickbooks import errors as qb_errors
from integrations.quickbooks.reports import ReportUnreadable
from tenants.models import Tenant


@pytest.fixture
def tenant(db):
    return Tenant.objects.create(realm_id="9130350020", company_name="Optional Co")


def failing(*errors: Exception):
    """A step that raises each error in turn, then answers "done"; its tries counted."""
    tries = []

    def step() -> str:
        tries.append(1)
        if len(tries) <= len(errors):
            raise errors[len(tries) - 1]
        return "done"

    return step, tries


def problems(tenant) -> dict:
    state = SalesDataState.objects.filter(tenant=tenant).first()
    return state.problems if state is not None else {}


@pytest.mark.parametrize(
    "error",
    [
        cc_errors.Unauthorized("401", status=401),
        cc_errors.InvalidGrant("invalid_grant", status=400),
        qb_errors.Unauthorized("401", status=401),
        cc_errors.QuotaExceeded("429 quota_exceeded", status=429),
        QuotaPaused(datetime(2026, 12, 8, tzinfo=UTC)),
        runs.Stop(paused=True),
    ],
)
def test_a_refused_token_the_quota_and_a_stop_go_on_to_the_run(tenant, error):
    step, tries = failing(error)
    with pytest.raises(type(error)):
        optional.attempt(step, tenant_id=tenant.pk, source=Source.TAG)
    assert len(tries) == 1 and problems(tenant) == {}


def test_a_passing_error_is_tried_again_at_once(tenant):
    step, tries = failing(qb_errors.TransientError("500", status=500))
    assert optional.attempt(step, tenant_id=tenant.pk, source=Source.REPORTS) == "done"
    assert len(tries) == 2 and problems(tenant) == {}


def test_a_passing_error_that_lasts_is_a_problem_after_three_tries(tenant):
    step, tries = failing(*[cc_errors.TransientError("503", status=503)] * 3)
    assert optional.attempt(step, tenant_id=tenant.pk, source=Source.TAGGING) is None
    assert len(tries) == 3
    assert problems(tenant) == {
        "tagging": "Constant Contact did not let the app tag contacts (it answered 503): the "
        "next full check tries again (Sync now on the status page), or turn the tag off in "
        "Settings."
    }


def test_a_timeout_is_not_waited_out_again(tenant):
    timeout = qb_errors.TransientError("read timed out")
    timeout.timed_out = True
    step, tries = failing(timeout)
    assert optional.attempt(step, tenant_id=tenant.pk, source=Source.REPORTS) is None
    assert len(tries) == 1 and "read again later" in problems(tenant)["reports"]


def test_a_403_from_quickbooks_to_an_optional_step_is_its_problem_not_a_broken_connection(
    tenant,
):
    """A report refused with 403 (a plan or a role): told; where the whole company is
    refused, the contacts' own next call is too, and that breaks the connection."""
    step, tries = failing(qb_errors.Forbidden("403", status=403))
    assert optional.attempt(step, tenant_id=tenant.pk, source=Source.REPORTS) is None
    assert len(tries) == 1 and "read again later" in problems(tenant)["reports"]


def test_a_full_queue_of_activities_is_neither_a_problem_nor_a_success(tenant):
    """The account's 1,000 queued activities: the step goes at a later pass; a problem told
    before stays until a step really goes through."""
    optional.attempt(
        failing(cc_errors.Forbidden("403", status=403))[0],
        tenant_id=tenant.pk,
        source=Source.TAGGING,
    )
    told = problems(tenant)
    step, tries = failing(cc_errors.ActivityQueueFull("429 queued", status=429))
    assert optional.attempt(step, tenant_id=tenant.pk, source=Source.TAGGING) is None
    assert len(tries) == 1 and problems(tenant) == told != {}


def test_a_throttle_is_not_waited_for(tenant):
    step, tries = failing(qb_errors.Throttled("429", status=429))
    assert optional.attempt(step, tenant_id=tenant.pk, source=Source.REPORTS) is None
    assert len(tries) == 1 and "read again later" in problems(tenant)["reports"]


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (cc_errors.Forbidden("403", status=403), "Account Owner or Account Manager role"),
        (cc_errors.NotPermitted("403", status=403), "Account Owner or Account Manager role"),
        (cc_errors.BadRequest("400", status=400), "(it answered 400)"),
        (cc_errors.Conflict("409", status=409), "(it answered 409)"),
        (KeyError("Rows"), "the next full check tries again"),
    ],
)
def test_anything_else_is_a_problem_of_its_source_with_what_to_do(tenant, error, said):
    step, tries = failing(error)
    assert optional.attempt(step, tenant_id=tenant.pk, source=Source.CUSTOM_FIELDS) is None
    assert len(tries) == 1
    assert said in problems(tenant)["custom_fields"]


def test_the_problem_is_gone_once_its_step_goes_through_and_others_stay(tenant):
    for error, source in ((ReportUnreadable("shape"), Source.REPORTS), (KeyError("x"), Source.TAG)):
        optional.attempt(failing(error)[0], tenant_id=tenant.pk, source=source)
    assert set(problems(tenant)) == {"reports", "tag"}
    assert optional.attempt(lambda: 1, tenant_id=tenant.pk, source=Source.REPORTS) == 1
    assert set(problems(tenant)) == {"tag"}
