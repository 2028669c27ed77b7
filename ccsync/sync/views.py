"""The QuickBooks webhook endpoint and the status panel's JSON, buttons and CSV."""

import csv
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from ccsync.sync import selectors, services
from ccsync.sync.event_store import store_delivery
from ccsync.sync.models import CustomerRecord
from integrations.quickbooks.webhooks import MalformedWebhook, parse_delivery, verify_signature
from tenants.access import TenantRequest, tenant_required

logger = logging.getLogger(__name__)

CSV_COLUMNS = ("customer_id", "name", "email", "outcome", "reason", "detail")
CSV_HEADER = ("QuickBooks customer id", "Name", "Email", "Outcome", "Why", "Detail")
PAGE_SIZE = 50


@csrf_exempt  # Intuit signs the body instead
@require_POST
def quickbooks_webhook(request: HttpRequest) -> HttpResponse:
    """Verify, store, answer: the sync itself happens later, in a worker."""
    try:
        body = _body(request)
    except ValueError:
        return HttpResponse(status=400)
    except RequestDataTooBig:
        return HttpResponse(status=413)
    if not verify_signature(
        body=body,
        signature=request.headers.get("intuit-signature"),
        verifier_token=settings.INTUIT_WEBHOOK_VERIFIER_TOKEN,
    ):
        logger.warning("webhook refused: bad signature")
        return HttpResponse(status=401)
    try:
        delivery = parse_delivery(body=body)
    except MalformedWebhook:
        logger.warning("webhook refused: malformed")
        return HttpResponse(status=400)
    accepted = store_delivery(delivery=delivery)
    logger.info(
        "webhook stored: events=%s accepted=%s dropped=%s",
        len(delivery.events),
        accepted,
        len(delivery.dropped),
    )
    return HttpResponse(status=200)


def _body(request: HttpRequest) -> bytes:
    """The raw body, at most SYNC_WEBHOOK_MAX_BYTES (RequestDataTooBig beyond; ValueError for
    a Content-Length that is no number). A chunked body has no Content-Length: it is read
    from the server's input, which ends with the body where the server says so (gunicorn)."""
    limit = settings.SYNC_WEBHOOK_MAX_BYTES
    declared = request.META.get("CONTENT_LENGTH")
    if not declared and request.META.get("wsgi.input_terminated"):
        body = request.META["wsgi.input"].read(limit + 1)
    else:
        if int(declared or 0) > limit:
            raise RequestDataTooBig
        body = request.body
    if len(body) > limit:
        raise RequestDataTooBig
    return body


@require_GET
@tenant_required
def status_json(request: TenantRequest) -> JsonResponse:
    status = selectors.tenant_sync_status(tenant=request.tenant)
    return JsonResponse(status, encoder=DjangoJSONEncoder)


def _back(request: HttpRequest) -> HttpResponse:
    return redirect(reverse("tenants:status"))


@require_POST
@tenant_required
def pause(request: TenantRequest) -> HttpResponse:
    services.pause(tenant=request.tenant)
    return _back(request)


@require_POST
@tenant_required
def resume(request: TenantRequest) -> HttpResponse:
    services.resume(tenant=request.tenant)
    return _back(request)


@require_POST
@tenant_required
def sync_now(request: TenantRequest) -> HttpResponse:
    services.sync_now(tenant=request.tenant)
    return _back(request)


@require_GET
@tenant_required
def customers(request: TenantRequest) -> HttpResponse:
    """Every customer not in the list and why, searchable."""
    return _search_page(
        request, "sync/customers.html", selectors.customers_not_in_list, selectors.customer_row
    )


@require_GET
@tenant_required
def sales(request: TenantRequest) -> HttpResponse:
    """Sales data: each customer's figures as Constant Contact holds them, searchable."""
    fields = selectors.sales_fields(tenant=request.tenant)
    return _search_page(
        request,
        "sync/sales.html",
        selectors.customer_figures,
        lambda record: selectors.figures_row(record, fields=fields),
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
