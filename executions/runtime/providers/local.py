"""The `local` provider: models that run inside the worker, offline, at no cost.

`local/all-minilm-l6-v2` embeds texts (384 numbers, unit length) with the numpy model
in `minilm.py`; `local/echo` (executions/runtime/instruments.py) answers with its
prompt. Neither needs a key, a network or a team's configuration.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from executions.runtime.providers import base, minilm
from executions.runtime.providers.base import CallContext, EmbeddingReply, ProviderError

EMBEDDING_MODEL = minilm.MODEL_ID.split("/", 1)[1]
ECHO_MODEL = "echo"
# Texts handed to the network between two checks of should_stop and the deadline.
STOP_CHECK_TEXTS = 256
# Coordinates are rounded for outputs: a unit vector's components are below 1 and
# float32 carries about 7 significant digits, so nothing real is lost.
DECIMALS = 7



@dataclass(frozen=True)
class LocalModel:
    capability: str  # "chat" or "embedding"
    version: str


LOCAL_MODELS = {
    EMBEDDING_MODEL: LocalModel("embedding", minilm.MODEL_VERSION),
    ECHO_MODEL: LocalModel("chat", "1"),
}


def model_version(model: str) -> str:
    entry = LOCAL_MODELS.get(model)
    return entry.version if entry else ""


class _Memo:
    """Vectors of recently embedded texts, per process. Route and classify nodes embed
    the same example texts on every run; with this they embed only the new text."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.vectors: OrderedDict[str, tuple[np.ndarray, int]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, text: str) -> tuple[np.ndarray, int] | None:
        with self.lock:
            found = self.vectors.get(text)
            if found is not None:
                self.vectors.move_to_end(text)
            return found

    def put(self, text: str, vector: np.ndarray, tokens: int) -> None:
        with self.lock:
            self.vectors[text] = (vector, tokens)
            self.vectors.move_to_end(text)
            while len(self.vectors) > self.size:
                self.vectors.popitem(last=False)


MEMO_SIZE = 8_192  # about 12 MB of vectors
_memo = _Memo(MEMO_SIZE)


def embed_matrix(texts: Sequence[str], call: CallContext, *, memo: bool = True
                 ) -> tuple[np.ndarray, int]:
    """(vectors as a float32 matrix, word pieces read) for `texts`, stoppable between
    slices of texts. Word pieces count every text, remembered ones included: they are
    the size of the work asked for, whatever it cost."""
    model = minilm.shared_model()
    result = np.empty((len(texts), minilm.DIMENSIONS), dtype=np.float32)
    tokens = 0
    missing: dict[str, list[int]] = {}
    for position, text in enumerate(texts):
        found = _memo.get(text) if memo else None
        if found is None:
            missing.setdefault(text, []).append(position)
        else:
            result[position] = found[0]
            tokens += found[1]
    pending = list(missing)
    for start in range(0, len(pending), STOP_CHECK_TEXTS):
        if call.should_stop():
            raise ProviderError(base.STOPPED, "The local model was stopped (the execution was "
                                "cancelled or the node's time ran out).", retryable=False)
        remaining = call.remaining_s()
        if remaining is not None and remaining <= 0:
            raise ProviderError(base.TIMEOUT, "The node's time ran out while the local model "
                                "was embedding.", retryable=True)
        chunk = pending[start:start + STOP_CHECK_TEXTS]
        vectors = model.embed(chunk)
        counts = model.token_counts(chunk)
        for text, vector, count in zip(chunk, vectors, counts, strict=True):
            if memo:
                _memo.put(text, vector, count)
            for position in missing[text]:
                result[position] = vector
                tokens += count
    return result, tokens


class LocalEmbeddings:
    """EmbeddingProvider over the local models."""

    def embed(self, texts: Sequence[str], model: str, call: CallContext, *,
              dimensions: int | None = None) -> EmbeddingReply:
        if model != EMBEDDING_MODEL:
            raise ProviderError(base.MODEL_NOT_FOUND, f"There is no local embedding model "
                                f"{model!r}; the local one is {minilm.MODEL_ID!r}.",
                                retryable=False)
        if dimensions is not None and dimensions != minilm.DIMENSIONS:
            raise ProviderError(base.INVALID_REQUEST, f"{minilm.MODEL_ID} makes vectors of "
                                f"{minilm.DIMENSIONS} numbers; it cannot make {dimensions}.",
                                retryable=False)
        matrix, tokens = embed_matrix(texts, call)
        return EmbeddingReply(vectors=np.round(matrix.astype(np.float64), DECIMALS).tolist(),
                              tokens_in=tokens, served_model=minilm.MODEL_VERSION)
