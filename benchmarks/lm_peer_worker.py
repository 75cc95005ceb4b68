"""Runs one external label model on a harness set, inside that peer's own virtual environment.

    /work/venvs/<peer>/bin/python benchmarks/lm_peer_worker.py <peer> in.npz out.npz

``in.npz`` holds ``L_train``, ``L_test`` (int, ``-1`` = abstain), ``cardinality``, ``L_valid``,
``y_valid`` and ``use_dev`` (one flag, or several: each is run, the peer imported once).
``out.npz`` receives, per mode ``nogold`` / ``dev``, ``proba_test_<mode>`` (``[N_test, C]``),
``fit_s_<mode>`` (seconds of the fit / inference call, imports excluded) and ``note_<mode>``
(how the peer was called), or ``error_<mode>``. Only numpy and the peer's package are imported, so the peers' pinned
dependencies never meet tfsnorkel's.

Peers:

- ``snorkel``: Snorkel 0.10 ``LabelModel(cardinality=C)`` with its defaults, ``fit(L_train,
  seed=0)``; with the dev split, ``Y_dev=y_valid`` (Snorkel uses it for the class balance).
- ``hyperlm``: ``HyperLabelModel().infer`` on the rows of train and test together (it has no
  fit step; train rows are its unlabeled context), test rows read back; with the dev split,
  the valid rows join with their gold labels (``y_indices`` / ``y_vals``). It drops trailing
  all-abstain rows, so those rows go first and the order is restored afterwards; torch >= 2.6
  needs the numpy scalar types of its checkpoint allow-listed (``add_safe_globals``).
- ``flyingsquid``: ``LabelModel(m).fit`` on votes mapped to ``+1 / -1 / 0`` (binary); more
  classes one-vs-rest (class ``k`` against the rest, an LF voting another class counts as
  ``-1``), the ``C`` positive-class probabilities normalized per row; with the dev split, the
  class balance from ``y_valid``.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np


def _snorkel(d: dict) -> tuple[np.ndarray, float, str]:
    from snorkel.labeling.model import LabelModel

    c = int(d["cardinality"])
    lm = LabelModel(cardinality=c, verbose=False)
    kwargs = {"seed": 0, "progress_bar": False}
    note = "LabelModel(cardinality=C).fit(L_train, seed=0)"
    if d["use_dev"]:
        kwargs["Y_dev"] = d["y_valid"]
        note = "LabelModel(cardinality=C).fit(L_train, Y_dev=y_valid, seed=0)"
    t = time.perf_counter()
    lm.fit(d["L_train"], **kwargs)
    fit_s = time.perf_counter() - t
    return lm.predict_proba(d["L_test"]), fit_s, note


def _hyperlm(d: dict) -> tuple[np.ndarray, float, str]:
    import numpy as _np
    import torch

    if hasattr(torch.serialization, "add_safe_globals"):
        # the checkpoint pickles numpy scalars as numpy.core.multiarray.scalar (numpy 1 name)
        try:
            from numpy._core.multiarray import scalar
        except ImportError:
            from numpy.core.multiarray import scalar
        dtypes = [type(_np.dtype(t)) for t in ("float64", "float32", "int64", "int32")]
        torch.serialization.add_safe_globals(
            [(scalar, "numpy.core.multiarray.scalar"), _np.dtype, *dtypes])
    from hyperlm import HyperLabelModel

    L_tr, L_te = d["L_train"], d["L_test"]
    parts = [L_tr]
    y_idx, y_val = None, None
    if d["use_dev"] and len(d["L_valid"]):
        parts.append(d["L_valid"])
        y_idx = np.arange(len(L_tr), len(L_tr) + len(d["L_valid"]))
        y_val = d["y_valid"]
    start_test = sum(len(p) for p in parts)
    parts.append(L_te)
    L = np.concatenate(parts).astype(int)
    # all-abstain rows first: HyperLM silently drops trailing ones
    silent = ~(L >= 0).any(axis=1)
    order = np.concatenate([np.flatnonzero(silent), np.flatnonzero(~silent)])
    pos = np.empty_like(order)
    pos[order] = np.arange(len(order))
    hlm = HyperLabelModel()
    t = time.perf_counter()
    if y_idx is not None:
        P = hlm.infer(L[order], y_indices=pos[y_idx].tolist(), y_vals=list(map(int, y_val)),
                      return_probs=True)
        note = "HyperLabelModel().infer([train; valid; test], y_indices=valid, y_vals=y_valid)"
    else:
        P = hlm.infer(L[order], return_probs=True)
        note = "HyperLabelModel().infer([train; test], return_probs=True)"
    fit_s = time.perf_counter() - t
    P = np.asarray(P, dtype=np.float64)
    if len(P) != len(L):
        raise RuntimeError(f"HyperLM returned {len(P)} rows for {len(L)}")
    P = P[pos]
    bad = ~np.isfinite(P).all(axis=1)
    if bad.any():  # its semi-supervised multiclass path can return NaN rows (0 / 0)
        note += f"; {int(bad.sum())} NaN rows set uniform"
        P[bad] = 1.0 / P.shape[1]
    c = int(d["cardinality"])
    if P.shape[1] < c:  # classes no LF votes for get no column
        P = np.concatenate([P, np.zeros((len(P), c - P.shape[1]))], axis=1)
    return P[start_test:], fit_s, note


def _flyingsquid(d: dict) -> tuple[np.ndarray, float, str]:
    from flyingsquid.label_model import LabelModel

    c = int(d["cardinality"])
    L_tr, L_te = d["L_train"], d["L_test"]
    m = L_tr.shape[1]
    balance = None
    if d["use_dev"] and len(d["y_valid"]):
        balance = np.bincount(d["y_valid"], minlength=c) / len(d["y_valid"])

    def signed(L: np.ndarray, k: int) -> np.ndarray:
        return np.where(L < 0, 0, np.where(L == k, 1, -1))

    fit_s = 0.0
    if c == 2:
        lm = LabelModel(m)
        # FlyingSquid orders the balance as (Y = -1, Y = +1): here (class 0, class 1)
        kw = {} if balance is None else {"class_balance": balance.copy()}
        t = time.perf_counter()
        lm.fit(signed(L_tr, 1), **kw)
        fit_s = time.perf_counter() - t
        p1 = np.asarray(lm.predict_proba_marginalized(signed(L_te, 1)), dtype=np.float64)
        P = np.stack([1 - p1, p1], axis=1)
        note = "LabelModel(m).fit(L_train as +1/-1/0)"
    else:
        cols = []
        for k in range(c):
            lm = LabelModel(m)
            kw = {} if balance is None else {
                "class_balance": np.array([1 - balance[k], balance[k]])}
            t = time.perf_counter()
            lm.fit(signed(L_tr, k), **kw)
            fit_s += time.perf_counter() - t
            cols.append(np.asarray(lm.predict_proba_marginalized(signed(L_te, k)), np.float64))
        P = np.stack(cols, axis=1)
        P = np.clip(P, 1e-12, None)
        P /= P.sum(axis=1, keepdims=True)
        note = "one-vs-rest: C x LabelModel(m).fit(L_train with class k = +1, others -1)"
    if balance is not None:
        note += ", class_balance from y_valid"
    return P, fit_s, note


PEERS = {"snorkel": _snorkel, "hyperlm": _hyperlm, "flyingsquid": _flyingsquid}


def main() -> None:
    peer, src, dst = sys.argv[1:4]
    with np.load(src, allow_pickle=False) as z:
        d = {k: z[k] for k in z.files}
    # one call can serve several modes ("use_dev" 0 and 1): the peer is imported once
    out = {}
    flags = d.pop("use_dev")
    for use_dev in np.atleast_1d(flags).astype(bool).tolist():
        tag = "dev" if use_dev else "nogold"
        try:
            P, fit_s, note = PEERS[peer]({**d, "use_dev": use_dev})
            out[f"proba_test_{tag}"] = np.asarray(P, dtype=np.float64)
            out[f"fit_s_{tag}"] = np.float64(fit_s)
            out[f"note_{tag}"] = np.asarray(note)
        except Exception as exc:  # noqa: BLE001 -- reported per mode to the harness
            out[f"error_{tag}"] = np.asarray(f"{type(exc).__name__}: {exc}".splitlines()[0])
        _save(dst + ".partial.npz", out)  # a later mode that times out keeps this one
    if np.ndim(flags) == 0:  # one mode: also the plain keys
        tag = "dev" if bool(flags) else "nogold"
        if f"error_{tag}" in out:
            raise RuntimeError(str(out[f"error_{tag}"]))
        out.update(proba_test=out[f"proba_test_{tag}"], fit_s=out[f"fit_s_{tag}"],
                   note=out[f"note_{tag}"])
    _save(dst, out)


def _save(path: str, arrays: dict) -> None:
    tmp = path + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
