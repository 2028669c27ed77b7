import json
import re
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from integrations.quickbooks.client import QuickBooksClient, quote
from integrations.quickbooks.errors import (
    Forbidden,
    QuickBooksError,
    QuickBooksFault,
    Throttled,
    TransientError,
    Unauthorized,
)
from tests.integrations.conftest import QB_BASE, bearer

pytestmark = pytest.mark.usefixtures("provider_settings")

QUERY_URL = f"{QB_BASE}/v3/company/4620816365/query"


def customers(*ids: int) -> list[dict]:
    return [{"Id": str(i), "DisplayName": f"Customer {i}"} for i in ids]


def query_answer(rows: list[dict]) -> dict:
    body = {"QueryResponse": {"startPosition": 1, "maxResults": len(rows)}, "time": "x"}
    if rows:
        body["QueryResponse"]["Customer"] = rows
    return body


def fault(code: str, message: str = "boom", detail: str = "details", key: str = "Fault") -> dict:
    return {key: {"Error": [{"Message": message, "Detail": detail, "code": code}], "type": "T"}}


def sent_query(call) -> str:
    return parse_qs(urlsplit(call.request.url).query)["query"][0]


@pytest.fixture
def client(tokens):
    return QuickBooksClient(realm_id="4620816365", tokens=tokens)


def test_query_customers_sends_the_query_and_minor_version(client, mocked, settings):
    settings.QUICKBOOKS_MINOR_VERSION = 70
    mocked.get(QUERY_URL, json=query_answer(customers(1, 2)))

    rows = client.query_customers(where="Active = true", start_position=11, max_results=50)

    assert [row["Id"] for row in rows] == ["1", "2"]
    params = parse_qs(urlsplit(mocked.calls[0].request.url).query)
    assert params["minorversion"] == ["70"]
    assert params["query"] == [
        "SELECT * FROM Customer WHERE Active = true ORDERBY Id STARTPOSITION 11 MAXRESULTS 50"
    ]
    assert bearer(mocked.calls[0]) == "access-1"
    assert mocked.calls[0].request.headers["Accept"] == "application/json"
    assert mocked.calls[0].request.req_kwargs["timeout"] == (3.0, 7.0)


def test_settings_are_read_at_call_time(client, mocked, settings):
    settings.QUICKBOOKS_API_BASE = "http://127.0.0.1:9999/quickbooks"
    mocked.get(
        "http://127.0.0.1:9999/quickbooks/v3/company/4620816365/query", json=query_answer([])
    )

    assert client.query_customers() == []


def test_query_rejects_page_sizes_quickbooks_does_not_take(client):
    with pytest.raises(ValueError):
        client.query_customers(max_results=1001)
    with pytest.raises(ValueError):
        client.query_customers(start_position=0)


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("plain", "'plain'"),
        ("O'Brien", "'O\\'Brien'"),
        ("back\\slash", "'back\\\\slash'"),
        ("end\\", "'end\\\\'"),
        ("x' OR Id > '0", "'x\\' OR Id > \\'0'"),
    ],
)
def test_quote_escapes_quotes_and_backslashes(value, literal):
    assert quote(value) == literal


def test_quote_datetime_needs_a_timezone():
    moment = datetime(2024, 5, 1, 8, 30, tzinfo=timezone(timedelta(hours=-7)))
    assert quote(moment) == "'2024-05-01T08:30:00-07:00'"
    with pytest.raises(ValueError):
        quote(datetime(2024, 5, 1))


def test_every_quoted_value_is_one_literal():
    """An odd number of unescaped quotes would end the literal early."""
    for value in ["'", "\\'", "a\\\\'b", "''", "\\"]:
        body = quote(value)[1:-1]
        assert not re.search(r"(?<!\\)(\\\\)*'", body)


def test_iter_customer_pages_stops_on_a_short_page(client, mocked):
    mocked.get(QUERY_URL, json=query_answer(customers(1, 2)))
    mocked.get(QUERY_URL, json=query_answer(customers(3, 4)))
    mocked.get(QUERY_URL, json=query_answer(customers(5)))

    pages = list(client.iter_customer_pages(where="Active = true", page_size=2))

    assert [(start, [row["Id"] for row in rows]) for start, rows in pages] == [
        (1, ["1", "2"]),
        (3, ["3", "4"]),
        (5, ["5"]),
    ]
    assert [sent_query(call).split(" STARTPOSITION ")[1] for call in mocked.calls] == [
        "1 MAXRESULTS 2",
        "3 MAXRESULTS 2",
        "5 MAXRESULTS 2",
    ]


def test_iter_customer_pages_does_not_yield_a_trailing_empty_page(client, mocked):
    mocked.get(QUERY_URL, json=query_answer(customers(7, 8)))
    mocked.get(QUERY_URL, json=query_answer([]))

    pages = list(client.iter_customer_pages(page_size=2, start_position=5))

    assert pages == [(5, customers(7, 8))]
    assert "STARTPOSITION 7 MAXRESULTS 2" in sent_query(mocked.calls[1])


def test_count_customers(client, mocked):
    mocked.get(QUERY_URL, json={"QueryResponse": {"totalCount": 1234}, "time": "x"})

    assert client.count_customers(where="Active IN (true, false)") == 1234
    assert sent_query(mocked.calls[0]) == (
        "SELECT COUNT(*) FROM Customer WHERE Active IN (true, false)"
    )


def test_customers_by_ids_chunks_and_quotes(client, mocked):
    ids = [str(i) for i in range(1, 1102)] + ["5", "x'y"]  # a duplicate and a quote
    for found_in_chunk in ([1], [], [600], [], [], [1101]):
        mocked.get(QUERY_URL, json=query_answer(customers(*found_in_chunk)))

    found = client.customers_by_ids(ids=ids)

    assert [row["Id"] for row in found.customers] == ["1", "600", "1101"]
    assert found.refused == []
    sent = [sent_query(call) for call in mocked.calls]
    listed = [re.search(r"Id IN \((.*)\)", text).group(1).split(", ") for text in sent]
    assert [len(chunk) for chunk in listed] == [200, 200, 200, 200, 200, 102]
    assert max(len(call.request.url) for call in mocked.calls) < 4000
    assert listed[0][:2] == ["'1'", "'2'"]
    assert listed[-1][-1] == "'x\\'y'"
    assert sum(len(chunk) for chunk in listed) == 1102  # the duplicate went once
    for text in sent:
        assert text.startswith("SELECT * FROM Customer WHERE Active IN (true, false) AND Id IN (")
        assert text.endswith("STARTPOSITION 1 MAXRESULTS 1000")


def test_customers_by_ids_with_no_ids_asks_nothing(client, mocked):
    assert client.customers_by_ids(ids=[]).customers == []


def test_ids_quickbooks_refuses_are_isolated_and_the_others_read(client, mocked):
    """Fault 4001 for a query naming a value that is no Id: halves are asked until the
    refused values stand alone; every other customer is still read."""

    def answer(request):
        listed = re.search(r"Id IN \((.*)\)", sent_query(SimpleNamespace(request=request)))
        values = [value.strip("'") for value in listed.group(1).split(", ")]
        if not all(value.isdigit() for value in values):
            return 400, {}, json.dumps(fault("4001", "Invalid query"))
        return 200, {}, json.dumps(query_answer(customers(*map(int, values))))

    mocked.add_callback(responses.GET, QUERY_URL, callback=answer)
    found = client.customers_by_ids(ids=["1", "abc", "2", "3", "x'y", "4"])

    assert sorted(row["Id"] for row in found.customers) == ["1", "2", "3", "4"]
    assert sorted(found.refused) == ["abc", "x'y"]
    assert len(mocked.calls) == 11  # the whole, then halves until each refused Id is alone


def test_other_faults_of_an_id_query_are_not_taken_for_refused_ids(client, mocked):
    mocked.get(QUERY_URL, json=fault("5000", "other"), status=400)
    with pytest.raises(QuickBooksFault):
        client.customers_by_ids(ids=["1", "2"])
    assert len(mocked.calls) == 1


def test_company_info(client, mocked):
    mocked.get(
        f"{QB_BASE}/v3/company/4620816365/companyinfo/4620816365",
        json={"CompanyInfo": {"CompanyName": "Craig's Design"}, "time": "x"},
    )

    assert client.company_info()["CompanyName"] == "Craig's Design"


def test_company_info_of_an_unexpected_shape_is_an_error(client, mocked):
    mocked.get(f"{QB_BASE}/v3/company/4620816365/companyinfo/4620816365", json={"time": "x"})

    with pytest.raises(QuickBooksError):
        client.company_info()


def test_changed_customers_includes_deleted_rows(client, mocked):
    body = {
        "CDCResponse": [
            {
                "QueryResponse": [
                    {"Customer": [{"Id": "1"}, {"status": "Deleted", "Id": "979"}]},
                    {"Customer": [{"Id": "2"}]},
                ]
            }
        ],
        "time": "x",
    }
    mocked.get(f"{QB_BASE}/v3/company/4620816365/cdc", json=body)

    since = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    changed = client.changed_customers(since=since)

    assert [row["Id"] for row in changed] == ["1", "979", "2"]
    params = parse_qs(urlsplit(mocked.calls[0].request.url).query)
    assert params == {
        "entities": ["Customer"],
        "changedSince": ["2024-05-01T12:00:00+00:00"],
        "minorversion": ["75"],
    }


def test_changed_customers_needs_an_aware_time(client):
    with pytest.raises(ValueError):
        client.changed_customers(since=datetime(2024, 5, 1))


def test_401_renews_the_token_once_and_retries(client, mocked, tokens):
    mocked.get(QUERY_URL, status=401, json=fault("3200", key="fault"))
    mocked.get(QUERY_URL, json=query_answer(customers(1)))

    assert client.query_customers() == customers(1)
    assert tokens.rejected == ["access-1"]
    assert [bearer(call) for call in mocked.calls] == ["access-1", "access-2"]


def test_second_401_is_unauthorized(client, mocked, tokens):
    mocked.get(QUERY_URL, status=401, json=fault("3200"))
    mocked.get(QUERY_URL, status=401, json=fault("3200"))

    with pytest.raises(Unauthorized) as caught:
        client.query_customers()
    assert tokens.rejected == ["access-1"]
    assert "access-" not in str(caught.value)


def test_403_fault_3100_is_forbidden_without_a_token_renewal(client, mocked, tokens):
    mocked.get(
        QUERY_URL,
        status=403,
        json=fault("3100", "message=ApplicationAuthorizationFailed; errorCode=003100"),
    )

    with pytest.raises(Forbidden) as caught:
        client.query_customers()
    assert tokens.rejected == []  # a new access token would be refused the same
    assert len(mocked.calls) == 1
    assert "access-" not in str(caught.value)


def test_429_fault_3001_is_throttled(client, mocked, tokens):
    mocked.get(QUERY_URL, status=429, json=fault("3001", "message=ThrottleExceeded"))

    with pytest.raises(Throttled) as caught:
        client.query_customers()
    assert caught.value.status == 429
    assert tokens.rejected == []


def test_fault_3001_in_a_200_is_throttled(client, mocked):
    mocked.get(QUERY_URL, json=fault("003001"))

    with pytest.raises(Throttled):
        client.query_customers()


def test_fault_in_a_200_is_an_error(client, mocked):
    mocked.get(QUERY_URL, json=fault("4000", "Error parsing query", "QueryParserError: x"))

    with pytest.raises(QuickBooksFault) as caught:
        client.query_customers()
    assert (caught.value.code, caught.value.message, caught.value.detail) == (
        "4000",
        "Error parsing query",
        "QueryParserError: x",
    )
    assert caught.value.status == 200
    assert "QueryParserError" not in str(caught.value)  # detail may echo the query


def test_400_fault_is_a_fault(client, mocked):
    mocked.get(QUERY_URL, status=400, json=fault("4001", "Invalid query"))

    with pytest.raises(QuickBooksFault) as caught:
        client.query_customers()
    assert caught.value.code == "4001"
    assert caught.value.status == 400


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 500, "json": fault("10000")},
        {"status": 503, "body": "<html>down</html>"},
        {"status": 502},
        {"body": requests.ConnectionError("connection reset")},
        {"body": requests.ConnectTimeout("connect timeout")},
        {"body": requests.ReadTimeout("read timeout")},
    ],
)
def test_server_errors_and_network_failures_are_transient(client, mocked, answer):
    mocked.add(responses.GET, QUERY_URL, **answer)

    with pytest.raises(TransientError):
        client.query_customers()


def test_non_json_success_is_an_error(client, mocked):
    mocked.get(QUERY_URL, body="<html>proxy</html>")

    with pytest.raises(QuickBooksError):
        client.query_customers()


def test_unexpected_shape_is_an_error(client, mocked):
    mocked.get(QUERY_URL, json={"QueryResponse": {"Customer": {"Id": "1"}}})

    with pytest.raises(QuickBooksError):
        client.query_customers()


def test_404_without_fault_is_an_error(client, mocked):
    mocked.get(QUERY_URL, status=404, body="")

    with pytest.raises(QuickBooksError) as caught:
        client.query_customers()
    assert caught.value.status == 404
    assert not isinstance(caught.value, TransientError)


def test_before_request_runs_before_every_call_including_the_retry(tokens, mocked):
    seen = []
    client = QuickBooksClient(realm_id="4620816365", tokens=tokens, before_request=seen.append)
    mocked.get(QUERY_URL, status=401, json=fault("3200"))
    mocked.get(QUERY_URL, json=query_answer(customers(1)))
    mocked.get(f"{QB_BASE}/v3/company/4620816365/cdc", json={"CDCResponse": []})

    client.query_customers()
    client.changed_customers(since=datetime.now(UTC))

    assert seen == ["query", "query", "cdc"]


def test_before_request_can_stop_a_call(tokens, mocked):
    def limiter(endpoint: str) -> None:
        raise Throttled("local rate limit")

    client = QuickBooksClient(realm_id="1", tokens=tokens, before_request=limiter)

    with pytest.raises(Throttled):
        client.query_customers()
    assert len(mocked.calls) == 0


def test_the_given_session_is_used_for_every_call(tokens, mocked):
    class CountingSession(requests.Session):
        calls = 0

        def request(self, *args, **kwargs):
            CountingSession.calls += 1
            return super().request(*args, **kwargs)

    client = QuickBooksClient(realm_id="4620816365", tokens=tokens, session=CountingSession())
    mocked.get(QUERY_URL, json=query_answer([]))
    mocked.get(QUERY_URL, json=query_answer([]))

    client.query_customers()
    client.query_customers()

    assert CountingSession.calls == 2
