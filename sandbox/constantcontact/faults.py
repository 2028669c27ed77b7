"""Constant Contact V3 errors: a JSON array of {error_key, error_message}."""

from django.http import JsonResponse


def errors(*, status: int, key: str, message: str) -> JsonResponse:
    return JsonResponse([{"error_key": key, "error_message": message}], status=status, safe=False)


def throttled() -> JsonResponse:
    return errors(status=429, key="throttled", message="Too Many Requests")


injected_throttle = throttled


def quota_exceeded() -> JsonResponse:
    return errors(status=429, key="quota_exceeded", message="Limit Exceeded")


def server_error() -> JsonResponse:
    return errors(status=500, key="server_error", message="An unexpected error occurred.")


def unauthorized() -> JsonResponse:
    return errors(
        status=401,
        key="unauthorized",
        message="The access token used is invalid.",
    )
