"""Delivery of the webhook outbox, as Intuit does it.

Per app (webhook URL and verifier token): events wait `webhook_delay_seconds` from the
first of them (aggregation), then go out together in one signed POST; a delivery that is
not answered 2xx within 3 seconds is retried on Intuit's schedule (scaled by
`webhook_retry_scale`), and the app's later events wait until it is acknowledged. One
delivery may carry several companies' events, as at Intuit.
"""

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

import requests
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from sandbox.control import knobs
from sandbox.quickbooks import events
from sandbox.quickbooks.models import WebhookDelivery, WebhookEvent

logger = logging.getLogger(__name__)

ANSWER_WITHIN_SECONDS = 3
EVENTS_PER_DELIVERY = 1000


def deliver_due() -> None:
    """The background job: gather waiting events into deliveries, send what is due."""
    values = knobs.current()
    if not values["webhooks_enabled"]:
        return
    gather(
        delay_seconds=values["webhook_delay_seconds"],
        webhook_format=values["webhook_format"],
        legacy_time=values["webhook_legacy_time"],
        injected=values["webhook_injected_events"],
    )
    due = WebhookDelivery.objects.filter(
        delivered_at=None, next_attempt_at__lte=timezone.now()
    ).order_by("pk")
    for delivery in due:
        attempt(delivery=delivery, retry_scale=values["webhook_retry_scale"])


def gather(
    *,
    delay_seconds: float,
    webhook_format: str,
    legacy_time: str = "offset",
    injected: Sequence[str] = (),
) -> list[WebhookDelivery]:
    """Turn each app's waiting events into one delivery, once the first has waited
    `delay_seconds` and the app has acknowledged everything sent before."""
    moment = timezone.now()
    waiting = (
        WebhookEvent.objects.filter(delivery=None)
        .values("target_url", "verifier_token")
        .annotate(first=Min("occurred_at"))
    )
    made = []
    for target in waiting:
        if target["first"] + timedelta(seconds=delay_seconds) > moment:
            continue
        unacknowledged = WebhookDelivery.objects.filter(
            target_url=target["target_url"],
            verifier_token=target["verifier_token"],
            delivered_at=None,
        )
        if unacknowledged.exists():
            continue
        made.append(
            _deliver_waiting(
                target_url=target["target_url"],
                verifier_token=target["verifier_token"],
                moment=moment,
                webhook_format=webhook_format,
                legacy_time=legacy_time,
                injected=injected,
            )
        )
    return made


def _deliver_waiting(
    *,
    target_url: str,
    verifier_token: str,
    moment: datetime,
    webhook_format: str,
    legacy_time: str,
    injected: Sequence[str],
) -> WebhookDelivery:
    """One delivery of the oldest events waiting for this app (and the knob's extras)."""
    with transaction.atomic():
        batch = list(
            WebhookEvent.objects.filter(
                delivery=None, target_url=target_url, verifier_token=verifier_token
            ).order_by("pk")[:EVENTS_PER_DELIVERY]
        )
        delivery = WebhookDelivery.objects.create(
            target_url=target_url,
            verifier_token=verifier_token,
            body=events.body(
                changes=[*batch, *events.injected(kinds=injected, like=batch[0])],
                webhook_format=webhook_format,
                source=events.event_source(target_url=target_url),
                legacy_time=legacy_time,
            ).decode(),
            created_at=moment,
            next_attempt_at=moment,
        )
        WebhookEvent.objects.filter(pk__in=[event.pk for event in batch]).update(delivery=delivery)
    return delivery


def attempt(*, delivery: WebhookDelivery, retry_scale: float) -> bool:
    """POST a delivery once; True when the app acknowledged it (2xx)."""
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json",
        "intuit-signature": events.sign(body=body, verifier_token=delivery.verifier_token),
    }
    status, error = None, ""
    try:
        status = requests.post(
            delivery.target_url, data=body, headers=headers, timeout=ANSWER_WITHIN_SECONDS
        ).status_code
    except requests.RequestException as failure:
        error = type(failure).__name__
    delivery.attempts += 1
    delivery.last_status = status
    delivery.last_error = error
    acknowledged = status is not None and 200 <= status < 300
    if acknowledged:
        delivery.delivered_at = timezone.now()
    else:
        delivery.next_attempt_at = timezone.now() + events.retry_delay(
            attempts=delivery.attempts, scale=retry_scale
        )
        logger.info("webhook delivery %s not acknowledged (%s)", delivery.pk, status or error)
    delivery.save()
    return acknowledged
