"""RS256 ID tokens, the signing key and the JWKS that publishes it."""

import base64
import json
import secrets
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from jwt.algorithms import RSAAlgorithm

from sandbox.intuit.models import SigningKey

# intuit-oauth's validate_id_token decodes the header and payload with plain
# base64.b64decode, which silently drops the base64url characters '-' and '_' and so reads
# garbage. A base64url sextet is 62 or 63 only where an ASCII byte with low nibble 0xF
# ('/', '?', 'O', '_', 'o') sits second in a 3-byte group, or one of '>', '?', '~' sits
# third. JSON lets any string character be written as \u00XX, whose bytes are all safe,
# so escaping these characters everywhere keeps both segments free of '-' and '_' while
# every JSON parser (PyJWT's included) reads the same claims.
_UNSAFE = "/?O_o>~\x0f\x1f\x7f"
_ESCAPES = str.maketrans({char: f"\\u{ord(char):04x}" for char in _UNSAFE})


def _segment(value: dict[str, Any]) -> bytes:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=True)
    # Quotes and backslashes are already escaped by json.dumps and are not in _UNSAFE.
    encoded = base64.urlsafe_b64encode(text.translate(_ESCAPES).encode("ascii")).rstrip(b"=")
    assert b"-" not in encoded and b"_" not in encoded
    return encoded


def signing_key() -> SigningKey:
    key = SigningKey.objects.order_by("pk").first()
    if key is not None:
        return key
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    SigningKey.objects.create(kid=secrets.token_hex(16), private_pem=pem)
    # Two threads may race to create the first key: everyone signs with the oldest, and
    # the JWKS publishes all of them.
    return SigningKey.objects.order_by("pk")[0]


def _private_key(key: SigningKey) -> rsa.RSAPrivateKey:
    private = serialization.load_pem_private_key(key.private_pem.encode(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)  # signing_key() makes RSA keys only
    return private


def sign(claims: dict[str, Any]) -> str:
    key = signing_key()
    signing_input = b".".join(
        [_segment({"alg": "RS256", "kid": key.kid, "typ": "JWT"}), _segment(claims)]
    )
    signature = _private_key(key).sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return b".".join([signing_input, base64.urlsafe_b64encode(signature).rstrip(b"=")]).decode()


def jwks() -> dict[str, Any]:
    signing_key()
    keys = []
    for key in SigningKey.objects.order_by("pk"):
        jwk = RSAAlgorithm.to_jwk(_private_key(key).public_key(), as_dict=True)
        keys.append({**jwk, "kid": key.kid, "use": "sig", "alg": "RS256"})
    return {"keys": keys}
