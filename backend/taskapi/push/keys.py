"""VAPID keys (RFC 8292): a new private key (`make vapid-keys`), and the public key browsers subscribe with."""

import base64

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def new_private_key() -> str:
    """A new P-256 private key, as VAPID_PRIVATE_KEY takes it: the raw 32 bytes, base64url."""
    vapid = Vapid()
    vapid.generate_keys()
    return _b64url(vapid.private_key.private_numbers().private_value.to_bytes(32, "big"))


def public_key(vapid: Vapid) -> str:
    """The public key as browsers take it (`applicationServerKey`): the uncompressed point, base64url."""
    return _b64url(vapid.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))
