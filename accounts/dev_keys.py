"""The local development key pair of `manage.py dev_token`.

Generated once under `settings.DEV_KEYS_DIR` (`.dev-keys/`, git-ignored). The server trusts its
public key only when DEBUG is on and no Clerk key is configured (`accounts.clerk` decides);
tokens signed with it go through exactly the same verification as Clerk's.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

DEV_KEY_ID = "household-ledger-dev"
DEV_ISSUER = "https://household-ledger.dev.local"


def _dir() -> Path:
    return Path(settings.DEV_KEYS_DIR)


def _private_path() -> Path:
    return _dir() / "private.pem"


def _public_path() -> Path:
    return _dir() / "public.pem"


def public_key_pem_exists() -> bool:
    return _public_path().is_file()


def public_key_pem() -> str:
    return _public_path().read_text()


def ensure_key_pair() -> Path:
    """Create the key pair once; later calls reuse it. Returns the folder."""
    folder = _dir()
    if _private_path().is_file() and _public_path().is_file():
        return folder
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    descriptor = os.open(_private_path(), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(private_pem)
    _public_path().write_bytes(public_pem)
    (folder / ".gitignore").write_text("*\n")
    return folder


def dev_token_mint(*, clerk_user_id: str, minutes: int) -> str:
    """A session token for `clerk_user_id` signed with the development key."""
    ensure_key_pair()
    now = int(time.time())
    parties = [party for party in settings.CLERK_AUTHORIZED_PARTIES if party]
    claims = {
        "sub": clerk_user_id,
        "iat": now,
        "nbf": now,
        "exp": now + minutes * 60,
        "iss": settings.CLERK_ISSUER or DEV_ISSUER,
        "sid": "sess_dev",
        "v": 2,
    }
    if parties:
        claims["azp"] = parties[0]
    return jwt.encode(
        claims,
        _private_path().read_bytes(),
        algorithm="RS256",
        headers={"kid": DEV_KEY_ID, "typ": "JWT", "cat": "cl_B7d4PD111AAA"},
    )
