"""Signing keys of the cycle (Ed25519, ``cryptography``): the house key that signs the log's head,
and each verification body's key that signs its statements. Private keys never leave the server
unencrypted: the house key is derived from the house secret, a body's key is stored encrypted
with a key derived from it. Anyone can check a signature with the public key (PEM), e.g.
``openssl pkeyutl -verify -pubin -inkey body.pem -rawin -in statement.docx -sigfile statement.sig``.
"""

from __future__ import annotations

import base64

from cryptography.exceptions import InvalidSignature
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from greenpark.settings import get_settings


def _derive(purpose: bytes) -> bytes:
    secret = get_settings().secret_key.get_secret_value().encode("utf-8")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"greenpark-mrv", info=purpose).derive(secret)


def house_key() -> Ed25519PrivateKey:
    """The house's log-signing key (the same for the same house secret)."""
    return Ed25519PrivateKey.from_private_bytes(_derive(b"log-head-signing"))


def public_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(b"body-key-encryption")))


def new_body_key() -> tuple[str, bytes]:
    """A new key for a verification body: (public key PEM, private key encrypted for storage)."""
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return public_pem(key), _fernet().encrypt(raw)


def body_private_key(encrypted: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_fernet().decrypt(encrypted))


def sign_b64(key: Ed25519PrivateKey, data: bytes) -> str:
    return base64.b64encode(key.sign(data)).decode("ascii")


def signature_ok(public_key_pem: str, data: bytes, signature_b64: str) -> bool:
    """Whether ``signature_b64`` is a valid Ed25519 signature of ``data`` under the PEM key."""
    try:
        pub = serialization.load_pem_public_key(public_key_pem.encode("ascii"))
        if not isinstance(pub, Ed25519PublicKey):
            return False
        pub.verify(base64.b64decode(signature_b64, validate=True), data)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
