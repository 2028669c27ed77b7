"""QuickBooks Online Accounting API: the Customer reads the sync needs, and the sales
figures for segmenting (reports.py).

Endpoint names given to `before_request`: "query", "cdc", "company_info", "report".
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import quote as quote_path

import requests
from django.conf import settings

from integrations.http import AfterResponse, BeforeRequest, Provider, Transport
from integrations.quickbooks import reports
from integrations.quickbooks.errors import (
    QuickBooksError,
    QuickBooksFault,
    TransientError,
    Unauthorized,
    error_for,
)
from integrations.tokens import TokenSource

MAX_RESULTS = 1000  # QuickBooks' largest page
# A CDC answer holds at most this many objects: one that holds as many may leave some out.
CDC_MAX_OBJECTS = 1000
# Active and inactive alike: a query without it returns active customers only.
ALL_CUSTOMERS = "Active IN (true, false)"
# Every Id IN (...) query fits one page, and its URL (the query is URL-encoded: about 16
# characters per Id of 6 digits) stays under the 4 KB request line that servers commonly
# accept: 500 Ids made 7 KB URLs, refused with 414.
IDS_PER_QUERY = 200
# Faults of a query QuickBooks cannot run as written (4000 parse, 4001 validation): in an
# `Id IN (...)` query, a value that is no QuickBooks id.
QUERY_REFUSED = ("4000", "4001")

PROVIDER = Provider(
    name="QuickBooks",
    key="quickbooks",
    error=QuickBooksError,
    unauthorized=Unauthorized,
    transient=TransientError,
    error_for=lambda status, body, endpoint: error_for(status, body),  # the same on every call
)


def quote(value: str | datetime) -> str:
    """A query literal: backslash and single quote escaped with a backslash, as QuickBooks
    expects; a datetime (timezone-aware) in ISO 8601."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("QuickBooks query times need a timezone")
        value = value.isoformat()
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass
class Lookup:
    """Customers found by Id, and the Ids QuickBooks refused to look up (no customer has
    them: they are not QuickBooks ids)."""

    customers: list[dict] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def _customers(body: Any, *, where: str) -> list[dict]:
    return _objects(body, "Customer", where=where)


def _objects(body: Any, entity: str, *, where: str) -> list[dict]:
    rows = body.get(entity, []) if isinstance(body, dict) else None
    if not isinstance(rows, list):
        raise QuickBooksError(f"QuickBooks {where}: unexpected answer shape")
    return rows


class QuickBooksClient:
    def __init__(
        self,
        *,
        realm_id: str,
        tokens: TokenSource,
        before_request: BeforeRequest | None = None,
        after_response: AfterResponse | None = None,
        session: requests.Session | None = None,
    ):
        self.realm_id = realm_id
        self._transport = Transport(
            provider=PROVIDER,
            tokens=tokens,
            before_request=before_request,
            after_response=after_response,
            session=session,
        )

    def query_customers(
        self,
        *,
        where: str = "",
        start_position: int = 1,
        max_results: int = MAX_RESULTS,
    ) -> list[dict]:
        """One page of `SELECT * FROM Customer`; `where` is trusted text (build it with quote)."""
        if not 1 <= max_results <= MAX_RESULTS or start_position < 1:
            raise ValueError("start_position >= 1 and 1 <= max_results <= 1000")
        text = _select("*", where)
        text += f" ORDERBY Id STARTPOSITION {start_position} MAXRESULTS {max_results}"
        return _customers(self._query(text), where="query")

    def iter_customer_pages(
        self, *, where: str = "", page_size: int = MAX_RESULTS, start_position: int = 1
    ) -> Iterator[tuple[int, list[dict]]]:
        """(start position, customers) for every non-empty page, ordered by Id; stops after
        the first short page."""
        position = start_position
        while True:
            page = self.query_customers(where=where, start_position=position, max_results=page_size)
            if page:
                yield position, page
            if len(page) < page_size:
                return
            position += len(page)

    def count_customers(self, *, where: str = "") -> int:
        response = self._query(_select("COUNT(*)", where))
        count = response.get("totalCount")
        if not isinstance(count, int):
            raise QuickBooksError("QuickBooks count: unexpected answer shape")
        return count

    def customers_by_ids(self, *, ids: Sequence[str]) -> Lookup:
        """The customers with these Ids, active or not (unknown Ids are simply missing).

        A query QuickBooks refuses (an Id it cannot read, e.g. "abc") is split in halves
        until the refused Ids stand alone: they are reported, the others still read."""
        unique = list(dict.fromkeys(ids))
        lookup = Lookup()
        for start in range(0, len(unique), IDS_PER_QUERY):
            self._look_up(unique[start : start + IDS_PER_QUERY], lookup)
        return lookup

    def _look_up(self, ids: list[str], lookup: Lookup) -> None:
        listed = ", ".join(quote(customer_id) for customer_id in ids)
        try:
            lookup.customers += self.query_customers(where=f"{ALL_CUSTOMERS} AND Id IN ({listed})")
        except QuickBooksFault as fault:
            if fault.code not in QUERY_REFUSED:
                raise
            if len(ids) == 1:
                lookup.refused += ids
                return
            half = len(ids) // 2
            self._look_up(ids[:half], lookup)
            self._look_up(ids[half:], lookup)

    def changed_customers(self, *, since: datetime) -> list[dict]:
        """Customers changed since `since` (Change Data Capture, at most 30 days back);
        deleted ones come as {"status": "Deleted", "Id": ..., "MetaData": ...}. At most
        CDC_MAX_OBJECTS: an answer that long may leave changes out."""
        return [c for _, objects in self._changed(since, ["Customer"]) for c in objects]

    def changed_transactions(self, *, since: datetime) -> list[tuple[str, dict]]:
        """The sales transactions (reports.TRANSACTION_ENTITIES) changed since `since`, as
        (entity, object) pairs, deleted ones with only their Id: one CDC call, at most
        CDC_MAX_OBJECTS objects in all."""
        return [
            (entity, item)
            for entity, objects in self._changed(since, list(reports.TRANSACTION_ENTITIES))
            for item in objects
        ]

    def _changed(self, since: datetime, entities: list[str]) -> Iterator[tuple[str, list[dict]]]:
        if since.tzinfo is None:
            raise ValueError("Change Data Capture needs a timezone-aware time")
        body = self._get(
            "cdc",
            endpoint="cdc",
            params={"entities": ",".join(entities), "changedSince": since.isoformat()},
        )
        sections = body.get("CDCResponse")
        if not isinstance(sections, list):
            raise QuickBooksError("QuickBooks cdc: unexpected answer shape")
        for section in sections:
            responses = section.get("QueryResponse", []) if isinstance(section, dict) else None
            if not isinstance(responses, list):
                raise QuickBooksError("QuickBooks cdc: unexpected answer shape")
            for response in responses:
                for entity in entities:
                    if isinstance(response, dict) and entity in response:
                        yield entity, _objects(response, entity, where="cdc")

    def company_info(self) -> dict:
        """The company's CompanyInfo (its name, for people who reach several companies)."""
        realm = quote_path(self.realm_id, safe="")
        body = self._get(f"companyinfo/{realm}", endpoint="company_info")
        info = body.get("CompanyInfo")
        if not isinstance(info, dict):
            raise QuickBooksError("QuickBooks company_info: unexpected answer shape")
        return info

    def sales_figures(
        self, *, today: date, customer_ids: Sequence[str] = ()
    ) -> dict[str, reports.CustomerSales]:
        """Every customer with any sales activity (customer_ids empty), or just these;
        customers absent from the answer have none. 5 report calls (CustomerSales twice,
        CustomerBalance, TransactionList for invoices and for sales receipts) per 200
        customer ids, or 5 for all customers, plus two per split of a report too large or
        too slow for one answer (integrations/quickbooks/reports.py says why). Raises
        reports.ReportUnreadable for an answer it cannot read."""
        return reports.sales_figures(self._report, today=today, customer_ids=customer_ids)

    def transaction_customers(self, *, entity: str, ids: Sequence[str]) -> dict[str, str]:
        """transaction id -> CustomerRef value ("" for none) for these Invoice/SalesReceipt/
        CreditMemo/RefundReceipt/Payment ids (query by Id in (...), 200 a call); ids
        QuickBooks no longer has are absent."""
        return reports.transaction_customers(self._query, entity=entity, ids=ids)

    def customer_types(self) -> dict[str, str]:
        """CustomerType Id -> Name (one query call a 1,000 types)."""
        return reports.customer_types(self._query)

    def _report(self, name: str, params: dict[str, Any]) -> dict:
        return self._get(f"reports/{quote_path(name, safe='')}", endpoint="report", params=params)

    def _query(self, text: str) -> dict:
        body = self._get("query", endpoint="query", params={"query": text})
        response = body.get("QueryResponse")
        if not isinstance(response, dict):
            raise QuickBooksError("QuickBooks query: unexpected answer shape")
        return response

    def _get(self, path: str, *, endpoint: str, params: dict | None = None) -> dict:
        realm = quote_path(self.realm_id, safe="")
        body = self._transport.call(
            "GET",
            f"{settings.QUICKBOOKS_API_BASE}/v3/company/{realm}/{path}",
            endpoint=endpoint,
            params={**(params or {}), "minorversion": settings.QUICKBOOKS_MINOR_VERSION},
        )
        if not isinstance(body, dict):
            raise QuickBooksError(f"QuickBooks {endpoint}: unexpected answer shape")
        return body


def _select(what: str, where: str) -> str:
    # A QuickBooks query, not SQL; `where` is the caller's own text, its values quote()d.
    return f"SELECT {what} FROM Customer" + (f" WHERE {where}" if where else "")  # noqa: S608
