"""Tokens encrypted at rest with Fernet; the newest of settings.TOKEN_ENCRYPTION_KEYS encrypts.

Older keys still decrypt, so keys can be rotated: put the new key first, run
`manage.py rotate_token_keys`, then drop the old key.
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["InvalidToken", "decrypt", "encrypt", "rotate"]


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("TOKEN_ENCRYPTION_KEYS is empty: set at least one Fernet key")
    return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.TOKEN_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    """The ciphertext of `value`; empty stays empty (no token held)."""
    if not value:
        return ""
    return _current().encrypt(value.encode()).decode()


def decrypt(ciphertext: str) -> str:
    if not ciphertext:
        return ""
    return _current().decrypt(ciphertext.encode()).decode()


def rotate(ciphertext: str) -> str:
    """The same secret re-encrypted under the newest key."""
    if not ciphertext:
        return ""
    return _current().rotate(ciphertext.encode()).decode()
