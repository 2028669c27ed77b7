"""Celery tasks of the tenants app: thin wrappers around its services."""

import logging
import smtplib

from celery import shared_task

from ccsync.base.jobs import RELIABLE
from tenants import notifications, tokens

logger = logging.getLogger(__name__)


@shared_task(name="tenants.refresh_tokens_all", **RELIABLE)
def refresh_tokens_all() -> None:
    tokens.refresh_expiring_tokens()
    tokens.warn_of_expiring_grants()


@shared_task(name="tenants.email_connection_broken", bind=True, max_retries=6, **RELIABLE)
def email_connection_broken(self, tenant_id: int, connection_model: str) -> None:
    try:
        sent = notifications.email_connection_broken(
            tenant_id=tenant_id, connection_model=connection_model
        )
    except (smtplib.SMTPException, OSError) as error:
        logger.warning(
            "broken connection email not sent: tenant=%s cause=%s", tenant_id, type(error).__name__
        )
        raise self.retry(countdown=60 * 2**self.request.retries) from None
    logger.info(
        "broken connection email sent: tenant=%s connection=%s people=%s",
        tenant_id,
        connection_model,
        sent,
    )


@shared_task(name="tenants.email_quickbooks_expiring", bind=True, max_retries=6, **RELIABLE)
def email_quickbooks_expiring(self, tenant_id: int) -> None:
    try:
        sent = notifications.email_quickbooks_expiring(tenant_id=tenant_id)
    except (smtplib.SMTPException, OSError) as error:
        logger.warning("expiry email not sent: tenant=%s cause=%s", tenant_id, type(error).__name__)
        raise self.retry(countdown=60 * 2**self.request.retries) from None
    logger.info("expiry email sent: tenant=%s people=%s", tenant_id, sent)
