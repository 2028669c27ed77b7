"""Reads the knobs once per request, and injects their latency and faults into provider API
calls."""

import random
import socket
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from sandbox.constantcontact import faults as cc_faults
from sandbox.control import knobs
from sandbox.quickbooks import faults as qb_faults

# Path prefix of each provider's API, and how that provider answers a fault.
API_PREFIXES = {
    "/quickbooks/v3/": ("quickbooks", qb_faults),
    "/cc/v3/": ("constantcontact", cc_faults),
}


def knob_values(get_response: Callable[[HttpRequest], HttpResponse]):
    """A request reads the knobs at most once, however many checks look at them."""

    def middleware(request: HttpRequest) -> HttpResponse:
        with knobs.read_once():
            return get_response(request)

    return middleware


def faults(get_response: Callable[[HttpRequest], HttpResponse]):
    def middleware(request: HttpRequest) -> HttpResponse:
        for prefix, (provider, provider_faults) in API_PREFIXES.items():
            if request.path.startswith(prefix):
                injected = _inject(request, provider, provider_faults)
                if injected is not None:
                    return injected
                break
        return get_response(request)

    return middleware


def _inject(request: HttpRequest, provider: str, provider_faults) -> HttpResponse | None:
    values = knobs.current()
    latency = values[f"{provider}_latency_ms"]
    if latency:
        time.sleep(latency / 1000)
    roll = random.random()
    for knob, make in (
        ("drop_rate", lambda: _drop(request)),
        ("error_rate", provider_faults.server_error),
        ("throttle_rate", provider_faults.injected_throttle),
    ):
        rate = values[f"{provider}_{knob}"]
        if roll < rate:
            return make()
        roll -= rate
    return None


def _drop(request: HttpRequest) -> HttpResponse:
    sock = request.META.get("gunicorn.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
    # Nobody reads this: the client has already seen its connection reset.
    return HttpResponse(status=502)
