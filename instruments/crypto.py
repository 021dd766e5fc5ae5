"""Encrypting team secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) under
MultiFernet, keys from the SECRETS_KEYS setting.

The first key encrypts; every key decrypts, so keys rotate by putting a new key first,
running `manage.py rotate_secrets_key` (re-encrypts every secret under it), then
dropping the old key. Plaintext exists only in the worker building a node run's
context and in the request that sets a value.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretUnreadable(Exception):
    """A stored secret does not decrypt under any of SECRETS_KEYS."""


@lru_cache(maxsize=4)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise SecretUnreadable("SECRETS_KEYS is empty: secrets cannot be encrypted or read.")
    return MultiFernet([Fernet(key.encode("ascii")) for key in keys])


def cipher() -> MultiFernet:
    return _cipher(tuple(settings.SECRETS_KEYS))


def encrypt(value: str) -> str:
    return cipher().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return cipher().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise SecretUnreadable(
            "A secret does not decrypt with any of SECRETS_KEYS (was its key removed before "
            "`manage.py rotate_secrets_key` ran?).") from None


def reencrypt(token: str) -> str:
    """The same value under the first key (MultiFernet.rotate keeps the original time)."""
    try:
        return cipher().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise SecretUnreadable("A secret does not decrypt with any of SECRETS_KEYS.") from None
