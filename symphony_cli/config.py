"""Where `symphony login` keeps the server and the token: `$XDG_CONFIG_HOME/symphony/config.json`
(default `~/.config/symphony/`), readable by its owner only. `SYMPHONY_URL` and `SYMPHONY_TOKEN`
override the file (for scripts and CI)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

FILE_NAME = "config.json"


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or ""
    # The XDG rule: a relative value is invalid and ignored.
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "symphony"


def config_path() -> Path:
    return config_dir() / FILE_NAME


@dataclass(frozen=True)
class Credentials:
    url: str
    token: str


class NotLoggedIn(Exception):
    pass


def normalise_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        url = f"http://{url}"
    return url


def save(credentials: Credentials) -> Path:
    """Write the file with mode 0600 from its creation (never briefly readable by others), in a
    folder only its owner can enter."""
    folder = config_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / FILE_NAME
    temporary = folder / f".{FILE_NAME}.{os.getpid()}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump({"url": credentials.url, "token": credentials.token}, handle, indent=2)
        handle.write("\n")
    os.chmod(temporary, 0o600)  # in case the file existed with wider permissions
    os.replace(temporary, path)
    return path


def load() -> Credentials:
    url = os.environ.get("SYMPHONY_URL", "")
    token = os.environ.get("SYMPHONY_TOKEN", "")
    if not (url and token):
        path = config_path()
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            stored = {}
        except (OSError, ValueError) as error:
            raise NotLoggedIn(f"cannot read {path}: {error}; run 'symphony login' again") from None
        url = url or str(stored.get("url") or "")
        token = token or str(stored.get("token") or "")
    if not (url and token):
        raise NotLoggedIn("not logged in: run 'symphony login' (or set SYMPHONY_URL and SYMPHONY_TOKEN)")
    return Credentials(url=normalise_url(url), token=token)


def forget() -> bool:
    try:
        config_path().unlink()
    except FileNotFoundError:
        return False
    return True
