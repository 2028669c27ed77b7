"""The sandbox's Accounting API over HTTP: query, read, CDC, authentication."""

import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.sandbox.quickbooks.conftest import fault_of


def ids(customers: list[dict]) -> list[str]:
    return [customer["Id"] for customer in customers]


def test_paging_through_every_active_customer(company, unthrottled):
    company.seed(2500)
    customers = company.all_customers()
    active = sorted((c for c in customers if c["Active"]), key=lambda c: int(c["Id"]))
    assert 0 < len(active) < 2500  # the seed has inactive customers

    total = company.query("select count(*) from Customer").json()["QueryResponse"]["totalCount"]
    everyone = company.query("SELECT COUNT(*) FROM Customer WHERE Active IN (true, false)")
    assert total == len(active)
    assert everyone.json()["QueryResponse"] == {"totalCount": 2500}

    pages, start = [], 1
    while True:
        answer = company.query(
            f"select * from Customer ORDERBY Id STARTPOSITION {start} MAXRESULTS 1000"
        ).json()
        assert "time" in answer
        page = answer["QueryResponse"]
        if not page:
            break
        assert page["startPosition"] == start
        assert page["maxResults"] == len(page["Customer"]) <= 1000
        pages.append(page["Customer"])
        start += len(page["Customer"])
    assert [len(page) for page in pages[:-1]] == [1000] * (len(pages) - 1)
    assert ids([c for page in pages for c in page]) == ids(active)

    default = company.query("select * from Customer").json()["QueryResponse"]
    assert default["maxResults"] == 100
    capped = company.query("select * from Customer maxresults 5000").json()["QueryResponse"]
    assert capped["maxResults"] == 1000


def test_orderby_is_stable_across_pages(company, unthrottled):
    company.seed(300)
    whole = company.query(
        "select * from Customer where Active in (true, false) orderby FamilyName desc "
        "maxresults 1000"
    ).json()["QueryResponse"]["Customer"]
    family = [c.get("FamilyName", "") for c in whole]
    assert family == sorted(family, reverse=True)
    paged = []
    for start in range(1, len(whole) + 1, 37):
        answer = company.query(
            "select * from Customer where Active in (true, false) orderby FamilyName desc "
            f"startposition {start} maxresults 37"
        )
        paged += answer.json()["QueryResponse"]["Customer"]
    assert ids(paged) == ids(whole)


def test_where_active_id_in_and_last_updated(company, unthrottled):
    amy, bob, cat = company.create(
        [
            {"DisplayName": "Amy's Bird Sanctuary", "PrimaryEmailAddr": {"Address": "a@x.com"}},
            {"GivenName": "Bob", "FamilyName": "Lee"},
            {"DisplayName": "Cat Café", "CompanyName": "Cats Inc"},
        ]
    )
    assert bob["DisplayName"] == "Bob Lee"
    assert company.change(f"{bob['Id']}/deactivate").status_code == 200

    active = company.query("select * from Customer").json()["QueryResponse"]["Customer"]
    assert ids(active) == [amy["Id"], cat["Id"]]
    inactive = company.query("select * from Customer where active = false").json()
    assert ids(inactive["QueryResponse"]["Customer"]) == [bob["Id"]]

    chosen = company.query(
        f"select * from Customer where Id in ('{amy['Id']}', '{bob['Id']}') "
        "and Active in (true, false)"
    ).json()["QueryResponse"]["Customer"]
    assert ids(chosen) == [amy["Id"], bob["Id"]]

    escaped = company.query(r"select * from Customer where DisplayName = 'Amy\'s Bird Sanctuary'")
    assert ids(escaped.json()["QueryResponse"]["Customer"]) == [amy["Id"]]
    like = company.query("select * from Customer where DisplayName LIKE '%caf%'")
    assert ids(like.json()["QueryResponse"]["Customer"]) == [cat["Id"]]
    by_email = company.query("select * from Customer where PrimaryEmailAddr = 'a@x.com'")
    assert ids(by_email.json()["QueryResponse"]["Customer"]) == [amy["Id"]]

    since = datetime.now(UTC).isoformat()
    edited = company.change(cat["Id"], {"Notes": "VIP"}).json()
    assert edited["SyncToken"] == "1"
    changed = company.query(
        f"select * from Customer where MetaData.LastUpdatedTime > '{since}'"
    ).json()["QueryResponse"]["Customer"]
    assert ids(changed) == [cat["Id"]]
    assert changed[0]["Notes"] == "VIP"
    later = datetime.now(UTC).isoformat()
    nothing = company.query(f"select * from Customer where MetaData.LastUpdatedTime > '{later}'")
    assert nothing.json()["QueryResponse"] == {}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("select * from Customer where", "4000"),
        ("select * form Customer", "4000"),
        ("select * from Customer where Id = '1' or Id = '2'", "4000"),
        ("select * from Customer startposition x", "4000"),
        ("delete from Customer", "4000"),
        ("select * from Customer where Notes = 'x'", "4001"),
        ("select * from Customer where Id = 'abc'", "4001"),
        ("select * from Bill", "4001"),
    ],
)
def test_bad_queries_answer_a_validation_fault(company, unthrottled, text, code):
    answer = company.query(text)
    assert answer.status_code == 400
    fault = fault_of(answer)
    assert fault["type"] == "ValidationFault"
    assert fault["Error"][0]["code"] == code
    if code == "4000":
        assert fault["Error"][0]["Message"] == "Error parsing query"
        assert fault["Error"][0]["Detail"].startswith("QueryParserError:")


def test_selecting_some_properties(company, unthrottled):
    company.create({"DisplayName": "Only Name", "PrimaryEmailAddr": {"Address": "o@x.com"}})
    row = company.query("select Id, PrimaryEmailAddr from Customer").json()["QueryResponse"]
    assert set(row["Customer"][0]) == {"Id", "SyncToken", "domain", "sparse", "PrimaryEmailAddr"}


def test_read_a_customer(company, unthrottled):
    created = company.create(
        {
            "GivenName": "Amy",
            "FamilyName": "Lauterbach",
            "CompanyName": "Amy's Bird Sanctuary",
            "PrimaryPhone": {"FreeFormNumber": "(650) 555-3311"},
            "BillAddr": {"Line1": "4581 Finch St.", "City": "Bayshore", "PostalCode": "94326"},
        }
    )
    answer = company.get(f"customer/{created['Id']}")
    assert answer.status_code == 200
    customer = answer.json()["Customer"]
    assert customer == created
    assert customer["SyncToken"] == "0"
    assert customer["FullyQualifiedName"] == "Amy Lauterbach"
    assert customer["Active"] is True and customer["Job"] is False
    create_time = datetime.fromisoformat(customer["MetaData"]["CreateTime"])
    assert create_time.utcoffset() in (timedelta(hours=-7), timedelta(hours=-8))

    company.change(f"{created['Id']}/deactivate")
    assert company.get(f"customer/{created['Id']}").json()["Customer"]["Active"] is False

    for missing in ("999999", "abc"):
        answer = company.get(f"customer/{missing}")
        assert answer.status_code == 400
        assert fault_of(answer)["Error"][0]["code"] == "610"
        assert fault_of(answer)["Error"][0]["Message"] == "Object Not Found"


def test_sub_customers_and_merge(company, unthrottled):
    parent, other = company.create([{"DisplayName": "Parent"}, {"DisplayName": "Other"}])
    child = company.create({"DisplayName": "Child", "ParentRef": {"value": parent["Id"]}})
    assert (child["Job"], child["Level"], child["FullyQualifiedName"]) == (
        True,
        1,
        "Parent:Child",
    )
    refused = company.change(f"{parent['Id']}/delete")
    assert refused.status_code == 400
    renamed = company.change(parent["Id"], {"DisplayName": "Mother"})
    assert renamed.status_code == 200
    assert company.get(f"customer/{child['Id']}").json()["Customer"]["FullyQualifiedName"] == (
        "Mother:Child"
    )
    merged = company.change(f"{parent['Id']}/merge-into/{other['Id']}")
    assert merged.status_code == 200 and merged.json()["Id"] == other["Id"]
    moved = company.get(f"customer/{child['Id']}").json()["Customer"]
    assert moved["ParentRef"] == {"value": other["Id"]}
    assert moved["FullyQualifiedName"] == "Other:Child"
    assert company.get(f"customer/{parent['Id']}").status_code == 400
    duplicate = requests.post(
        f"{company.control}/customers", json={"DisplayName": "other"}, timeout=10
    )
    assert duplicate.status_code == 400


def test_cdc_reports_changes_and_deleted_customers(company, unthrottled):
    company.seed(20)
    since = datetime.now(UTC).isoformat()
    kept, gone, merged, survivor = company.create(
        [{"DisplayName": name} for name in ("Kept", "Gone", "Merged", "Survivor")]
    )
    company.change(f"{kept['Id']}/deactivate")
    company.change(f"{gone['Id']}/delete")
    company.change(f"{merged['Id']}/merge-into/{survivor['Id']}")

    answer = company.get("cdc", entities="Customer", changedSince=since)
    assert answer.status_code == 200
    body = answer.json()
    assert "time" in body
    result = body["CDCResponse"][0]["QueryResponse"][0]
    assert result["startPosition"] == 1 and result["maxResults"] == 4
    by_id = {row["Id"]: row for row in result["Customer"]}
    assert set(by_id) == {kept["Id"], gone["Id"], merged["Id"], survivor["Id"]}
    assert by_id[kept["Id"]]["Active"] is False
    for deleted in (gone["Id"], merged["Id"]):
        assert by_id[deleted]["status"] == "Deleted"
        assert set(by_id[deleted]) == {"domain", "status", "Id", "MetaData"}
        assert "LastUpdatedTime" in by_id[deleted]["MetaData"]
    assert by_id[survivor["Id"]]["DisplayName"] == "Survivor"

    everything = company.get(
        "cdc",
        entities="Customer",
        changedSince=(datetime.now(UTC) - timedelta(days=29)).isoformat(),
    )
    rows = everything.json()["CDCResponse"][0]["QueryResponse"][0]["Customer"]
    assert {kept["Id"], gone["Id"]} <= {row["Id"] for row in rows}

    too_old = company.get(
        "cdc",
        entities="Customer",
        changedSince=(datetime.now(UTC) - timedelta(days=31)).isoformat(),
    )
    assert too_old.status_code == 400
    assert fault_of(too_old)["type"] == "ValidationFault"
    assert company.get("cdc", entities="Bill", changedSince=since).status_code == 400

    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    empty = company.get("cdc", entities="Customer", changedSince=future).json()
    # As Intuit's example shows (tests/sandbox/quickbooks/test_samples.py).
    assert empty["CDCResponse"] == [{"QueryResponse": [{}]}]


def test_a_value_that_is_no_id_is_a_validation_fault(company, unthrottled):
    """An Id QuickBooks cannot read (not a number, or past 64 bits) makes the whole query a
    4001 QueryValidationError. Error codes: https://developer.intuit.com/app/developer/qbo/
    docs/develop/troubleshooting/error-codes"""
    company.seed(3)
    for value in ("'abc'", r"'1', 'x\'y'", "'12345678901234567890123'"):
        answer = company.query(f"select * from Customer where Id IN ({value})")
        assert answer.status_code == 400
        assert fault_of(answer)["Error"][0]["code"] == "4001"
    fine = company.query("select * from Customer where Id IN ('1', '9223372036854775807')")
    assert fine.status_code == 200


def test_a_company_that_no_longer_lets_the_app_in_answers_403_fault_3100(
    company, connect_company, knobs
):
    """403 Forbidden with Fault 3100 ApplicationAuthorizationFailed, to a token that is
    still valid. https://developer.intuit.com/app/developer/qbo/docs/develop/troubleshooting/
    error-codes (403 Forbidden); the Fault's wording as public clients meet it:
    "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403"."""
    other = connect_company()
    knobs(quickbooks_forbidden_realms=[company.realm_id])
    for answer in (company.query("select * from Customer"), company.get("cdc")):
        assert answer.status_code == 403
        error = fault_of(answer)["Error"][0]
        assert error["code"] == "3100"
        assert "ApplicationAuthorizationFailed" in error["Message"]
    assert other.query("select count(*) from Customer").status_code == 200


def test_a_company_whose_grant_ended_at_the_api_answers_401_to_fresh_tokens(
    company, connect_company, knobs
):
    """401 Unauthorized, Fault 3200 AuthenticationFailed, is the API's answer to a token it
    does not accept (https://developer.intuit.com/app/developer/qbo/docs/develop/
    troubleshooting/error-codes). The knob quickbooks_unauthorized_realms answers it to every
    token of the company while the token endpoint still refreshes: the app's "401 after a
    refresh" (Intuit's revoke seen by the API first)."""
    other = connect_company()
    knobs(quickbooks_unauthorized_realms=[company.realm_id])
    for answer in (company.query("select * from Customer"), company.get("cdc")):
        assert_authentication_failed(answer)
    assert other.query("select count(*) from Customer").status_code == 200


def test_cdc_answers_hold_at_most_1000_objects(company, unthrottled):
    """ "Server responses can handle a maximum of 1,000 objects. We suggest you query for
    shorter time periods." https://developer.intuit.com/app/developer/qbo/docs/learn/
    explore-the-quickbooks-online-api/change-data-capture"""
    since = datetime.now(UTC).isoformat()
    created = company.create([{"DisplayName": f"Changed {n}"} for n in range(1005)])
    answer = company.get("cdc", entities="Customer", changedSince=since)
    result = answer.json()["CDCResponse"][0]["QueryResponse"][0]
    assert result["maxResults"] == len(result["Customer"]) == 1000
    assert {row["Id"] for row in result["Customer"]} < {row["Id"] for row in created}


def assert_authentication_failed(answer: requests.Response) -> None:
    assert answer.status_code == 401
    fault = fault_of(answer)
    assert fault["Error"][0]["code"] == "3200"


def test_bad_missing_or_foreign_tokens_fail_authentication(
    sandbox, company, connect_company, unthrottled
):
    assert_authentication_failed(company.query("select * from Customer", token="not-a-token"))
    assert_authentication_failed(
        requests.get(f"{company.api}/customer/1", timeout=10)  # no Authorization at all
    )
    other = connect_company()
    assert other.query("select count(*) from Customer").status_code == 200
    assert_authentication_failed(company.query("select * from Customer", token=other.access_token))
    assert_authentication_failed(company.get("cdc", token=other.access_token))


def test_expired_token_fails_authentication(sandbox, connect_company, knobs):
    knobs(intuit_access_token_ttl=1, enforce_rate_limits=False)
    company = connect_company()
    time.sleep(1.5)
    assert_authentication_failed(company.query("select * from Customer"))


def test_query_may_come_as_a_post_body(company, unthrottled):
    company.create({"DisplayName": "Posted"})
    answer = requests.post(
        f"{company.api}/query?minorversion=75",
        data="select count(*) from Customer",
        headers={
            "Authorization": f"Bearer {company.access_token}",
            "Content-Type": "application/text",
        },
        timeout=10,
    )
    assert answer.json()["QueryResponse"] == {"totalCount": 1}


def test_company_info_names_the_company(company, unthrottled):
    answer = company.get(f"companyinfo/{company.realm_id}")
    assert answer.status_code == 200
    assert answer.json()["CompanyInfo"]["CompanyName"].startswith("Books ")
    assert company.get("companyinfo/1").status_code == 400
    assert company.get(f"companyinfo/{company.realm_id}", token="nope").status_code == 401
