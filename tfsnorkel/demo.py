"""The demo pipeline behind ``tfsnorkel demo``: YouTube spam, end to end, on real data.

Load the WRENCH YouTube comments -> apply the compiled spam LFs -> LF summary -> fit the label
model -> label model vs majority vote on the gold test split -> noise-aware text classifier ->
its metrics -> one SavedModel -> say where everything went.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["run_demo"]


def _rounded(t) -> list:
    """A served tensor as a list, floats rounded to 3 decimals (no float32 noise)."""
    if t.dtype.is_floating:
        return np.round(t.numpy().astype(float), 3).tolist()
    return t.numpy().tolist()


def _say(msg: str, verbose: bool) -> None:
    if verbose:
        print(msg, flush=True)


def run_demo(
    out_dir: str | os.PathLike = "tfsnorkel_output",
    *,
    epochs: int = 40,
    data_dir: str | os.PathLike | None = None,
    verbose: bool = True,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """Runs the whole pipeline on the YouTube spam set and exports a SavedModel.

    Args:
        out_dir: where the label matrix, soft labels, models, report and SavedModel go.
            Defaults to `"tfsnorkel_output"`.
        epochs: most classifier epochs (training stops early when the loss on the gold
            valid split stops improving). Defaults to `40`.
        data_dir: data root. Defaults to `None` (``$TFSNORKEL_DATA_DIR``, else download).
        verbose: print progress and tables. Defaults to `True`.
        seed: seed for the label model, tie breaks and training. Defaults to `0`.

    Returns:
        Test-split metrics: ``{"majority_vote": {...}, "label_model": {...}, "classifier": {...}}``.

    Example:
        >>> scores = run_demo("/tmp/demo", epochs=2, verbose=False)   # doctest: +SKIP
        >>> scores["classifier"]["accuracy"] > 0.8                     # doctest: +SKIP
        True
    """
    import keras
    import tensorflow as tf

    import tfsnorkel as ts
    from tfsnorkel.outputs import atomic_path, save_npy, write_csv, write_text

    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(seed)

    _say("[1/6] loading the YouTube spam comments (WRENCH youtube)", verbose)
    ds = ts.datasets.load_wrench("youtube", data_dir)
    train, valid, test = ds.train, ds.valid, ds.test
    _say(
        f"      train {len(train)}, valid {len(valid)}, test {len(test)} comments; "
        f"classes {ds.label_names}",
        verbose,
    )

    _say("[2/6] applying the compiled spam LFs (one tf.function)", verbose)
    lfset = ts.LFSet(ts.spam_lfs(extended=True), cardinality=ds.cardinality)
    L_train = lfset.apply(train.frame, progress=verbose)
    L_valid = lfset.apply(valid.frame, progress=False)
    L_test = lfset.apply(test.frame, progress=False)
    save_npy(out / "L_train.npy", L_train)
    summary = ts.lf_summary(L_valid, lfset, y=valid.y)
    write_csv(out / "lf_summary_valid.csv", summary)
    if verbose:
        with pd.option_context(
            "display.width", 160, "display.max_columns", 20, "display.precision", 3
        ):
            print("      LF summary on the gold valid split:")
            print(summary.to_string())

    _say("[3/6] fitting the label model (class balance, accuracies, correlations)", verbose)
    lm = ts.LabelModel(cardinality=ds.cardinality, seed=seed).fit(L_train, lf_names=lfset.names)
    lm.save(out / "label_model.keras")
    P_train = lm.predict_proba(L_train)
    save_npy(out / "soft_labels_train.npy", P_train)

    scores = {
        "majority_vote": ts.evaluate(
            test.y, ts.MajorityVoter(cardinality=ds.cardinality).predict_proba(L_test), seed=seed
        ),
        "label_model": ts.evaluate(test.y, lm.predict_proba(L_test), seed=seed),
    }

    _say(
        "[4/6] training the noise-aware text classifier (early stopping on the gold valid "
        "split; soft or hard targets, whichever wins there)",
        verbose,
    )
    clf = ts.fit_text_classifier(
        train.frame["text"],
        P_train,
        L_train,
        dev_texts=valid.frame["text"],
        dev_y=valid.y,
        label_type="auto",
        epochs=epochs,
        seed=seed,
        verbose=2 if verbose else 0,
    )
    _say(
        f"      kept the run that stopped after {len(clf.history.history['loss'])} epochs", verbose
    )
    with atomic_path(out / "classifier.keras") as tmp:
        clf.save(tmp)
    probs_test = ts.predict_proba(clf, test.frame["text"].to_numpy())
    scores["classifier"] = ts.evaluate(test.y, probs_test)
    uncovered = (L_test == ts.ABSTAIN).all(axis=1)
    scores["classifier"]["uncovered_rows_labeled"] = float(uncovered.sum())

    _say("[5/6] test-split metrics (gold labels)", verbose)
    table = pd.DataFrame(scores).T[["accuracy", "f1", "precision", "recall"]]
    write_csv(out / "metrics_test.csv", table)
    write_text(out / "metrics_test.json", json.dumps(scores, indent=2))
    if verbose:
        with pd.option_context("display.precision", 3):
            print(table.to_string())
        print(
            f"      the classifier also labels the {int(uncovered.sum())} test comments "
            "that no LF covers"
        )

    _say("[6/6] exporting one SavedModel (raw text -> LF votes, soft labels, classifier)", verbose)
    export_dir = out / "saved_model"
    ts.export_pipeline(export_dir, lfset=lfset, label_model=lm, classifier=clf)
    loaded = tf.saved_model.load(str(export_dir))
    sample = tf.constant(test.frame["text"].to_numpy()[:3].astype(str))
    served = loaded.signatures["serving_default"](text=sample)
    _say(
        f"      reloaded; serving_default on 3 test comments -> "
        f"{ {k: _rounded(v) for k, v in served.items()} }",
        verbose,
    )

    _say(f"\ndone in {time.perf_counter() - t0:.0f} s. Outputs in {out.resolve()}:", verbose)
    for name in sorted(p.name for p in out.iterdir()):
        _say(f"  {name}", verbose)
    return scores
