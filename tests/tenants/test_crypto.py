"""Tokens encrypted at rest, and re-encrypted under a new key by rotate_token_keys."""

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.db import connection as db

from tenants.models import ConstantContactConnection, QuickBooksConnection, Tenant

pytestmark = pytest.mark.django_db


def raw_tokens(table: str, pk: int) -> tuple[str, str]:
    with db.cursor() as cursor:
        cursor.execute(
            f"SELECT access_token_encrypted, refresh_token_encrypted FROM {table} WHERE id = %s",
            [pk],
        )
        return cursor.fetchone()


def test_tokens_are_stored_encrypted_and_read_back(settings):
    key = Fernet.generate_key().decode()
    settings.TOKEN_ENCRYPTION_KEYS = [key]
    tenant = Tenant.objects.create(realm_id="9130350002")
    connection = QuickBooksConnection(tenant=tenant)
    connection.access_token = "qb-access-plain"
    connection.refresh_token = "qb-refresh-plain"
    connection.save()

    access, refresh = raw_tokens(QuickBooksConnection._meta.db_table, connection.pk)
    assert "qb-access-plain" not in access and "qb-refresh-plain" not in refresh
    assert Fernet(key).decrypt(access.encode()) == b"qb-access-plain"
    stored = QuickBooksConnection.objects.get(pk=connection.pk)
    assert (stored.access_token, stored.refresh_token) == ("qb-access-plain", "qb-refresh-plain")
    # Nobody without the key reads them.
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(InvalidToken):
        _ = QuickBooksConnection.objects.get(pk=connection.pk).access_token


def test_rotate_token_keys_re_encrypts_every_token_under_the_newest_key(settings, capsys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.TOKEN_ENCRYPTION_KEYS = [old]
    tenant = Tenant.objects.create(realm_id="9130350003")
    intuit = QuickBooksConnection(tenant=tenant)
    intuit.access_token, intuit.refresh_token = "qb-access", "qb-refresh"
    intuit.save()
    cc = ConstantContactConnection(tenant=tenant)
    cc.access_token, cc.refresh_token = "cc-access", "cc-refresh"
    cc.save()
    before = raw_tokens(QuickBooksConnection._meta.db_table, intuit.pk)

    settings.TOKEN_ENCRYPTION_KEYS = [new, old]  # new key first, old still decrypts
    call_command("rotate_token_keys")
    assert "2 connections" in capsys.readouterr().out
    assert raw_tokens(QuickBooksConnection._meta.db_table, intuit.pk) != before

    settings.TOKEN_ENCRYPTION_KEYS = [new]  # the old key can go now
    assert QuickBooksConnection.objects.get(pk=intuit.pk).refresh_token == "qb-refresh"
    stored = ConstantContactConnection.objects.get(pk=cc.pk)
    assert (stored.access_token, stored.refresh_token) == ("cc-access", "cc-refresh")
    settings.TOKEN_ENCRYPTION_KEYS = [old]
    with pytest.raises(InvalidToken):
        _ = QuickBooksConnection.objects.get(pk=intuit.pk).refresh_token
