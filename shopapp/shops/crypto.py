"""Encryption at rest for the shops' Shopify tokens (Fernet: AES-128-CBC + HMAC-SHA256).

Keys come from SHOPIFY_TOKEN_KEYS, newest first: the first encrypts, every one decrypts, so keys
rotate without downtime (put the new key first, run `manage.py tokens_rekey`, drop the old key).
In development, with no key set, one is derived from DJANGO_SECRET_KEY.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

__all__ = ["InvalidToken", "token_decrypt", "token_encrypt", "token_reencrypt"]


def _fernet() -> MultiFernet:
    keys: list[str] = settings.SHOPIFY_TOKEN_KEYS
    if not keys:
        digest = hashlib.sha256(f"slipstream-tokens:{settings.SECRET_KEY}".encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def token_encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def token_decrypt(cipher: str) -> str:
    """Raises InvalidToken when no configured key opens it (a key was dropped too early)."""
    return _fernet().decrypt(cipher.encode()).decode()


def token_reencrypt(cipher: str) -> str:
    """The same secret under the newest key."""
    return _fernet().rotate(cipher.encode()).decode()
