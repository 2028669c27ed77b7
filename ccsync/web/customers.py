"""The status page's customer pages: every customer not in the list and why, those in it with
a note (searchable, and both as one CSV), and each customer's sales data figures."""

import csv
from collections.abc import Callable
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from ccsync.sync import sales_selectors, selectors
from ccsync.sync.models import CustomerRecord
from ccsync.web.access import TenantRequest, tenant_required

CSV_COLUMNS = ("customer_id", "name", "email", "outcome", "reason", "detail", "what_to_do")
CSV_HEADER = ("QuickBooks customer id", "Name", "Email", "Outcome", "Why", "Detail", "What to do")
PAGE_SIZE = 50


@require_GET
@tenant_required
def customers(request: TenantRequest) -> HttpResponse:
    """Every customer not in the list and why, what the person can fix first; searchable."""
    return _listing(request, notes=False)


@require_GET
@tenant_required
def customer_notes(request: TenantRequest) -> HttpResponse:
    """Customers in the list (or on their way) with a note; searchable."""
    return _listing(request, notes=True)


def _listing(request: TenantRequest, *, notes: bool) -> HttpResponse:
    find = selectors.customers_with_notes if notes else selectors.customers_not_in_list
    guidance = selectors.note_counts if notes else selectors.reason_counts
    return _search_page(
        request,
        "status/customers.html",
        find,
        selectors.customer_row,
        notes=notes,
        reasons=guidance(tenant=request.tenant),
        counts=selectors.outcome_counts(tenant=request.tenant),
    )


@require_GET
@tenant_required
def sales(request: TenantRequest) -> HttpResponse:
    """Sales data: each customer's figures as Constant Contact holds them, searchable."""
    setup = sales_selectors.sales_setup(tenant=request.tenant)
    return _search_page(
        request,
        "status/sales.html",
        sales_selectors.customer_figures,
        lambda record: sales_selectors.figures_row(record, setup=setup),
        sales=selectors.sales_status(tenant=request.tenant),
        columns=sales_selectors.figure_columns(setup),
    )


@require_GET
@tenant_required
def sales_customer(request: TenantRequest, customer_id: str) -> HttpResponse:
    """One customer's figures in detail: each in Constant Contact, and on its way."""
    record = get_object_or_404(
        CustomerRecord, tenant=request.tenant, customer_id=customer_id, deleted=False
    )
    setup = sales_selectors.sales_setup(tenant=request.tenant)
    row = sales_selectors.figures_row(record, setup=setup)
    return render(request, "status/sales_customer.html", {"tenant": request.tenant, "row": row})


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
    rows = selectors.csv_rows(tenant=request.tenant, query=request.GET.get("q", "")[:200])
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
