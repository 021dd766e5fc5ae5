"""Instruments: persistence only.

* `Secret` — a team's named secret, its value encrypted with Fernet (`crypto.py`);
  the plaintext is never stored, returned or logged.
* `Provider` — a team's OpenAI-compatible service (`openai`, `ollama`, …): its base
  URL, the name of the secret holding its key, the models it offers.
* `ModelPrice` — US dollars per million tokens for a model id; rows override the
  defaults of the MODEL_PRICES setting, edited in the Django admin.
* `CachedOutput` — an instrument node's outputs by cache key (runtime `nodes.cache_key`).
* `ModelCall` — one record per model call a node made or answered from the cache:
  what the team's usage over time is summed from.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Now

SECRET_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
PROVIDER_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"


class Secret(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="secrets")
    name = models.CharField(max_length=64)
    # A Fernet token (base64 text) of the value, under the first of SECRETS_KEYS.
    ciphertext = models.TextField()
    # Bumped on every new value, so the UI and audit can say "rotated 3 times".
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="secret_name_unique"),
            models.CheckConstraint(condition=models.Q(name__regex=SECRET_NAME_PATTERN),
                                   name="secret_name_valid"),
        ]

    def __str__(self) -> str:
        return f"secret {self.name}"


class Provider(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="providers")
    name = models.CharField(max_length=40)
    base_url = models.CharField(max_length=2000)
    # The name of the team secret holding the key; blank for services without one.
    api_key_secret = models.CharField(max_length=64, blank=True, default="")
    # [{"name": "llama3.2", "capability": "chat" | "embedding"}]; empty: any model.
    offered_models = models.JSONField(default=list, blank=True)
    request_timeout_s = models.FloatField(default=60.0)
    max_retries = models.PositiveSmallIntegerField(default=2)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["team_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="provider_name_unique"),
            models.CheckConstraint(condition=models.Q(name__regex=PROVIDER_NAME_PATTERN)
                                   & ~models.Q(name="local"), name="provider_name_valid"),
            models.CheckConstraint(condition=models.Q(request_timeout_s__gt=0,
                                                      request_timeout_s__lte=600),
                                   name="provider_timeout_range"),
            models.CheckConstraint(condition=models.Q(max_retries__lte=10),
                                   name="provider_retries_range"),
        ]

    def __str__(self) -> str:
        return f"provider {self.name}"


class ModelPrice(models.Model):
    model_id = models.CharField(max_length=240, unique=True)
    input_per_million = models.DecimalField(max_digits=12, decimal_places=6)
    output_per_million = models.DecimalField(max_digits=12, decimal_places=6)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model_id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(input_per_million__gte=0,
                                                      output_per_million__gte=0),
                                   name="model_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.model_id}: ${self.input_per_million} / ${self.output_per_million} per M"


class CachedOutput(models.Model):
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    model_id = models.CharField(max_length=240)
    model_version = models.CharField(max_length=200, blank=True, default="")
    outputs = models.JSONField()
    # The usage of the call that made the answer: what each hit saves.
    usage = models.JSONField(default=dict)
    hits = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(db_default=Now())
    last_hit_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "key"], name="cached_output_key")]
        indexes = [models.Index(fields=["created_at"], name="cached_output_age")]

    def __str__(self) -> str:
        return f"cached {self.model_id} answer {self.key[:12]}"


class ModelCall(models.Model):
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="+")
    # Plain values, not foreign keys: a call's record outlives the execution's rows.
    execution_id = models.UUIDField(null=True, blank=True)
    node_id = models.CharField(max_length=200, blank=True, default="")
    model_id = models.CharField(max_length=240)
    provider = models.CharField(max_length=40)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=14, decimal_places=8, default=0)
    # What a cache hit saved (the original call's cost); 0 for real calls.
    saved_cost = models.DecimalField(max_digits=14, decimal_places=8, default=0)
    duration_ms = models.PositiveIntegerField(default=0)
    cached = models.BooleanField(default=False)
    priced = models.BooleanField(default=True)
    estimated = models.BooleanField(default=False)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        indexes = [models.Index(fields=["team", "created_at"], name="model_call_team_time")]

    def __str__(self) -> str:
        return f"{self.model_id} call ({self.tokens_in} in, {self.tokens_out} out)"
