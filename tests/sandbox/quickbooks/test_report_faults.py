"""The knob quickbooks_report_fault: every report refused with a ValidationFault (400),
failed with a SystemFault (500), or answered in a shape no report has, as Intuit's error
codes page lists its faults
(https://developer.intuit.com/app/developer/qbo/docs/develop/troubleshooting/error-codes);
and what the app's client makes of each."""

from datetime import date

import pytest

from integrations.quickbooks import errors as qb_errors
from integrations.quickbooks.reports import ReportUnreadable
from tests.sandbox.quickbooks.conftest import fault_of
from tests.sandbox.quickbooks.test_reports import client_for


@pytest.mark.parametrize(
    ("fault", "status", "kind"), [("400", 400, "ValidationFault"), ("500", 500, "SystemFault")]
)
def test_a_report_refused_or_failed_answers_intuits_fault(company, knobs, fault, status, kind):
    knobs(quickbooks_report_fault=fault)
    answer = company.get("reports/CustomerBalance")
    assert answer.status_code == status
    assert fault_of(answer)["type"] == kind


def test_a_report_in_an_unknown_shape_is_a_200(company, knobs):
    knobs(quickbooks_report_fault="shape")
    answer = company.get("reports/CustomerSales")
    assert answer.status_code == 200 and isinstance(answer.json(), list)


@pytest.mark.parametrize(
    ("fault", "error"),
    [("400", ReportUnreadable), ("500", qb_errors.TransientError), ("shape", Exception)],
)
def test_the_client_raises_for_each(company, knobs, settings, fault, error):
    """What the sync's optional step (ccsync/sync/optional.py) turns into a problem."""
    client, _ = client_for(company, settings)
    knobs(quickbooks_report_fault=fault)
    with pytest.raises(error):
        client.sales_figures(today=date.today(), customer_ids=())
