"""What one RE2 scan costs: ``tf.strings.regex_full_match`` per pattern over 200k comments.

The 10 keyword/regex LFs of BENCHMARKS.md section 1 are one RE2 scan of the text each. This
times single patterns (the LFs' own forms and variants: case folding in the pattern or not, a
longer literal, a regex) on one 200,000-row batch of WRENCH youtube comments (mean 91.5
characters), best of 5 calls of a traced ``tf.function``, plus ``tf.strings.lower`` and
``tf.strings.length`` for scale.

    TFSNORKEL_DATA_DIR=../shared/data python benchmarks/re2_scan.py

Results: BENCHMARKS.md section 1b (b).
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfsnorkel.datasets import load_wrench  # noqa: E402

PATTERNS = [
    r"(?s).*(?i:my).*",
    r"(?s).*(?i:subscribe).*",
    r"(?s).*(?i:check.*out).*",
    r"(?s).*[0-9]{3,}.*",
    r"(?s).*(?:my|My|mY|MY).*",
    r"(?s).*my.*",
]


def best_ms(fn, x: tf.Tensor, repeats: int = 5) -> float:
    f = tf.function(fn)
    f(x)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f(x).numpy()
        times.append(time.perf_counter() - t)
    return 1000 * min(times)


def main() -> None:
    d = load_wrench("youtube", os.environ.get("TFSNORKEL_DATA_DIR"))
    texts = d.train.frame["text"].tolist()
    rng = np.random.default_rng(0)
    x = tf.constant([texts[i] for i in rng.integers(0, len(texts), 200_000)])
    for p in PATTERNS:
        ms = best_ms(lambda t, p=p: tf.strings.regex_full_match(t, p), x)
        print(f"| `{p}` | {ms:.1f} ms | {1000 * ms / 200_000:.3f} us |")
    for name, fn in (("tf.strings.lower", tf.strings.lower), ("tf.strings.length", tf.strings.length)):
        ms = best_ms(fn, x)
        print(f"| {name} | {ms:.1f} ms | {1000 * ms / 200_000:.3f} us |")


if __name__ == "__main__":
    main()
