"""Operators over embeddings: `embed`, `similarity`, `route`, `classify`, `deduplicate`.

Each embeds with config `model` (default `local/all-minilm-l6-v2`, offline and free;
any team embedding model, e.g. `openai/text-embedding-3-small`, works the same way)
and compares by cosine similarity (vectors are normalised first).

* `embed`: `embedding` = the vector of `text`, or one vector per text when `text` is
  a list.
* `similarity`: `score` = cosine of `a` and `b` (each a text or a vector); when `b`
  is a list, `score` is the list of scores in `b`'s order and `best` =
  `{"index", "score", "item"}` of the closest (else null). Items of `b` may be
  objects whose text is at the dotted `field`.
* `route`: sends `value` (default: `text`) down the route whose example texts `text`
  is closest to. Outputs `route` (the name), `score`, `scores` (every route's), and
  `value` forwarded. Below `threshold` the route is `fallback` (default `other`).
  In a workflow: one conditional edge per route leaves the node with
  `inputs.route == "<name>"`, beside a data edge from `value` to the same target;
  the targets of routes not chosen are skipped (branch not taken), and a `merge`
  gathers the branches again.
* `classify`: `label` = the label whose examples `text` is closest to, `confidence`
  = its share of a softmax over label scores (how clearly it won), `scores` per label.
* `deduplicate`: keeps the first of every group of items whose similarity to it is
  at least `threshold` (default 0.85): `items` kept (in order), `groups` (lists of
  item positions; the first is the one kept), `duplicates` (how many were dropped).

A label's (or route's) score is the mean similarity of the text to the label's
examples. On the labelled tickets of tests/fixtures/semantic_labelled.json it routed
32 of 32 right, as did the centroid of the examples; the best single example and the
mean of the best two routed 31 (docs/instruments.md has the figures).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from executions.runtime.config import (
    config_value,
    invalid_config,
    invalid_input,
    node_config,
)
from executions.runtime.contract import NodeContext, NodeOutcome
from executions.runtime.operators import select_path
from executions.runtime.ports import describe
from executions.runtime.providers import gateway, local, minilm
from executions.runtime.providers.base import ProviderError
from executions.runtime.providers.nodes import call_context, failure_from, priced_usage

DEFAULT_MODEL = minilm.MODEL_ID
DEFAULT_DUPLICATE_THRESHOLD = 0.85
DEFAULT_FALLBACK = "other"
# A softmax over cosine scores needs a sharp temperature: scores differ by tenths.
CONFIDENCE_TEMPERATURE = 0.05
MAX_TEXTS = 10_000

Vectors = np.ndarray


# ---------------------------------------------------------------------- embedding


def _model_id(context: NodeContext) -> str:
    value = node_config(context).get("model") or DEFAULT_MODEL
    return str(value)


def _normalised(matrix: Vectors) -> Vectors:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.asarray(matrix / np.maximum(norms, 1e-12), dtype=np.float32)


def embed_texts(context: NodeContext, texts: Sequence[str]) -> tuple[Vectors, dict[str, Any]]:
    """Unit vectors for `texts` with the node's model, and the usage facts of the call."""
    if len(texts) > MAX_TEXTS:
        raise invalid_input(context, "text", f"holds {len(texts)} texts; at most {MAX_TEXTS} "
                            "are embedded by one node (split the list with a loop).")
    model_id = _model_id(context)
    chosen = gateway.route(context, model_id, capability="embedding")
    started = time.monotonic()
    call = call_context(context)
    try:
        if chosen.ref.is_local:
            matrix, tokens = local.embed_matrix(texts, call)
            estimated = False
        elif texts:
            reply = gateway.embedding_client(chosen).embed(texts, chosen.remote_model, call)
            matrix = np.asarray(reply.vectors, dtype=np.float32)
            tokens, estimated = reply.tokens_in, not reply.usage_reported
        else:
            matrix, tokens, estimated = np.zeros((0, 1), dtype=np.float32), 0, False
    except ProviderError as error:
        raise failure_from(error, context, model_id) from error
    usage = priced_usage(context, chosen, tokens_in=tokens, tokens_out=0,
                         duration_ms=round((time.monotonic() - started) * 1000),
                         estimated=estimated)
    if context.model_services is not None and not chosen.ref.is_local:
        context.model_services.record_call(usage)
    return _normalised(matrix), usage


def _text(context: NodeContext, port: str) -> str:
    value = context.inputs.get(port)
    if not isinstance(value, str):
        raise invalid_input(context, port, f"must be text, got {describe(value)}.")
    return value


def _is_vector(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(item, int | float) and not isinstance(item, bool) for item in value)


def _rounded(vectors: Vectors) -> list[list[float]]:
    return [[round(float(value), local.DECIMALS) for value in row] for row in vectors]


def run_embed(context: NodeContext) -> NodeOutcome:
    value = context.inputs.get("text")
    if isinstance(value, str):
        vectors, usage = embed_texts(context, [value])
        return NodeOutcome(outputs={"embedding": _rounded(vectors)[0]}, usage=usage)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        vectors, usage = embed_texts(context, value)
        return NodeOutcome(outputs={"embedding": _rounded(vectors)}, usage=usage)
    raise invalid_input(context, "text", f"must be a text or a list of texts, got "
                        f"{describe(value)}.")


# ---------------------------------------------------------------------- similarity


def _item_text(context: NodeContext, item: Any, port: str) -> str | None:
    """The text of an item: itself, or the value at config `field` of an object."""
    field = node_config(context).get("field")
    if field and isinstance(item, dict):
        item = select_path(item, str(field))
    if isinstance(item, str):
        return item
    if _is_vector(item):
        return None
    raise invalid_input(context, port, f"holds {describe(item)}; give texts, vectors, or "
                        "objects with the text at config `field`.")


def _as_matrix(context: NodeContext, items: Sequence[Any], port: str
               ) -> tuple[Vectors, dict[str, Any] | None]:
    """Items that are texts (embedded) or vectors (used as they are), as unit vectors."""
    texts = [_item_text(context, item, port) for item in items]
    wanted = [text for text in texts if text is not None]
    usage = None
    embedded: Vectors | None = None
    if wanted:
        embedded, usage = embed_texts(context, wanted)
    rows: list[Vectors] = []
    next_embedded = 0
    for item, text in zip(items, texts, strict=True):
        if text is None:
            rows.append(np.asarray(item, dtype=np.float32))
        else:
            assert embedded is not None
            rows.append(embedded[next_embedded])
            next_embedded += 1
    widths = {row.shape[0] for row in rows}
    if len(widths) > 1:
        raise invalid_input(context, port, f"mixes vectors of different lengths {sorted(widths)}"
                            "; compare vectors made by the same model.")
    return _normalised(np.vstack(rows)) if rows else np.zeros((0, 1), np.float32), usage


def run_similarity(context: NodeContext) -> NodeOutcome:
    first, second = context.inputs.get("a"), context.inputs.get("b")
    many = isinstance(second, list) and not _is_vector(second)
    items = list(second) if many else [second]  # type: ignore[arg-type]
    if many and not items:
        raise invalid_input(context, "b", "is an empty list; give at least one item.")
    matrix, usage = _as_matrix(context, [first, *items], "b")
    if matrix.shape[1] == 0 or matrix.shape[0] != len(items) + 1:
        raise invalid_input(context, "a", "must be a text or a vector.")
    scores = [round(float(score), 6) for score in matrix[1:] @ matrix[0]]
    if not many:
        return NodeOutcome(outputs={"score": scores[0], "best": None}, usage=usage or {})
    best = int(np.argmax(scores))
    return NodeOutcome(outputs={"score": scores, "best": {"index": best, "score": scores[best],
                                                           "item": items[best]}},
                       usage=usage or {})


# ---------------------------------------------------------------------- labels


def _labelled_examples(context: NodeContext, key: str) -> dict[str, list[str]]:
    value = config_value(context, key)
    if not isinstance(value, dict) or not value or not all(
            isinstance(examples, list) and examples and all(isinstance(text, str)
                                                             for text in examples)
            for examples in value.values()):
        raise invalid_config(context, key, "must map each name to a non-empty list of example "
                             "texts.")
    return {str(name): list(examples) for name, examples in value.items()}


def label_scores(text_vector: Vectors, example_vectors: Mapping[str, Vectors]) -> dict[str, float]:
    """Each label's score: the mean similarity of the text to the label's examples."""
    return {label: round(float((vectors @ text_vector).mean()), 6)
            for label, vectors in example_vectors.items()}


def _scores_for(context: NodeContext, key: str) -> tuple[dict[str, float], dict[str, Any]]:
    examples = _labelled_examples(context, key)
    text = _text(context, "text")
    flat = [text] + [example for texts in examples.values() for example in texts]
    vectors, usage = embed_texts(context, flat)
    by_label: dict[str, Vectors] = {}
    position = 1
    for label, texts in examples.items():
        by_label[label] = vectors[position:position + len(texts)]
        position += len(texts)
    return label_scores(vectors[0], by_label), usage


def _best(scores: Mapping[str, float]) -> tuple[str, float]:
    label = max(scores, key=lambda name: (scores[name], -list(scores).index(name)))
    return label, scores[label]


def run_route(context: NodeContext) -> NodeOutcome:
    scores, usage = _scores_for(context, "routes")
    chosen, score = _best(scores)
    threshold = config_value(context, "threshold", 0.0)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise invalid_config(context, "threshold", "must be a number between -1 and 1.")
    if score < threshold:
        chosen = str(node_config(context).get("fallback") or DEFAULT_FALLBACK)
    value = context.inputs.get("value")
    if value is None:
        value = context.inputs.get("text")
    context.reporter.progress(1.0, f"route {chosen!r} ({score:.2f})")
    return NodeOutcome(outputs={"route": chosen, "score": score, "scores": scores,
                                "value": value}, usage=usage)


def run_classify(context: NodeContext) -> NodeOutcome:
    scores, usage = _scores_for(context, "labels")
    label, _score = _best(scores)
    top = max(scores.values())
    weights = {name: math.exp((score - top) / CONFIDENCE_TEMPERATURE)
               for name, score in scores.items()}
    confidence = round(weights[label] / sum(weights.values()), 6)
    context.reporter.progress(1.0, f"{label} ({confidence:.0%})")
    return NodeOutcome(outputs={"label": label, "confidence": confidence, "scores": scores},
                       usage=usage)


# ---------------------------------------------------------------------- duplicates


def duplicate_groups(vectors: Vectors, threshold: float) -> list[list[int]]:
    """Greedy, in order: an item joins the first kept item it is at least `threshold`
    similar to (the most similar when several are), else starts a group of its own."""
    groups: list[list[int]] = []
    kept = np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 1), dtype=np.float32)
    for position, vector in enumerate(vectors):
        if kept.shape[0]:
            similarities = kept @ vector
            best = int(np.argmax(similarities))
            if similarities[best] >= threshold:
                groups[best].append(position)
                continue
        groups.append([position])
        kept = np.vstack([kept, vector[None, :]])
    return groups


def run_deduplicate(context: NodeContext) -> NodeOutcome:
    items = context.inputs.get("items")
    if not isinstance(items, list):
        raise invalid_input(context, "items", f"must be a list, got {describe(items)}.")
    threshold = config_value(context, "threshold", DEFAULT_DUPLICATE_THRESHOLD)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise invalid_config(context, "threshold", "must be a number between 0 and 1.")
    if not items:
        return NodeOutcome(outputs={"items": [], "groups": [], "duplicates": 0})
    vectors, usage = _as_matrix(context, items, "items")
    groups = duplicate_groups(vectors, float(threshold))
    kept = [items[group[0]] for group in groups]
    context.reporter.progress(1.0, f"{len(items) - len(kept)} duplicates of {len(items)} items")
    return NodeOutcome(outputs={"items": kept, "groups": groups,
                                "duplicates": len(items) - len(kept)}, usage=usage or {})
