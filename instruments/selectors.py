"""Reads of the instruments app, team-scoped: secrets (names only), providers, prices,
the models a team can use now, and its usage over time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from executions.runtime.providers.base import Price
from executions.runtime.providers.local import LOCAL_MODELS
from instruments.availability import capability_of
from instruments.models import ModelCall, ModelPrice, Provider, Secret
from teams.models import Team
from workflows.catalog import INSTRUMENT_TYPES, SEMANTIC_OPERATORS, builtin_catalog

EMBEDDING_OPERATORS = [definition.type_name for definition in SEMANTIC_OPERATORS]
USAGE_DAYS_MAX = 366


def secrets_of(team: Team) -> QuerySet[Secret]:
    """The team's secrets without their values (the ciphertext is not even loaded)."""
    return (Secret.objects.filter(team=team).only("id", "name", "version", "created_at",
                                                 "rotated_at", "created_by__username")
            .select_related("created_by").order_by("name"))


def providers_of(team: Team) -> QuerySet[Provider]:
    return Provider.objects.filter(team=team).order_by("name")


def price_table() -> dict[str, Price]:
    """Prices per model id: the admin's rows over the MODEL_PRICES setting."""
    table = {model_id: Price(input_per_million=float(pair[0]), output_per_million=float(pair[1]))
             for model_id, pair in settings.MODEL_PRICES.items()}
    for row in ModelPrice.objects.all():
        table[row.model_id] = Price(input_per_million=float(row.input_per_million),
                                    output_per_million=float(row.output_per_million))
    return table


def _price_of(model_id: str, prices: dict[str, Price], *, local: bool) -> dict[str, Any] | None:
    if local:
        return {"input_per_million": 0.0, "output_per_million": 0.0, "currency": "USD"}
    price = prices.get(model_id)
    if price is None:
        return None
    return {"input_per_million": price.input_per_million,
            "output_per_million": price.output_per_million, "currency": "USD"}


def _entry(model_id: str, provider: str, capability: str, prices: dict[str, Price]
           ) -> dict[str, Any]:
    local = provider == "local"
    definition = builtin_catalog().get("instrument", model_id)
    instrument = definition.to_dict() if definition is not None else None
    # Embedding models the catalog does not list run only inside embedding operators
    # (config `model`): an instrument node with that id would be read as a chat model.
    if capability == "embedding" and model_id not in {item.type_name for item in INSTRUMENT_TYPES}:
        instrument = None
    return {
        "model_id": model_id, "provider": provider, "capability": capability, "local": local,
        "title": instrument["title"] if instrument else model_id,
        "description": instrument["description"] if instrument else
        f"An embedding model served by the team's {provider!r} provider.",
        "config_schema": instrument["config_schema"] if instrument else None,
        "example_config": instrument["example_config"] if instrument else None,
        "inputs": instrument["inputs"] if instrument else [],
        "outputs": instrument["outputs"] if instrument else [],
        "instrument": instrument is not None,
        "operators": EMBEDDING_OPERATORS if capability == "embedding" else [],
        "price": _price_of(model_id, prices, local=local),
    }


def available_models(team: Team) -> list[dict[str, Any]]:
    """What the team can run now: the local models, then each configured provider's.

    A provider that lists its models offers those; one that lists none offers the
    catalog's models of its name (`openai` → gpt-4o-mini, gpt-4o, …) — a vLLM or Ollama
    provider should list its models to have them offered here.
    """
    prices = price_table()
    entries = [_entry(f"local/{name}", "local", model.capability, prices)
               for name, model in sorted(LOCAL_MODELS.items())]
    for provider in providers_of(team):
        if provider.offered_models:
            pairs = [(f"{provider.name}/{model['name']}", model.get("capability", "chat"))
                     for model in provider.offered_models]
        else:
            pairs = [(definition.type_name, capability_of(definition.type_name))
                     for definition in INSTRUMENT_TYPES
                     if definition.type_name.split("/", 1)[0] == provider.name]
        entries += [_entry(model_id, provider.name, capability, prices)
                    for model_id, capability in sorted(pairs)]
    return entries


def usage_window(days: int) -> dt.datetime:
    days = max(1, min(USAGE_DAYS_MAX, days))
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    return today - dt.timedelta(days=days - 1)


def usage_by_day(team: Team, *, days: int = 30) -> list[dict[str, Any]]:
    """Per UTC day (oldest first, only days with calls): calls, cache hits, tokens, cost."""
    rows = (ModelCall.objects.filter(team=team, created_at__gte=usage_window(days))
            .annotate(day=TruncDate("created_at", tzinfo=dt.UTC)).values("day")
            .annotate(calls=Count("id"), cached=Count("id", filter=Q(cached=True)),
                      tokens_in=Sum("tokens_in"), tokens_out=Sum("tokens_out"),
                      cost=Sum("cost"), saved=Sum("saved_cost"))
            .order_by("day"))
    return [{"day": row["day"].isoformat(), "calls": row["calls"], "cached": row["cached"],
             "tokens_in": row["tokens_in"] or 0, "tokens_out": row["tokens_out"] or 0,
             "cost": _money(row["cost"]), "saved": _money(row["saved"])} for row in rows]


def usage_by_model(team: Team, *, days: int = 30) -> list[dict[str, Any]]:
    rows = (ModelCall.objects.filter(team=team, created_at__gte=usage_window(days))
            .values("model_id")
            .annotate(calls=Count("id"), cached=Count("id", filter=Q(cached=True)),
                      tokens_in=Sum("tokens_in"), tokens_out=Sum("tokens_out"),
                      cost=Sum("cost"), saved=Sum("saved_cost"),
                      unpriced=Count("id", filter=Q(priced=False)))
            .order_by("-cost", "model_id"))
    return [{"model": row["model_id"], "calls": row["calls"], "cached": row["cached"],
             "tokens_in": row["tokens_in"] or 0, "tokens_out": row["tokens_out"] or 0,
             "cost": _money(row["cost"]), "saved": _money(row["saved"]),
             "unpriced_calls": row["unpriced"]} for row in rows]


def _money(value: Decimal | None) -> float:
    return float(value or 0)


def execution_usage(node_runs: list[dict[str, Any]]) -> dict[str, Any]:
    """An execution's model usage: per node and in total, from its node runs' `usage`.

    `node_runs` are `{"node_id", "usage", "cached", "reused_from"}` rows. A node whose
    output a re-run took over (`reused_from`) spent nothing in this execution: it is
    listed, but left out of the total. Cached answers cost nothing and count as cached.
    """
    by_node = {}
    total = {"calls": 0, "cached": 0, "tokens_in": 0, "tokens_out": 0, "cost": 0.0,
             "saved": 0.0, "currency": "USD"}
    for run in node_runs:
        usage = run.get("usage") or {}
        if not usage:
            continue
        by_node[run["node_id"]] = usage
        if run.get("reused_from"):
            continue
        total["calls"] += 1
        total["cached"] += 1 if usage.get("cached") else 0
        total["tokens_in"] += int(usage.get("tokens_in", 0))
        total["tokens_out"] += int(usage.get("tokens_out", 0))
        total["cost"] = round(total["cost"] + float(usage.get("cost", 0)), 8)
        saved = usage.get("saved") or {}
        total["saved"] = round(total["saved"] + float(saved.get("cost", 0)), 8)
    return {"total": total, "by_node": by_node}
