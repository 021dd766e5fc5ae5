"""GET /metrics: the Prometheus text format, for a bearer of METRICS_TOKEN or an allowed address.

Samples of every process (web, Celery workers, beat; with PROMETHEUS_MULTIPROC_SHARED, of
every container) are read from the multiprocess files; executions by state and queue depths
are read live.
A refusal uses the API's error shape: 401 for a wrong token, 403 for an
address that is not allowed (with no token).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from symphony_site import metrics
from symphony_site.api.errors import error_response

logger = logging.getLogger(__name__)


def _address_allowed(raw: str) -> bool:
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return False
    for allowed in settings.METRICS_ALLOWED_ADDRESSES:
        try:
            if address in ipaddress.ip_network(allowed, strict=False):
                return True
        except ValueError:
            logger.warning("METRICS_ALLOWED_ADDRESSES has an entry that is not an address: %r", allowed)
    return False


@require_GET
def metrics_endpoint(request: HttpRequest) -> HttpResponse:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _, token = header.partition(" ")
        if not (settings.METRICS_TOKEN and scheme.lower() == "bearer"
                and hmac.compare_digest(token.strip().encode(), settings.METRICS_TOKEN.encode())):
            return error_response("authentication_failed", "Wrong metrics token.", 401)
    elif not _address_allowed(request.META.get("REMOTE_ADDR", "")):
        return error_response("permission_denied", "/metrics needs the METRICS_TOKEN bearer token or an "
                              "address in METRICS_ALLOWED_ADDRESSES.", 403)
    from executions.metrics import collectors

    metrics.forget_dead_processes()
    registry = CollectorRegistry()
    registry.register(metrics.ProcessFiles())
    for collector in collectors():
        registry.register(collector)
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
