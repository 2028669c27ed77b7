"""What the sandbox's twins share: demo passwords, HTTP Basic client credentials, and the
JSON in and out of the control API (the `_sandbox/` endpoints tests, the demo and the
benchmarks call; never part of a provider)."""

import base64
import binascii
import functools
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from django.contrib.auth import hashers
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

# --- Passwords ---------------------------------------------------------------------------


class _DemoPasswordHasher(hashers.PBKDF2PasswordHasher):
    # Demo credentials only: Django's million iterations cost seconds of CPU per sign-up
    # and sign-in (tests, benchmarks with hundreds of accounts); few iterations are enough.
    iterations = 10_000


_HASHER = _DemoPasswordHasher()


def hash_password(password: str) -> str:
    return hashers.make_password(password, hasher=_HASHER)


def check_password(password: str, encoded: str) -> bool:
    # Preferring the demo hasher keeps Django from padding a wrong password's check out to
    # its own million iterations.
    # django-stubs types `preferred` as a name; Django's get_hasher() takes a hasher too.
    return hashers.check_password(password, encoded, preferred=_HASHER)  # type: ignore[arg-type]


# --- HTTP Basic client credentials -------------------------------------------------------


def basic_credentials(authorization: str) -> tuple[str, str] | None:
    """(client_id, client_secret) of an `Authorization: Basic ...` header, each
    percent-decoded as OAuth clients encode them (RFC 6749 2.3.1); None if it is none."""
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, client_secret = decoded.partition(":")
    return (unquote(client_id), unquote(client_secret)) if colon else None


# --- The control API ---------------------------------------------------------------------


class NotFound(Exception):
    """A control call about something that is not there: answered 404."""


def control_api(view: Callable[..., Any]) -> Callable[..., HttpResponse]:
    """A control API view: no CSRF token, JSON out (the dict or list the view returns); a
    ValueError is a 400 and NotFound a 404, each saying why."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            result = view(request, *args, **kwargs)
        except NotFound as error:
            return JsonResponse({"error": str(error)}, status=404)
        except ValueError as error:
            return JsonResponse({"error": str(error)}, status=400)
        return result if isinstance(result, HttpResponse) else JsonResponse(result, safe=False)

    return wrapped


def json_body(request: HttpRequest) -> Any:
    """The control call's JSON body ({} when empty); a ValueError when it is not JSON."""
    try:
        return json.loads(request.body or b"{}")
    except ValueError as error:
        raise ValueError(f"the body is not JSON: {error}") from None


def json_object(request: HttpRequest) -> dict[str, Any]:
    """The control call's JSON object ({} when empty); a ValueError when it is not one."""
    body = json_body(request)
    if not isinstance(body, dict):
        raise ValueError("send a JSON object")
    return body
