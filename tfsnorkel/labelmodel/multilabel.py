"""Multi-label label model: several classes per row, each present or absent.

Encoding. Every LF is *bound to one class*: ``lf_classes[j] = c`` says LF ``j`` speaks about
class ``c`` only, and its vote is ``1`` (present), ``0`` (absent) or ``-1`` (abstain). A label
matrix is then an ordinary ``[N, m]`` int matrix plus the ``[m]`` map ``lf_classes``, instead
of an ``[N, m, C]`` tensor in which almost every cell would say "no opinion": it costs
``N * m`` cells (``O(votes)`` as a ``scipy.sparse`` matrix, stored value = vote + 1, so
``1`` = absent, ``2`` = present, abstains not stored), and each class's evidence is a column
slice. An LF that speaks about two classes is two LFs (one per class). The votes of one class's
LFs are exactly a binary label matrix (class ``1`` = present, ``0`` = absent), the convention
of :class:`~tfsnorkel.labelmodel.LabelModel` with ``cardinality=2``.

The model. Classes are modelled as independent binary latent variables: for class ``c``,
``Y[c] ~ Bernoulli(prior[c])``, and given ``Y[c]`` each group of its LFs votes independently
of the others. Each class gets one of two binary models, each held in a
:class:`~tfsnorkel.labelmodel.LabelModel` sub-layer (so ``call`` is one TF formula and saving
is Keras's); ``call`` gathers each class's columns and returns the ``[batch, C]`` matrix of
``P(Y[c] = 1 | votes)``, columns independent (not summing to 1):

* ``"em"``: class-conditional tables ``P(vote | Y[c])`` (the accuracy on present rows
  ``P(vote present | present)``, on absent rows ``P(vote absent | absent)``, and abstention
  that depends on ``Y[c]``: a keyword's silence is evidence too) and the prior, learned
  without gold by the binary model's exact EM (its dev-set anchoring included). It reaches
  the Bayes oracle on synthetic data (``synthetic_multilabel``; BENCHMARKS.md,
  "Multi-label").
* ``"one_coin"``: each vote is right with accuracy ``a_j`` whatever the class (the mean of
  ``accuracy_prior``, 0.8 by default, or estimated on the gold dev rows with that Beta
  prior); a row with votes starts from an uninformative prior; a row where none of the
  class's LFs votes gets the *silence probability*: ``1 - mean(accuracy_prior)`` (the class's
  collective silence counts as one "absent" vote of the prior accuracy), or
  ``class_priors[c]`` when given; with a gold dev set, the share of present rows among its
  silent rows (smoothed towards that value by a Beta prior worth 2 rows).

Why two. When every LF of a class votes one way (keyword detectors vote "present" only,
as in most real LF sets), the class-conditional tables and the prior are identified only
through the conditional independence of the LFs' firings given the class. Where it holds
(``synthetic_multilabel(kinds=["detector"])``) the EM reaches the oracle; real keyword LFs
of one tag co-fire for other reasons, and the EM drifts (measured on the CFPB tags of
``examples/multilabel_complaints.py`` with ``class_model="em"``: priors of 0.33 to 0.37 for
the four tags present in 6% to 12% of rows; test micro F1 0.30, 0.39 with
``co_abstain_weight=None``, against a per-tag vote's 0.63), while the one-coin model,
which states its assumptions instead, matches the vote (0.626) and gives probabilities.
``class_model="auto"`` (the default) takes the EM for a class where at least two LFs vote
present and two vote absent (votes that disagree identify the tables) and the one-coin
model elsewhere, or, with a gold dev set, whichever has the lower dev log loss (the EM
fitted without the dev rows for that comparison). ``class_model="em"`` forces the EM. A
class with fewer than three LFs is one-coin (the EM needs three).

Near-copies. LFs of one class that cast the same vote on most rows where either votes
(share ``>= copy_threshold``, default 0.7; independent LFs of a class measured at most 0.58
on the synthetic family, copies at 0.87 and more) are grouped and modelled jointly, so their
evidence counts once; the binary model's own divergence-based structure learning does not
catch them: initialized from a vote in which copies count several times, its independent fit
locks onto the copied LF (measured: 0.81 accuracy against the oracle's 0.96, 4 copies of a
detector). Grouping two LFs that are in fact independent costs only a few more parameters
(the group's joint table models whatever joint they have), so the test errs towards
grouping. An EM class models each group jointly (classes without copies keep the binary
model's learned groups, ``dependencies="auto"``); a one-coin class divides the log-odds of
each member's vote by the group's size, so a group whose members agree counts as one LF.
Correlations *between* classes (co-occurring topics) are not modelled: each class's
probability uses its own LFs only.

Edge cases (defined, finite outputs):

* a row where no LF of class ``c`` votes gets the class's silence probability
  (``class_table()["silent"]``): under ``"em"`` the posterior of an all-abstain row (the
  prior times each LF's learned ``P(abstain | Y[c])``: silence is evidence), under
  ``"one_coin"`` the silence probability above;
* a class that no LF is bound to, or whose LFs never vote in the fitted matrix, has no
  evidence: its probability is always its prior, which is ``class_priors[c]`` when given,
  else the smoothed frequency ``(positives + 1) / (n_dev + 2)`` of a gold dev set when given,
  else the mean learned prior of the classes that have evidence (else 0.5);
* ``num_classes=1`` is refused (a single class present or absent is a binary task).

Example:
    >>> from tfsnorkel.labelmodel.synthetic_multilabel import synthetic_multilabel
    >>> d = synthetic_multilabel(2000, num_classes=3, lfs_per_class=4, seed=0)
    >>> lm = MultiLabelModel(3, lf_classes=d.lf_classes).fit(d.L)
    >>> lm.predict_proba(d.L[:2]).shape
    (2, 3)
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import pandas as pd
import scipy.sparse as sp
import tensorflow as tf

from tfsnorkel.labelmodel.layer import LabelModel, LabelModelLoadError
from tfsnorkel.labelmodel.structure import merge_groups

__all__ = ["MultiLabelModel", "check_multilabel_matrix", "copy_groups"]

PRESENT, ABSENT = 1, 0
_MIN_EM_LFS = 3  # LabelModel.fit needs three LFs to be identifiable
_CLASS_MODELS = ("auto", "em", "one_coin")


def _check_num_classes(num_classes: Any) -> int:
    if (
        not isinstance(num_classes, (int, np.integer))
        or isinstance(num_classes, bool)
        or num_classes < 2
    ):
        raise ValueError(
            "num_classes must be an integer >= 2 (a task with a single class present or absent "
            "is binary: use LabelModel(cardinality=2)). "
            f"Received: num_classes={num_classes!r}"
        )
    return int(num_classes)


def _check_lf_classes(lf_classes: Any, num_classes: int) -> list[int]:
    arr = np.asarray(lf_classes)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            "lf_classes must be a non-empty 1-D sequence: the class each LF is bound to. "
            f"Received: lf_classes with shape {arr.shape}"
        )
    if arr.dtype.kind not in "iu" and not (
        arr.dtype.kind == "f" and np.all(arr == np.round(arr))
    ):
        raise ValueError(
            f"lf_classes must hold integer class indices. Received: {arr[:5].tolist()}"
        )
    bad = np.flatnonzero((arr < 0) | (arr >= num_classes))
    if bad.size:
        j = int(bad[0])
        raise ValueError(
            f"lf_classes[{j}] = {arr[j].item()!r} is not a class index in [0, {num_classes - 1}]. "
            f"Received: lf_classes={arr[:10].tolist()}"
        )
    return [int(k) for k in arr]


def check_multilabel_matrix(
    L: Any, num_lfs: int | None = None, *, what: str = "L"
) -> np.ndarray | sp.csc_matrix:
    """Validates a multi-label vote matrix (module doc): ``1`` present, ``0`` absent, ``-1``.

    Args:
        L: ``[N, m]`` votes (array-like), or a ``scipy.sparse`` matrix storing vote + 1
            (``1`` absent, ``2`` present; abstains not stored).
        num_lfs: the number of columns expected. Defaults to `None` (any).
        what: the argument's name in error messages. Defaults to `"L"`.

    Returns:
        A C-contiguous int32 array, or a ``scipy.sparse`` CSC matrix (int8 values) for sparse
        input.

    Raises:
        ValueError: not 2-D, wrong number of columns, or a value that is not a vote (the
            message names the row and the LF column).
        TypeError: non-integer votes.

    Example:
        >>> check_multilabel_matrix([[1, -1], [0, 2]])
        Traceback (most recent call last):
        ...
        ValueError: L: LF column 1 voted 2 at row 1; a multi-label vote is 1 (present), 0 (absent) or -1 (abstain). Received: 2
    """
    if sp.issparse(L):
        if L.ndim != 2:
            raise ValueError(f"{what} must be 2-D [N, m]. Received shape: {L.shape}")
        m = sp.csc_matrix(L, copy=True)  # a copy: eliminate_zeros works in place
        m.eliminate_zeros()
        data = m.data
        bad = np.flatnonzero(~np.isin(data, (1, 2)))
        if bad.size:
            k = int(bad[0])
            col = int(np.searchsorted(m.indptr, k, side="right") - 1)
            raise ValueError(
                f"{what}: a sparse multi-label matrix stores vote + 1 (1 absent, 2 present; "
                f"abstain not stored); LF column {col} holds {data[k].item()!r} at row "
                f"{int(m.indices[k])}. Received: {data[k].item()!r}"
            )
        out = sp.csc_matrix((data.astype(np.int8), m.indices, m.indptr), shape=m.shape)
    else:
        try:
            arr = np.asarray(L)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"{what} must be a rectangular array of votes ({exc}). "
                f"Received: {type(L).__name__}"
            ) from None
        if arr.ndim != 2:
            raise ValueError(f"{what} must be 2-D [N, m]. Received shape: {arr.shape}")
        if arr.dtype.kind not in "iub":
            if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
                pass
            else:
                raise TypeError(
                    f"{what} must hold integer votes. Received dtype: {arr.dtype}"
                )
        bad = (arr < -1) | (arr > 1)
        if bad.any():
            row, col = (int(i) for i in np.argwhere(bad)[0])
            v = arr[row, col].item()
            raise ValueError(
                f"{what}: LF column {col} voted {v!r} at row {row}; a multi-label vote is "
                f"1 (present), 0 (absent) or -1 (abstain). Received: {v!r}"
            )
        out = np.ascontiguousarray(arr, dtype=np.int32)
    if num_lfs is not None and out.shape[1] != num_lfs:
        raise ValueError(
            f"{what} must have one column per LF ({num_lfs}). "
            f"Received: {out.shape[1]} columns"
        )
    return out


def _columns(L: np.ndarray | sp.csc_matrix, cols: Sequence[int]) -> np.ndarray | sp.csr_matrix:
    """The sub-matrix of some LF columns, as a binary label matrix (sparse stays sparse)."""
    if sp.issparse(L):
        return L[:, list(cols)].tocsr()
    return np.ascontiguousarray(L[:, list(cols)])


def _votes(L: np.ndarray | sp.csr_matrix) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Sparse ``[N, k]`` indicators of present votes and of absent votes."""
    if sp.issparse(L):
        L = sp.csr_matrix(L)
        # Own copies of the index arrays: eliminate_zeros works in place.
        pres = sp.csr_matrix(
            ((L.data == 2).astype(np.float64), L.indices.copy(), L.indptr.copy()), L.shape
        )
        absn = sp.csr_matrix(
            ((L.data == 1).astype(np.float64), L.indices.copy(), L.indptr.copy()), L.shape
        )
        pres.eliminate_zeros()
        absn.eliminate_zeros()
        return pres, absn
    return sp.csr_matrix((L == PRESENT).astype(np.float64)), sp.csr_matrix(
        (L == ABSENT).astype(np.float64)
    )


def copy_groups(
    L: Any, *, threshold: float = 0.7, max_group_size: int = 6
) -> list[list[int]]:
    """Groups of near-copy LFs of one class: same vote on most rows where either votes.

    The share of a pair is ``#(rows where both cast the same vote) / #(rows where either
    votes)``; pairs at or above ``threshold`` are merged by union-find, strongest first, never
    past ``max_group_size`` (:func:`~tfsnorkel.labelmodel.structure.merge_groups`). The counts
    are sparse products, so the cost grows with the votes, not with ``N * k``.

    Args:
        L: ``[N, k]`` votes of one class's LFs (``1``, ``0``, ``-1``; or sparse, vote + 1).
        threshold: minimum share of a merged pair. Defaults to `0.7`.
        max_group_size: largest group. Defaults to `6`.

    Returns:
        Groups (sorted lists of two or more column indices).

    Example:
        >>> L = np.array([[1, 1, -1], [1, 1, 1], [-1, -1, 0], [0, 0, -1]])
        >>> copy_groups(L)
        [[0, 1]]
    """
    pres, absn = _votes(L)
    voted = pres + absn
    same = np.asarray((pres.T @ pres + absn.T @ absn).todense())
    both = np.asarray((voted.T @ voted).todense())
    n = np.diag(both)
    either = n[:, None] + n[None, :] - both
    share = np.where(either > 0, same / np.maximum(either, 1.0), 0.0)
    np.fill_diagonal(share, 0.0)
    # merge_groups merges pairs strictly above its threshold.
    return merge_groups(share, np.nextafter(threshold, -np.inf), max_group_size)


@keras.saving.register_keras_serializable(package="tfsnorkel")
class MultiLabelModel(keras.layers.Layer):
    """Multi-label label model as a Keras layer: votes ``[batch, m]`` to ``[batch, C]`` P(present).

    See the module doc for the encoding (each LF bound to one class, votes ``1`` present,
    ``0`` absent, ``-1`` abstain), the model (one binary class-conditional
    :class:`~tfsnorkel.labelmodel.LabelModel` per class, near-copies grouped) and the edge
    cases. ``call`` is pure TensorFlow (servable in a SavedModel); ``fit`` runs without gold
    labels, optionally anchored and tuned on a gold dev set.

    Args:
        num_classes: number of classes ``C`` (at least 2; a single class is a binary task).
        lf_classes: ``[m]`` the class each LF is bound to.
        dependencies: ``"auto"`` (near-copy groups, module doc; else the binary model's
            learned groups) or `None` (independent LFs). Defaults to `"auto"`.
        class_model: ``"auto"``, ``"em"`` or ``"one_coin"``: the binary model of each class
            (module doc, "Why two"). Defaults to `"auto"`.
        class_priors: ``[C]`` ``P(class present)`` to use instead of learning the priors.
            Defaults to `None`.
        copy_threshold: share of agreeing votes above which two LFs of a class are near-copies
            (:func:`copy_groups`). Defaults to `0.7`.
        max_group_size: largest group. Defaults to `6`.
        accuracy_prior: the binary models' ``accuracy_prior`` (Beta pseudo-counts right,
            wrong). Defaults to `(32.0, 8.0)`.
        abstain_model: the binary models' ``abstain_model``. Defaults to `"auto"`.
        co_abstain_weight: the binary models' ``co_abstain_weight``: how much an abstain counts
            where another LF of the class casts the same kind of vote (``None``: chosen on the
            dev set, else 0.5). Defaults to `1.0` (the exact likelihood: at 0.5, classes of
            detectors only drifted to priors of 0.999 on synthetic data whose oracle the exact
            likelihood reaches).
        min_accuracy: the binary models' ``min_accuracy``. Defaults to `None`.
        max_iter: EM iterations per class. Defaults to `300`.
        seed: seed of the binary models. Defaults to `0`.
        lf_names: names of the LFs (columns). Defaults to `None`.
        class_names: names of the classes. Defaults to `None`.
        fitted: what ``fit`` learned (per-class model configs, priors, how each class is
            modelled), carried by :meth:`get_config` so that ``from_config`` rebuilds the
            fitted structure. Defaults to `None`.

    Example:
        >>> L = np.array([[1, 1, -1, 0], [0, -1, 0, 1], [1, 1, 1, -1], [-1, 0, 0, 1]] * 30)
        >>> lm = MultiLabelModel(2, lf_classes=[0, 0, 0, 1]).fit(L)
        >>> lm.predict_proba(np.array([[1, 1, 1, -1]])).round(2).shape
        (1, 2)
    """

    def __init__(
        self,
        num_classes: int,
        lf_classes: Sequence[int],
        *,
        dependencies: str | None = "auto",
        class_model: str = "auto",
        class_priors: Sequence[float] | None = None,
        copy_threshold: float = 0.7,
        max_group_size: int = 6,
        accuracy_prior: Sequence[float] = (32.0, 8.0),
        abstain_model: str = "auto",
        co_abstain_weight: float | None = 1.0,
        min_accuracy: float | None = None,
        max_iter: int = 300,
        seed: int = 0,
        lf_names: Sequence[str] | None = None,
        class_names: Sequence[str] | None = None,
        fitted: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.num_classes = _check_num_classes(num_classes)
        self.lf_classes = _check_lf_classes(lf_classes, self.num_classes)
        if dependencies not in ("auto", None):
            raise ValueError(
                f"dependencies must be 'auto' or None. Received: dependencies={dependencies!r}"
            )
        self.dependencies = dependencies
        if class_model not in _CLASS_MODELS:
            raise ValueError(
                f"class_model must be one of {list(_CLASS_MODELS)}. "
                f"Received: class_model={class_model!r}"
            )
        self.class_model = class_model
        if class_priors is not None:
            cp = np.asarray(class_priors, dtype=float)
            if cp.shape != (self.num_classes,) or np.any(cp <= 0) or np.any(cp >= 1):
                raise ValueError(
                    f"class_priors must be {self.num_classes} probabilities in (0, 1). "
                    f"Received: class_priors={list(class_priors)!r}"
                )
            class_priors = [float(x) for x in cp]
        self.class_priors = class_priors
        if not 0.0 < float(copy_threshold) <= 1.0:
            raise ValueError(
                f"copy_threshold must be in (0, 1]. Received: copy_threshold={copy_threshold!r}"
            )
        self.copy_threshold = float(copy_threshold)
        if not isinstance(max_group_size, (int, np.integer)) or max_group_size < 1:
            raise ValueError(
                f"max_group_size must be a positive integer. Received: max_group_size={max_group_size!r}"
            )
        self.max_group_size = int(max_group_size)
        prior = np.asarray(accuracy_prior, dtype=float).ravel()
        if prior.shape != (2,) or not np.all(np.isfinite(prior)) or np.any(prior <= 0):
            raise ValueError(
                "accuracy_prior must be two positive pseudo-counts (right, wrong). "
                f"Received: accuracy_prior={accuracy_prior!r}"
            )
        self.accuracy_prior = [float(x) for x in prior]
        self.abstain_model = abstain_model
        self.co_abstain_weight = None if co_abstain_weight is None else float(co_abstain_weight)
        self.min_accuracy = None if min_accuracy is None else float(min_accuracy)
        self.max_iter = int(max_iter)
        self.seed = int(seed)
        m = len(self.lf_classes)
        if lf_names is not None and len(lf_names) != m:
            raise ValueError(
                f"lf_names needs one name per LF ({m}). Received: {len(lf_names)} names"
            )
        self.lf_names = None if lf_names is None else [str(n) for n in lf_names]
        if class_names is not None and len(class_names) != self.num_classes:
            raise ValueError(
                f"class_names needs one name per class ({self.num_classes}). "
                f"Received: {len(class_names)} names"
            )
        self.class_names = None if class_names is None else [str(n) for n in class_names]
        # Checked once here: a bad option fails at construction, not in the middle of fit.
        self._binary_model(0, 3)
        self.fitted = None
        self.class_models: list[LabelModel] = []
        if fitted is not None:
            self._restore(fitted)

    # ------------------------------------------------------------------ structure
    def _binary_model(self, c: int, k: int, **extra: Any) -> LabelModel:
        prior = self.class_priors
        return LabelModel(
            2,
            dependencies=extra.pop("dependencies", "auto" if self.dependencies else None),
            class_balance=None if prior is None else [1.0 - prior[c], prior[c]],
            max_group_size=self.max_group_size,
            seed=self.seed,
            max_iter=self.max_iter,
            accuracy_prior=self.accuracy_prior,
            abstain_model=self.abstain_model,
            co_abstain_weight=self.co_abstain_weight,
            min_accuracy=self.min_accuracy,
            name=f"class_{c}",
            **extra,
        )

    def _restore(self, fitted: dict[str, Any]) -> None:
        self.fitted = {
            "modes": [str(x) for x in fitted["modes"]],
            "priors": [float(x) for x in fitted["priors"]],
            "silent": [float(x) for x in fitted["silent"]],
            "models": [dict(cfg) for cfg in fitted["models"]],
        }
        if len(self.fitted["modes"]) != self.num_classes:
            raise ValueError(
                f"fitted needs one mode per class ({self.num_classes}). "
                f"Received: {self.fitted['modes']}"
            )
        self.class_models = [LabelModel.from_config(cfg) for cfg in self.fitted["models"]]
        self._modelled = [c for c, mode in enumerate(self.fitted["modes"]) if mode != "prior"]
        if len(self._modelled) != len(self.class_models):
            raise ValueError(
                f"fitted has {len(self.class_models)} class models for {len(self._modelled)} "
                f"modelled classes. Received: modes={self.fitted['modes']}"
            )
        self.built = True

    def _class_columns(self, c: int) -> list[int]:
        return [j for j, k in enumerate(self.lf_classes) if k == c]

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        L: Any,
        L_dev: Any = None,
        Y_dev: Any = None,
    ) -> MultiLabelModel:
        """Learns per-class priors, LF tables and near-copy groups, without gold labels.

        Args:
            L: ``[N, m]`` votes (``1`` present, ``0`` absent, ``-1`` abstain), or a
                ``scipy.sparse`` matrix storing vote + 1.
            L_dev: ``[N_dev, m]`` votes of a small gold dev set. Defaults to `None`.
            Y_dev: ``[N_dev, C]`` gold 0/1 presence of each class on the dev rows; with
                ``L_dev``, each class's binary model is anchored and tuned on it, and the
                priors of classes without evidence come from it. Defaults to `None`.

        Returns:
            ``self``.

        Raises:
            ValueError: malformed matrices (the message names the argument, row and column),
                a dev set without its gold labels, or a model that is already fitted.
        """
        if self.fitted is not None:
            raise ValueError(
                "this MultiLabelModel is already fitted; create a new one to fit again. "
                f"Received: a fitted model with classes {self.fitted['modes']}"
            )
        m = len(self.lf_classes)
        L = check_multilabel_matrix(L, m, what="L")
        if L.shape[0] == 0:
            raise ValueError("cannot fit a MultiLabelModel on an empty matrix. Received: 0 rows")
        if (L_dev is None) != (Y_dev is None):
            raise ValueError(
                "L_dev and Y_dev go together (votes and gold labels of the same dev rows). "
                f"Received: L_dev={'given' if L_dev is not None else None}, "
                f"Y_dev={'given' if Y_dev is not None else None}"
            )
        Yd = None
        if L_dev is not None:
            L_dev = check_multilabel_matrix(L_dev, m, what="L_dev")
            Yd = np.asarray(Y_dev)
            if Yd.shape != (L_dev.shape[0], self.num_classes):
                raise ValueError(
                    f"Y_dev must be [N_dev, C] = [{L_dev.shape[0]}, {self.num_classes}]. "
                    f"Received shape: {Yd.shape}"
                )
            if not np.all(np.isin(Yd, (0, 1))):
                raise ValueError(
                    "Y_dev must hold 0 (absent) or 1 (present). "
                    f"Received values: {np.unique(Yd)[:10].tolist()}"
                )
            Yd = Yd.astype(np.int64)
            if sp.issparse(L_dev):
                L_dev = _dense_votes(L_dev)
        modes: list[str] = []
        priors = np.full(self.num_classes, np.nan)
        silent = np.full(self.num_classes, np.nan)
        models: list[LabelModel] = []
        for c in range(self.num_classes):
            cols = self._class_columns(c)
            sub = _columns(L, cols) if cols else None
            if sub is None or not _any_vote(sub):
                modes.append("prior")
                continue
            dev = None if L_dev is None else (L_dev[:, cols], Yd[:, c])
            mode = self._class_mode(sub, dev)
            one_coin = self._one_coin_model(c, sub, dev)
            if mode == "auto":
                # Per-class selection on the gold dev rows (log loss of P(present)), the EM
                # fitted without them (anchored on them, it would score itself on its own
                # training rows).
                em = self._em_model(c, sub, None)
                losses = [_log_loss(model, dev) for model in (em, one_coin)]
                mode = "em" if losses[0] <= losses[1] else "one_coin"
                if mode == "em":
                    em = self._em_model(c, sub, dev)
            elif mode == "em":
                em = self._em_model(c, sub, dev)
            else:
                mode = "one_coin" if mode in ("auto", "one_coin") else mode
            model = em if mode == "em" else one_coin
            modes.append(mode)
            models.append(model)
            # The EM's class balance; a one-coin model's mean P(present) over the fitted rows.
            priors[c] = (
                float(model.class_balance_.iloc[1])
                if mode == "em"
                else float(model.predict_proba(sub)[:, 1].mean())
            )
            silent[c] = float(model.predict_proba(np.full((1, len(cols)), -1, np.int32))[0, 1])
        for c in np.flatnonzero(np.isnan(priors)):
            priors[c] = silent[c] = self._no_evidence_prior(int(c), priors, Yd)
        self.fitted = {
            "modes": modes,
            "priors": [float(p) for p in priors],
            "silent": [float(p) for p in silent],
            "models": [model.get_config() for model in models],
        }
        self.class_models = models
        self._modelled = [c for c, mode in enumerate(modes) if mode != "prior"]
        self.built = True
        return self

    def _class_mode(self, sub: Any, dev: Any) -> str:
        """``"em"``, ``"one_coin"``, or ``"auto"`` (selection on the dev set) for one class."""
        if self.class_model != "auto":
            if self.class_model == "em" and sub.shape[1] < _MIN_EM_LFS:
                return "one_coin"
            return self.class_model
        if sub.shape[1] < _MIN_EM_LFS:
            return "one_coin"
        if dev is not None:
            return "auto"
        return "em" if _bipolar(sub) else "one_coin"

    def _em_model(self, c: int, sub: Any, dev: Any) -> LabelModel:
        """The binary class-conditional EM of one class (near-copies grouped)."""
        extra: dict[str, Any] = {}
        if self.dependencies == "auto":
            groups = copy_groups(sub, threshold=self.copy_threshold, max_group_size=self.max_group_size)
            if groups:
                extra["dependencies"] = groups
        model = self._binary_model(c, sub.shape[1], **extra)
        cols = self._class_columns(c)
        names = None if self.lf_names is None else [self.lf_names[j] for j in cols]
        if dev is None:
            return model.fit(sub, lf_names=names)
        return model.fit(sub, dev[0], dev[1], lf_names=names)

    def _no_evidence_prior(self, c: int, priors: np.ndarray, Yd: np.ndarray | None) -> float:
        """The prior of a class without evidence (module doc: given, dev set, mean, 0.5)."""
        if self.class_priors is not None:
            return float(self.class_priors[c])
        if Yd is not None:
            return float((Yd[:, c].sum() + 1.0) / (len(Yd) + 2.0))
        learned = priors[~np.isnan(priors)]
        return float(learned.mean()) if learned.size else 0.5

    def _one_coin_model(
        self, c: int, sub: Any, dev: tuple[np.ndarray, np.ndarray] | None
    ) -> LabelModel:
        """The one-coin model of one class (module doc), held in a LabelModel layer."""
        L = _dense_votes(sub) if sp.issparse(sub) else sub
        k = L.shape[1]
        a0, b0 = self.accuracy_prior
        mean = a0 / (a0 + b0)
        acc = np.full(k, mean)
        silent = 1.0 - mean
        if self.class_priors is not None:
            silent = float(self.class_priors[c])
        if dev is not None:
            Ld, yd = dev
            voted = Ld >= 0
            right = (voted & (Ld == yd[:, None])).sum(0)
            acc = (right + a0) / (voted.sum(0) + a0 + b0)
            quiet = ~voted.any(1)
            # Beta prior worth 2 rows centred on the no-dev value.
            silent = float((yd[quiet].sum() + 2.0 * silent) / (quiet.sum() + 2.0))
        acc = np.clip(acc, 0.5 + 1e-3, 1 - 1e-6)
        groups: list[list[int]] = []
        if self.dependencies == "auto":
            # Near-copies count once: each member's vote carries 1/|group| of its log-odds.
            groups = copy_groups(sub, threshold=self.copy_threshold,
                                 max_group_size=self.max_group_size)
            for g in groups:
                logit = np.log(acc[g]) - np.log1p(-acc[g])
                acc[g] = 1.0 / (1.0 + np.exp(-logit / len(g)))
        silent = float(np.clip(silent, 1e-6, 1 - 1e-6))
        prop = np.clip((L >= 0).mean(0), 1e-6, 1 - 1e-6)
        tables = np.empty((k, 2, 3))
        tables[:, :, 0] = (1 - prop)[:, None]
        for y in (0, 1):
            tables[:, y, 1 + y] = prop * acc
            tables[:, y, 2 - y] = prop * (1 - acc)
        # The copy groups are recorded (``dependencies``) but not modelled jointly: ``call``
        # reads the tempered tables only.
        model = LabelModel(
            2, dependencies=groups or None, num_lfs=k, groups=[], group_patterns=[],
            fitted_choices={"abstain_model": "independent", "co_abstain_weight": 1.0},
            num_full_columns=0,  # two classes: every vote column is a constant plus one class
            lf_names=None if self.lf_names is None else [
                self.lf_names[j] for j in self._class_columns(c)
            ],
            name=f"class_{c}",
        )
        model.log_class_balance.assign(np.log([1.0 - silent, silent]).astype(np.float32))
        model.log_vote_prior.assign(np.log([0.5, 0.5]).astype(np.float32))
        model.set_vote_tables(np.log(tables))
        return model

    # ------------------------------------------------------------------ inference
    def _check_fitted(self) -> None:
        if self.fitted is None:
            raise ValueError("this MultiLabelModel is not fitted yet; call fit(L) first")

    def build(self, input_shape: Any) -> None:
        self._check_fitted()
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return (input_shape[0], self.num_classes)

    def call(self, L: Any) -> tf.Tensor:
        """``[batch, C]`` float32 ``P(class present | votes)`` for int votes ``[batch, m]``.

        Votes other than ``1``, ``0``, ``-1`` are treated as abstains here;
        :meth:`predict_proba` validates and names them instead.
        """
        self._check_fitted()
        with tf.name_scope("multilabel_model"):
            L = tf.convert_to_tensor(L)
            if L.dtype.is_floating or L.dtype.size > 4 or L.dtype == tf.uint32:
                L = tf.cast(L, tf.float64) if L.dtype.is_floating else tf.cast(L, tf.int64)
                bad = (L < -1) | (L > 1)
                if L.dtype.is_floating:
                    bad = bad | tf.not_equal(L, tf.round(L))
                L = tf.where(bad, tf.constant(-1, L.dtype), L)
            L = tf.cast(L, tf.int32)
            L = tf.where((L < -1) | (L > 1), tf.fill(tf.shape(L), -1), L)
            n = tf.shape(L)[0]
            models = dict(zip(self._modelled, self.class_models))
            columns = []
            for c in range(self.num_classes):
                if c in models:
                    sub = tf.gather(L, self._class_columns(c), axis=1)
                    columns.append(tf.cast(models[c](sub)[:, 1], tf.float32))
                else:
                    columns.append(tf.fill([n], tf.constant(self.fitted["priors"][c], tf.float32)))
            return tf.stack(columns, axis=1)

    def predict_proba(self, L: Any, batch_size: int = 65536) -> np.ndarray:
        """``[N, C]`` float32 probabilities that each class is present (columns independent).

        Args:
            L: ``[N, m]`` votes (validated), or a ``scipy.sparse`` matrix storing vote + 1;
                a sparse matrix is scored one class's columns at a time.
            batch_size: rows per call of each class's model. Defaults to `65536`.

        Returns:
            ``[N, C]`` float32 probabilities.
        """
        self._check_fitted()
        L = check_multilabel_matrix(L, len(self.lf_classes), what="L")
        n = L.shape[0]
        out = np.empty((n, self.num_classes), np.float32)
        models = dict(zip(self._modelled, self.class_models))
        for c in range(self.num_classes):
            if c in models:
                sub = _columns(L, self._class_columns(c))
                out[:, c] = models[c].predict_proba(sub, batch_size=batch_size)[:, 1]
            else:
                out[:, c] = self.fitted["priors"][c]
        return out

    def predict(self, L: Any, threshold: float = 0.5) -> np.ndarray:
        """``[N, C]`` int32 0/1 predictions: ``predict_proba(L) >= threshold``.

        Args:
            L: ``[N, m]`` votes.
            threshold: probability at or above which a class is predicted present.
                Defaults to `0.5`.

        Returns:
            ``[N, C]`` int32.
        """
        return (self.predict_proba(L) >= threshold).astype(np.int32)

    # ------------------------------------------------------------------ tables
    @property
    def class_priors_(self) -> pd.Series:
        """``P(class present)`` per class: learned, given, or the no-evidence rule (module doc)."""
        self._check_fitted()
        return pd.Series(
            self.fitted["priors"],
            index=pd.Index(self.class_names or range(self.num_classes), name="class"),
            name="prior",
        )

    def class_table(self) -> pd.DataFrame:
        """Per class: prior, silence probability, number of LFs, model, groups of LF columns.

        ``prior`` is ``P(present)`` (:attr:`class_priors_`); ``silent`` is the probability of a
        row where no LF of the class votes; ``model`` is ``"em"`` (binary class-conditional
        EM), ``"one_coin"`` or ``"prior"`` (no evidence: the probability is always the prior).
        """
        self._check_fitted()
        models = dict(zip(self._modelled, self.class_models))
        groups = []
        for c in range(self.num_classes):
            cols = self._class_columns(c)
            groups.append(
                [[cols[i] for i in g] for g in _class_groups(models[c])] if c in models else []
            )
        return pd.DataFrame(
            {
                "prior": self.fitted["priors"],
                "silent": self.fitted["silent"],
                "num_lfs": [len(self._class_columns(c)) for c in range(self.num_classes)],
                "model": self.fitted["modes"],
                "groups": groups,
            },
            index=pd.Index(self.class_names or range(self.num_classes), name="class"),
        )

    def lf_table(self) -> pd.DataFrame:
        """Per LF: its class and class-conditional vote probabilities under the fitted model.

        Columns: ``class``; ``present_given_present`` ``P(vote present | present)``;
        ``absent_given_absent`` ``P(vote absent | absent)``; ``present_given_absent`` and
        ``absent_given_present`` (the errors); ``abstain_given_present`` and
        ``abstain_given_absent``; ``group`` (index of its group within its class, or -1).
        LFs of a class without evidence get NaN.
        """
        self._check_fitted()
        m = len(self.lf_classes)
        t = np.full((m, 2, 3), np.nan)
        group = np.full(m, -1)
        for c, model in zip(self._modelled, self.class_models):
            cols = self._class_columns(c)
            t[cols] = np.exp(model.vote_tables().dense())
            for i, g in enumerate(_class_groups(model)):
                group[[cols[x] for x in g]] = i
        return pd.DataFrame(
            {
                "class": self.lf_classes,
                "present_given_present": t[:, 1, 2],
                "absent_given_absent": t[:, 0, 1],
                "present_given_absent": t[:, 0, 2],
                "absent_given_present": t[:, 1, 1],
                "abstain_given_present": t[:, 1, 0],
                "abstain_given_absent": t[:, 0, 0],
                "group": group,
            },
            index=pd.Index(self.lf_names or range(m), name="lf"),
        )

    # ------------------------------------------------------------------ config, saving
    def get_config(self) -> dict[str, Any]:
        if self.fitted is not None:
            # The sub-models' configs as they are now (weights travel separately).
            self.fitted["models"] = [model.get_config() for model in self.class_models]
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "lf_classes": self.lf_classes,
            "dependencies": self.dependencies,
            "class_model": self.class_model,
            "class_priors": self.class_priors,
            "copy_threshold": self.copy_threshold,
            "max_group_size": self.max_group_size,
            "accuracy_prior": self.accuracy_prior,
            "abstain_model": self.abstain_model,
            "co_abstain_weight": self.co_abstain_weight,
            "min_accuracy": self.min_accuracy,
            "max_iter": self.max_iter,
            "seed": self.seed,
            "lf_names": self.lf_names,
            "class_names": self.class_names,
            "fitted": self.fitted,
        }

    def save(self, path: str | os.PathLike) -> None:
        """Saves the fitted model in Keras's ``.keras`` format, atomically.

        Args:
            path: destination ending in ``.keras``.
        """
        self._check_fitted()
        from tfsnorkel.outputs import atomic_path

        model = keras.Sequential(
            [keras.Input(shape=(len(self.lf_classes),), dtype="int32"), self]
        )
        with atomic_path(path) as tmp:
            model.save(os.fspath(tmp))

    @classmethod
    def load(cls, path: str | os.PathLike) -> MultiLabelModel:
        """Loads a model written by :meth:`save`.

        Args:
            path: a ``.keras`` file.

        Returns:
            The fitted :class:`MultiLabelModel`.

        Raises:
            LabelModelLoadError: the file is missing, corrupted, or holds no MultiLabelModel.
        """
        path = os.fspath(path)
        if not os.path.isfile(path) or not zipfile.is_zipfile(path):
            raise LabelModelLoadError(
                "could not read a saved MultiLabelModel: no such file, or not a .keras archive. "
                f"Received: path={path!r}"
            )
        try:
            model = keras.saving.load_model(path, compile=False)
        except Exception as e:
            raise LabelModelLoadError(
                f"could not read a saved MultiLabelModel ({type(e).__name__}: {e}). "
                f"Received: path={path!r}"
            ) from e
        layers = [x for x in getattr(model, "layers", []) if isinstance(x, MultiLabelModel)]
        if not layers:
            raise LabelModelLoadError(
                f"the file holds no MultiLabelModel layer. Received: path={path!r}"
            )
        return layers[0]


def _class_groups(model: LabelModel) -> list[list[int]]:
    """A class model's groups: the EM's modelled groups, or a one-coin model's copy groups."""
    if model.groups:
        return [list(g) for g in model.groups]
    return [list(g) for g in model.dependencies] if isinstance(model.dependencies, list) else []


def _any_vote(sub: Any) -> bool:
    return bool(sub.nnz) if sp.issparse(sub) else bool((sub >= 0).any())


def _bipolar(sub: Any) -> bool:
    """Whether at least two LFs of a class vote present and at least two vote absent."""
    if sp.issparse(sub):
        sub = sp.csc_matrix(sub)
        present = np.asarray((sub == 2).sum(0)).ravel()
        absent = np.asarray((sub == 1).sum(0)).ravel()
    else:
        present, absent = (sub == PRESENT).sum(0), (sub == ABSENT).sum(0)
    return bool((present > 0).sum() >= 2 and (absent > 0).sum() >= 2)


def _log_loss(model: LabelModel, dev: tuple[np.ndarray, np.ndarray]) -> float:
    p = np.clip(model.predict_proba(dev[0])[:, 1].astype(np.float64), 1e-6, 1 - 1e-6)
    y = dev[1]
    return float(-(y * np.log(p) + (1 - y) * np.log1p(-p)).mean())


def _dense_votes(L: sp.spmatrix) -> np.ndarray:
    """Dense ``1 / 0 / -1`` votes of a sparse matrix storing vote + 1 (not stored = abstain)."""
    return np.asarray(L.toarray(), dtype=np.int32) - 1
