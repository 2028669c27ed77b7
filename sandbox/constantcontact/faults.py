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


# The spec's words for the errors an operation may answer (cc_refused_operations).
REFUSALS = {
    400: ("contacts.api.validation.error", "Bad request. The request was not valid."),
    409: ("conflict", "Conflict. The resource you are creating or updating already exists."),
}


def refused(status: int) -> JsonResponse:
    if status == 401:
        return unauthorized()
    if status == 403:
        return forbidden()
    key, message = REFUSALS.get(status, REFUSALS[400])
    return errors(status=status, key=key, message=message)


def forbidden() -> JsonResponse:
    return errors(
        status=403,
        key="forbidden",
        message="Forbidden request. You lack the necessary scopes, you lack the necessary user "
        "privileges, or the application is deactivated.",
    )


class ApiError(Exception):
    """Raised by the V3 services; the API views answer it in the documented error shape."""

    def __init__(self, status: int, key: str, *messages: str) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.messages = messages

    def response(self) -> JsonResponse:
        body = [{"error_key": self.key, "error_message": message} for message in self.messages]
        return JsonResponse(body, status=self.status, safe=False)


def bad_request(*messages: str) -> ApiError:
    return ApiError(400, "contacts.api.validation.error", *messages)


def not_found(message: str = "The requested resource was not found.") -> ApiError:
    return ApiError(404, "not_found", message)


def conflict(message: str) -> ApiError:
    return ApiError(409, "conflict", message)
