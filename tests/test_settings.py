"""Settings come from the environment; production refuses to start without its secrets."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from symphony_site.env import MissingSettings, env_bool, env_int, env_list, require

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k3J9v-8qZp2mX7rT1wY5uB4nC6eH0aS9dF8gL2jK7hQ3zV1xM5cN4bP6oI8uY2tR",
    "DATABASE_URL": "postgres://symphony:pw@db.internal:5432/symphony",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "ALLOWED_HOSTS": "symphony.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://symphony.example.com",
    "SECRETS_KEYS": "bXFwcm9kdWN0aW9uLWxpa2UtdGVzdC1rZXktMzJieXQ=",
}


def _run(code_or_args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {*PRODUCTION, "DJANGO_SETTINGS_MODULE"}}
    return subprocess.run([sys.executable, *code_or_args], env={**clean, **env}, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_production_without_secrets_stops_naming_them() -> None:
    result = _run(["-c", "import symphony_site.settings"], {"DEBUG": "0", "DATABASE_URL": "postgres://x/y"})
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "MissingSettings" in last_line
    assert "SECRET_KEY, REDIS_URL, ALLOWED_HOSTS, SECRETS_KEYS" in last_line
    assert "DATABASE_URL" not in last_line


def test_check_deploy_is_clean_in_production_settings() -> None:
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                  {**PRODUCTION, "DJANGO_SETTINGS_MODULE": "symphony_site.settings"})
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize("raw,expected", [("1", True), ("true", True), ("ON", True), ("0", False),
                                          ("no", False), ("", False)])
def test_env_bool(monkeypatch, raw, expected) -> None:
    monkeypatch.setenv("FLAG", raw)
    assert env_bool("FLAG") is expected


def test_env_helpers_reject_garbage(monkeypatch) -> None:
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ValueError, match="FLAG must be a boolean"):
        env_bool("FLAG")
    monkeypatch.setenv("COUNT", "ten")
    with pytest.raises(ValueError, match="COUNT must be an integer"):
        env_int("COUNT", 1)
    monkeypatch.setenv("HOSTS", " a.com, ,b.com ")
    assert env_list("HOSTS") == ["a.com", "b.com"]
    monkeypatch.delenv("MISSING_ONE", raising=False)
    with pytest.raises(MissingSettings, match="MISSING_ONE"):
        require(["MISSING_ONE"])


def test_production_refuses_a_secrets_key_that_is_not_a_fernet_key() -> None:
    result = _run(["-c", "import symphony_site.settings"], {**PRODUCTION, "SECRETS_KEYS": "short"})
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "SECRETS_KEYS: key 1 is not a Fernet key" in last_line


def test_check_deploy_notices_a_weakened_setting() -> None:
    """The run above can fail: without HSTS the deploy check warns (security.W004)."""
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                  {**PRODUCTION, "DJANGO_SETTINGS_MODULE": "symphony_site.settings", "SECURE_HSTS_SECONDS": "0"})
    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr
