"""Typed helpers for reading settings from the environment.

Pure Python on purpose: settings import it before Django is configured.
"""

from __future__ import annotations

import base64
import binascii
import json
import os

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class MissingSettings(Exception):
    """Raised when production start-up lacks required environment variables."""


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {value!r}") from None


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = os.environ.get(name)
    if value in (None, ""):
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def require(names: list[str]) -> None:
    """Stop start-up naming every variable that is missing."""
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        raise MissingSettings(
            "Symphony refuses to start with DEBUG off while these environment variables are "
            f"unset: {', '.join(missing)}. Set them (see README.md, 'Configuration') or set "
            "DEBUG=1 for local development."
        )


def validate_fernet_keys(name: str, keys: list[str]) -> None:
    """Stop start-up when a key is not a Fernet key (url-safe base64 of 32 bytes)."""
    for position, key in enumerate(keys, 1):
        try:
            raw = base64.urlsafe_b64decode(key.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raw = b""
        if len(raw) != 32:
            raise ValueError(
                f"{name}: key {position} is not a Fernet key (url-safe base64 of 32 bytes). "
                "Make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'")


def env_prices(name: str) -> dict[str, tuple[float, float]]:
    """Model prices from a JSON object {"provider/model": [input, output]} (per million)."""
    value = os.environ.get(name)
    if value in (None, ""):
        return {}
    try:
        parsed = json.loads(value)
        prices = {str(model): (float(pair[0]), float(pair[1])) for model, pair in parsed.items()}
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        raise ValueError(f'{name} must be a JSON object {{"provider/model": [input, output]}} '
                         f"in dollars per million tokens, got {value!r}") from None
    if any(price < 0 for pair in prices.values() for price in pair):
        raise ValueError(f"{name}: prices cannot be negative")
    return prices
