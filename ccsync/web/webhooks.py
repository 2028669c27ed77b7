"""The QuickBooks webhook endpoint, the busiest of the app: verify, store, answer 200 in
milliseconds; the sync itself happens later, in a worker."""

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ccsync.sync.event_store import store_delivery
from integrations.quickbooks.webhooks import MalformedWebhook, parse_delivery, verify_signature

logger = logging.getLogger(__name__)


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
