"""Re-encrypts every stored token under the newest of TOKEN_ENCRYPTION_KEYS."""

from django.core.management.base import BaseCommand
from django.db import transaction

from tenants import crypto
from tenants.models import ConstantContactConnection, QuickBooksConnection


class Command(BaseCommand):
    help = (
        "Re-encrypt every token under the first key of TOKEN_ENCRYPTION_KEYS. Put the new "
        "key first, run this, then remove the old key."
    )

    def handle(self, *args: object, **options: object) -> None:
        rotated = 0
        for model in (QuickBooksConnection, ConstantContactConnection):
            for pk in model.objects.values_list("pk", flat=True):
                with transaction.atomic():
                    # Locked: a worker refreshing the same row must not lose its new tokens.
                    connection = model.objects.select_for_update().get(pk=pk)
                    connection.access_token_encrypted = crypto.rotate(
                        connection.access_token_encrypted
                    )
                    connection.refresh_token_encrypted = crypto.rotate(
                        connection.refresh_token_encrypted
                    )
                    connection.save(
                        update_fields=["access_token_encrypted", "refresh_token_encrypted"]
                    )
                rotated += 1
        self.stdout.write(f"Re-encrypted the tokens of {rotated} connections.")
