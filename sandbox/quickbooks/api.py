"""The QuickBooks Online Accounting API: query, read and CDC of customers, customer types
and sales transactions, and the reports the app reads (reports.py).

Under /quickbooks/v3/company/<realmId>/. Answers JSON always (the real API answers XML
unless asked for JSON; every client we care about asks for JSON). `minorversion` is
accepted and ignored: every request runs as the current minor version.
"""

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from sandbox.control import knobs
from sandbox.intuit.models import Company
from sandbox.intuit.oauth import realm_for_access_token
from sandbox.quickbooks import faults, limits, reports, sales_selectors, selectors
from sandbox.quickbooks.query import (
    ENTITIES,
    ENTITY_FIELDS,
    TRANSACTIONS,
    QueryParserError,
    QueryValidationError,
    UnsupportedEntity,
    parse,
    parse_time,
)


def accounting_api(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Bearer token of this very company, then the company's request limits."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, realm_id: str, *args: Any, **kwargs: Any) -> HttpResponse:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        values = knobs.current()
        if (
            scheme.lower() != "bearer"
            or realm_for_access_token(token=token.strip()) != realm_id
            or realm_id in values["quickbooks_unauthorized_realms"]
        ):
            return faults.authentication_failed()
        if realm_id in values["quickbooks_forbidden_realms"]:
            return faults.authorization_failed()
        if values["enforce_rate_limits"] and not limits.realms.allow(
            realm_id=realm_id,
            per_second=values["quickbooks_per_second"],
            per_minute=values["quickbooks_per_minute"],
        ):
            return faults.throttled()
        return view(request, realm_id, *args, **kwargs)

    return wrapped


def answer(payload: dict[str, Any]) -> JsonResponse:
    return JsonResponse({**payload, "time": selectors.response_time()})


@csrf_exempt
@require_http_methods(["GET", "POST"])
@accounting_api
def query(request: HttpRequest, realm_id: str) -> HttpResponse:
    # POST carries the query as the body (Content-Type application/text), as at Intuit.
    text = request.GET.get("query", "") if request.method == "GET" else request.body.decode()
    try:
        parsed = parse(text)
    except QueryParserError as error:
        return faults.query_parser_error(detail=str(error))
    except QueryValidationError as error:
        return faults.query_validation_error(detail=str(error))
    except UnsupportedEntity as error:
        return faults.query_validation_error(
            detail=f"QueryValidationError: the sandbox holds {', '.join(ENTITY_FIELDS)} "
            f"only, not {error}"
        )
    if parsed.entity == "Customer":
        response = selectors.query_response(realm_id=realm_id, query=parsed)
    else:
        response = sales_selectors.query_response(realm_id=realm_id, query=parsed)
    return answer({"QueryResponse": response})


@require_GET
@accounting_api
def read_customer(request: HttpRequest, realm_id: str, customer_id: str) -> HttpResponse:
    customer = selectors.read_customer(realm_id=realm_id, customer_id=customer_id)
    if customer is None:
        return faults.object_not_found()
    return answer({"Customer": selectors.customer_json(customer)})


@require_GET
@accounting_api
def read_entity(request: HttpRequest, realm_id: str, entity: str, entity_id: str) -> HttpResponse:
    """GET .../invoice/<id> (salesreceipt, creditmemo, refundreceipt, payment)."""
    name = ENTITIES.get(entity.lower())
    if name not in TRANSACTIONS:
        return faults.object_not_found()
    found = sales_selectors.read_transaction(
        realm_id=realm_id, entity=name, transaction_id=entity_id
    )
    if found is None:
        return faults.object_not_found()
    return answer({name: found})


@require_GET
@accounting_api
def report(request: HttpRequest, realm_id: str, name: str) -> HttpResponse:
    params = {key: request.GET[key] for key in request.GET}
    values = knobs.current()
    limits = reports.Limits(
        max_cells=values["quickbooks_report_max_cells"],
        timeout_rows=values["quickbooks_report_timeout_rows"],
        timeout_days=values["quickbooks_report_timeout_days"],
        parent_row=values["quickbooks_report_parent_row"],
    )
    builders = {
        "CustomerSales": reports.customer_sales,
        "CustomerBalance": reports.customer_balance,
        "TransactionList": reports.transaction_list,
    }
    fault = values["quickbooks_report_fault"]
    if fault == "400":
        return faults.invalid_request(detail=f"{name} could not be run", element="report")
    if fault == "500":
        return faults.server_error()
    if fault == "shape":
        return JsonResponse([{"Unexpected": name}], safe=False)
    if name not in builders:
        return faults.invalid_request(
            detail=f"the sandbox answers {', '.join(builders)} only, not {name}",
            element="report",
        )
    try:
        return JsonResponse(builders[name](realm_id=realm_id, params=params, limits=limits))
    except reports.ReportError as error:
        return faults.invalid_request(detail=str(error), element=error.element)
    except reports.ReportTimedOut:
        return faults.gateway_timeout()


@require_GET
@accounting_api
def cdc(request: HttpRequest, realm_id: str) -> HttpResponse:
    asked = [name.strip() for name in request.GET.get("entities", "").split(",") if name]
    if not asked:
        return faults.invalid_request(detail="entities is required", element="entities")
    others = [name for name in asked if name.lower() not in ENTITIES]
    if others:
        return faults.invalid_request(
            detail=f"the sandbox holds {', '.join(ENTITY_FIELDS)} only, not {', '.join(others)}",
            element="entities",
        )
    entities = [ENTITIES[name.lower()] for name in asked]
    try:
        since = parse_time(request.GET.get("changedSince", ""))
    except ValueError:
        return faults.invalid_request(
            detail="changedSince must be an ISO 8601 date-time", element="changedSince"
        )
    if selectors.changed_since_too_old(since):
        return faults.invalid_request(
            detail=f"Operation cdc with changedSince date {request.GET['changedSince']} "
            "which is older than fixed days is not supported.",
            element="changedSince",
        )
    return answer(
        {
            "CDCResponse": sales_selectors.cdc_response(
                realm_id=realm_id, since=since, entities=entities
            )
        }
    )


@require_GET
@accounting_api
def company_info(request: HttpRequest, realm_id: str, company_id: str) -> HttpResponse:
    company = Company.objects.filter(realm_id=realm_id).first()
    if company is None or company_id != realm_id:
        return faults.object_not_found()
    return answer(
        {
            "CompanyInfo": {
                "Id": "1",
                "SyncToken": "0",
                "domain": "QBO",
                "CompanyName": company.name,
                "LegalName": company.name,
                "Country": "US",
                "SupportedLanguages": "en",
                "MetaData": {"CreateTime": selectors.response_time()},
            }
        }
    )
