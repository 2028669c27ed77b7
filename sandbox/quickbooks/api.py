"""The QuickBooks Online Accounting API (Customer): query, read and CDC.

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
from sandbox.quickbooks import faults, limits, selectors
from sandbox.quickbooks.query import (
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
        if scheme.lower() != "bearer" or realm_for_access_token(token=token.strip()) != realm_id:
            return faults.authentication_failed()
        values = knobs.current()
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
            detail=f"QueryValidationError: the sandbox holds customers only, not {error}"
        )
    return answer({"QueryResponse": selectors.query_response(realm_id=realm_id, query=parsed)})


@require_GET
@accounting_api
def read_customer(request: HttpRequest, realm_id: str, customer_id: str) -> HttpResponse:
    customer = selectors.read_customer(realm_id=realm_id, customer_id=customer_id)
    if customer is None:
        return faults.object_not_found()
    return answer({"Customer": selectors.customer_json(customer)})


@require_GET
@accounting_api
def cdc(request: HttpRequest, realm_id: str) -> HttpResponse:
    entities = [name.strip() for name in request.GET.get("entities", "").split(",") if name]
    if not entities:
        return faults.invalid_request(detail="entities is required", element="entities")
    others = [name for name in entities if name.lower() != "customer"]
    if others:
        return faults.invalid_request(
            detail=f"the sandbox holds customers only, not {', '.join(others)}",
            element="entities",
        )
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
    return answer({"CDCResponse": selectors.cdc_response(realm_id=realm_id, since=since)})


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
