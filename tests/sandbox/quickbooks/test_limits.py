"""The Accounting API's request limits per company: 10 a second, 500 a minute."""

import pytest

from tests.sandbox.quickbooks.conftest import fault_of

pytestmark = pytest.mark.sandbox


def test_ten_requests_a_second_per_company(company, connect_company, knobs):
    answers = [company.query("select count(*) from Customer") for _ in range(15)]
    statuses = [answer.status_code for answer in answers]
    assert statuses[:10] == [200] * 10
    assert 429 in statuses[10:]
    throttled = [answer for answer in answers if answer.status_code == 429]
    assert all(fault_of(answer)["Error"][0]["code"] == "3001" for answer in throttled)
    # Per company: another company is not held back.
    assert connect_company().query("select count(*) from Customer").status_code == 200
    knobs(clock_offset_seconds=1.1)  # a second later
    assert company.query("select count(*) from Customer").status_code == 200


def test_requests_a_minute_per_company(company, knobs):
    knobs(quickbooks_per_second=100, quickbooks_per_minute=12)
    statuses = [company.query("select count(*) from Customer").status_code for _ in range(14)]
    assert statuses == [200] * 12 + [429] * 2
    knobs(clock_offset_seconds=60.5)  # a minute later
    assert company.query("select count(*) from Customer").status_code == 200
