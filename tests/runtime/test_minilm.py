"""The numpy all-MiniLM-L6-v2 against vectors sentence-transformers (torch) produced.

The fixture was written by scripts/minilm_reference.py in a throwaway virtualenv; its
30 texts include accents, CJK, emoji, empty and blank texts, and one longer than the
256-piece limit. Measured when the fixture was made: the lowest cosine was
0.99999999999 and the largest difference in any coordinate 3.1e-7.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from executions.runtime.providers import minilm

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "minilm_reference.json"
REFERENCE = json.loads(FIXTURE.read_text())


@pytest.fixture(scope="module")
def model() -> minilm.MiniLM:
    return minilm.shared_model()


def _cosines(vectors: np.ndarray, reference: np.ndarray) -> np.ndarray:
    return (vectors * reference).sum(axis=1) / (
        np.linalg.norm(vectors, axis=1) * np.linalg.norm(reference, axis=1))


@pytest.mark.parametrize("batch_size", [1, 7, 32], ids=lambda size: f"batch {size}")
def test_every_vector_matches_the_reference(model, batch_size) -> None:
    texts = [item["text"] for item in REFERENCE["items"]]
    reference = np.array([item["vector"] for item in REFERENCE["items"]], dtype=np.float64)
    vectors = model.embed(texts, batch_size=batch_size).astype(np.float64)
    assert vectors.shape == (30, 384)
    cosines = _cosines(vectors, reference)
    low = {texts[index]: float(cosines[index]) for index in np.flatnonzero(cosines < 0.9999)}
    assert low == {}
    assert float(np.abs(vectors - reference).max()) < 1e-5


def test_vectors_are_unit_length_and_independent_of_the_batch(model) -> None:
    texts = ["short", "a much longer text with many more word pieces in it than the first"]
    together = model.embed(texts)
    alone = np.vstack([model.embed([text]) for text in texts])
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-6)
    # Padding the short text to the long one's length must not change its vector.
    assert float(np.abs(together - alone).max()) < 1e-6


def test_long_texts_are_cut_at_256_word_pieces(model) -> None:
    long_text = REFERENCE["items"][-1]["text"]
    assert model.token_counts([long_text, "A man is eating food."]) == [256, 8]
    assert REFERENCE["made_by"]["max_seq_length"] == minilm.MAX_TOKENS == 256


def test_no_texts_give_an_empty_matrix(model) -> None:
    assert model.embed([]).shape == (0, 384)


def test_weights_that_are_not_the_official_file_are_refused(tmp_path) -> None:
    source = minilm.model_directory()
    (tmp_path / "tokenizer.json").write_bytes((source / "tokenizer.json").read_bytes())
    (tmp_path / "model.safetensors").write_bytes(b"not the weights")
    with pytest.raises(minilm.ModelFilesMissing, match="not the expected all-MiniLM-L6-v2"):
        minilm.MiniLM(tmp_path)
