"""docker-compose.yml cannot run here (no Docker engine), so its shape is checked by reading."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_services_and_health_checks() -> None:
    services = _compose()["services"]
    assert sorted(services) == ["beat", "postgres", "redis", "web", "worker", "worker-io", "worker-models"]
    for name in ["postgres", "redis", "web", "worker", "worker-io", "worker-models"]:
        assert services[name]["healthcheck"]["test"], name


def test_app_services_share_settings_from_the_environment() -> None:
    services = _compose()["services"]
    for name in ["web", "worker", "worker-io", "worker-models", "beat"]:
        env = services[name]["environment"]
        assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS",
                "SECRETS_KEYS"} <= set(env)
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_commands_match_the_procfile() -> None:
    services = _compose()["services"]
    procfile = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line)
    web = services["web"]["command"]
    # The web's flags live in symphony_site/web.py (tests/test_web_server.py); every path runs it.
    assert web.rstrip().endswith("exec python -m symphony_site.web\"")
    assert "migrate" in web and "seed_demo" in web
    assert services["web"]["environment"]["WEB_CONCURRENCY"] == "${WEB_CONCURRENCY:-3}"
    assert services["web"]["environment"]["HOST"] == "0.0.0.0"
    assert services["beat"]["command"][:4] == ["celery", "-A", "symphony_site", "beat"]
    assert procfile["web"] == "python -m symphony_site.web"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["python", "-m", "symphony_site.web"]' in dockerfile and "ENV HOST=0.0.0.0 PORT=8000" in dockerfile
    assert procfile["beat"].startswith("celery -A symphony_site beat")
    # Beat sends the reaper and the triggers' tick every second: at INFO that was two lines a
    # second in `make run`'s console, burying the web's and workers' lines. Warnings still show.
    assert "--loglevel=WARNING" in procfile["beat"].split()
    assert "--loglevel=WARNING" in services["beat"]["command"]
    # One worker per queue group, consuming the same queues in both.
    for service, process, queue in [("worker", "worker", "steps,control"), ("worker-io", "worker_io", "io"),
                                    ("worker-models", "worker_models", "models")]:
        command = services[service]["command"]
        assert command[:4] == ["celery", "-A", "symphony_site", "worker"]
        assert command[command.index("-Q") + 1] == queue
        assert procfile[process].startswith("celery -A symphony_site worker")
        assert f" -Q {queue} " in procfile[process]
    queues = {queue for name in ("worker", "worker-io", "worker-models")
              for queue in services[name]["command"][services[name]["command"].index("-Q") + 1].split(",")}
    from executions.runtime.registry import QUEUE_IO, QUEUE_MODELS, QUEUE_STEPS

    assert queues == {QUEUE_STEPS, QUEUE_IO, QUEUE_MODELS, settings.CELERY_CONTROL_QUEUE}


def test_dockerfile_installs_the_same_dependencies() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11" in dockerfile
    assert 'tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]' in dockerfile


def test_every_container_writes_metrics_to_one_shared_volume() -> None:
    compose = _compose()
    services = compose["services"]
    assert "metrics" in compose["volumes"]
    for name in ["web", "worker", "worker-io", "worker-models", "beat"]:
        assert services[name]["environment"]["PROMETHEUS_MULTIPROC_SHARED"] == "/var/lib/symphony/metrics", name
        assert services[name]["volumes"] == ["metrics:/var/lib/symphony/metrics"], name
    # The web empties the volume before it starts; everything else starts once it is healthy.
    web = services["web"]["command"]
    assert web.index("clear_metrics") > web.index("migrate") and web.index("clear_metrics") < web.index("exec ")
    assert "web" not in services["web"]["depends_on"]
    for name in ["worker", "worker-io", "worker-models", "beat"]:
        assert services[name]["depends_on"]["web"]["condition"] == "service_healthy", name
    # The image's user can write there (a new named volume copies the directory's owner).
    assert "mkdir -p var /var/lib/symphony/metrics && chown -R symphony var /var/lib/symphony" in (
        ROOT / "Dockerfile").read_text()
