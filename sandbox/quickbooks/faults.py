"""QuickBooks Online Accounting API Faults, in the documented JSON."""

from django.http import JsonResponse
from django.utils import timezone


def fault(
    *, status: int, code: str, message: str, detail: str, fault_type: str, element: str = ""
) -> JsonResponse:
    error = {"Message": message, "Detail": detail, "code": code}
    if element:
        error["element"] = element
    return JsonResponse(
        {"Fault": {"Error": [error], "type": fault_type}, "time": timezone.now().isoformat()},
        status=status,
    )


def throttled() -> JsonResponse:
    return fault(
        status=429,
        code="3001",
        message="message=ThrottleExceeded; errorCode=003001; statusCode=429",
        detail="The request limit was reached.",
        fault_type="ThrottlingFault",
    )


injected_throttle = throttled


def server_error() -> JsonResponse:
    return fault(
        status=500,
        code="10000",
        message="An application error has occurred while processing your request",
        detail="System Failure Error: An unexpected error occurred",
        fault_type="SystemFault",
    )


def gateway_timeout() -> JsonResponse:
    """A request QuickBooks could not answer in time (a report too heavy), as a public
    client met it: https://github.com/mcohen01/node-quickbooks/issues/242."""
    return fault(
        status=504,
        code="6002",
        message="message=GatewayTimeout; errorCode=006002; statusCode=504",
        detail="",
        fault_type="SERVICE",
    )


def authentication_failed() -> JsonResponse:
    return fault(
        status=401,
        code="3200",
        message="message=AuthenticationFailed; errorCode=003200; statusCode=401",
        detail="Token expired or invalid",
        fault_type="AUTHENTICATION",
    )


def authorization_failed() -> JsonResponse:
    """403: the token is valid but the company no longer lets the app in."""
    return fault(
        status=403,
        code="3100",
        message="message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
        detail="",
        fault_type="AUTHORIZATION",
    )


def query_parser_error(*, detail: str) -> JsonResponse:
    return fault(
        status=400,
        code="4000",
        message="Error parsing query",
        detail=detail,
        fault_type="ValidationFault",
    )


def query_validation_error(*, detail: str) -> JsonResponse:
    return fault(
        status=400,
        code="4001",
        message="Invalid query",
        detail=detail,
        fault_type="ValidationFault",
    )


def object_not_found() -> JsonResponse:
    return fault(
        status=400,
        code="610",
        message="Object Not Found",
        detail="Object Not Found : Something you're trying to use has been made inactive. "
        "Check the fields with accounts, customers, items, vendors or employees.",
        fault_type="ValidationFault",
    )


def invalid_request(*, detail: str, element: str = "") -> JsonResponse:
    return fault(
        status=400,
        code="2010",
        message="Request has invalid or unsupported property",
        detail=detail,
        fault_type="ValidationFault",
        element=element,
    )
