"""The status page's customer pages: every customer not in the list and why (searchable, and
as CSV), and each customer's sales data figures."""

import csv
from collections.abc import Callable
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ccsync.sync import selectors
from ccsync.sync.models import CustomerRecord
from ccsync.web.access import TenantRequest, tenant_required
from tenants import selectors as tenant_selectors

CSV_COLUMNS = ("customer_id", "name", "email", "outcome", "reason", "detail")
CSV_HEADER = ("QuickBooks customer id", "Name", "Email", "Outcome", "Why", "Detail")
PAGE_SIZE = 50


@require_GET
@tenant_required
def customers(request: TenantRequest) -> HttpResponse:
    """Every customer not in the list and why, searchable."""
    return _search_page(
        request, "status/customers.html", selectors.customers_not_in_list, selectors.customer_row
    )


@require_GET
@tenant_required
def sales(request: TenantRequest) -> HttpResponse:
    """Sales data: each customer's figures as Constant Contact holds them, searchable."""
    choice = tenant_selectors.sales_data(tenant=request.tenant)
    return _search_page(
        request,
        "status/sales.html",
        selectors.customer_figures,
        lambda record: selectors.figures_row(record, choice=choice),
        sales=selectors.sales_status(tenant=request.tenant),
    )


def _search_page(
    request: TenantRequest,
    template: str,
    find: Callable[..., QuerySet[CustomerRecord]],
    row: Callable[[CustomerRecord], dict[str, Any]],
    **context: Any,
) -> HttpResponse:
    """A page of the tenant's customers `find` matches for the search box, as `row`s."""
    query = request.GET.get("q", "")[:200]
    records = find(tenant=request.tenant, query=query)
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [row(record) for record in page.object_list]
    return render(
        request,
        template,
        {"tenant": request.tenant, "query": query, "page": page, "rows": rows, **context},
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@require_GET
@tenant_required
def customers_csv(request: TenantRequest) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    rows = selectors.not_in_list_rows(tenant=request.tenant, query=request.GET.get("q", "")[:200])
    lines = (writer.writerow([_safe_cell(row[column]) for column in CSV_COLUMNS]) for row in rows)
    header = writer.writerow(CSV_HEADER)
    response = StreamingHttpResponse(_chain(header, lines), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="customers-not-in-the-list.csv"'
    return response


def _chain(first: str, rest):
    yield first
    yield from rest


def _safe_cell(value: str) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
