"""The label model as a Keras layer: the fitted parameters as weights, ``call`` in TF ops.

The generative model and its EM are in :mod:`~tfsnorkel.labelmodel.em`, how a fit
combines them (class balance, dependency structure, gold dev rows) in
:mod:`~tfsnorkel.labelmodel.fitting`, and the learning of dependencies in
:mod:`~tfsnorkel.labelmodel.structure`. This module holds :class:`LabelModel`: its
constructor arguments, its weights, ``call``, ``fit`` (input checks, then
:func:`~tfsnorkel.labelmodel.fitting.fit_parameters`), the tables of learned state, and
``.keras`` saving.

The layer holds both priors (``log_vote_prior`` for rows with a vote, ``log_class_balance``
for rows without), so that ``call`` is one formula for every case.

Example:
    >>> from tfsnorkel.labelmodel import synthetic_label_matrix
    >>> d = synthetic_label_matrix(2000, num_lfs=6, seed=0)
    >>> lm = LabelModel(cardinality=2).fit(d.L)
    >>> lm.predict_proba(d.L[:3]).shape
    (3, 2)
"""

from __future__ import annotations

import math
import os
import zipfile
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import pandas as pd
import scipy.sparse as sp
import tensorflow as tf

from tfsnorkel.labelmodel.fitting import (
    FitSettings,
    FittedParameters,
    fit_parameters,
    sparse_vote_batches,
    to_stats,
    with_copies,
    without_copies,
)
from tfsnorkel.labelmodel.selection import (
    ABSTAIN_MODELS,
    CO_ABSTAIN_WEIGHTS,
    candidate_settings,
    score_candidates,
)
from tfsnorkel.labelmodel.stats import LabelStats
from tfsnorkel.labelmodel.tables import VoteTables
from tfsnorkel.labels import TieBreak, check_label_matrix, probs_to_preds

__all__ = ["LabelModel", "LabelModelLoadError", "learn_structure"]
_ABSTAIN_MODELS = ("auto", "class_conditional", "independent")
#: Co-abstention weight without a gold dev set (module doc of :mod:`~tfsnorkel.labelmodel.em`).
_DEFAULT_CO_ABSTAIN = 0.5
#: Largest ``[rows, m, C]`` tensor (floats) one ``call`` of :meth:`LabelModel.predict_proba` builds.
_CALL_FLOATS = 1 << 24


class LabelModelLoadError(ValueError):
    """A file could not be read as a saved :class:`LabelModel`."""


def learn_structure(
    L: np.ndarray | LabelStats,
    cardinality: int = 2,
    *,
    max_group_size: int = 6,
    threshold: float = 0.1,
) -> list[list[int]]:
    """Learns groups of dependent LFs from an unlabeled label matrix.

    Finds exact copies (:func:`~tfsnorkel.labelmodel.structure.copy_columns`), fits a
    conditionally independent :class:`LabelModel` on the other columns, scores every LF pair
    with :func:`~tfsnorkel.labelmodel.structure.pair_scores` and merges pairs above
    ``threshold`` by union-find up to ``max_group_size``; each set of copies is returned as a
    group too.

    Args:
        L: ``[N, m]`` label matrix or its :class:`LabelStats`.
        cardinality: number of classes. Defaults to `2`.
        max_group_size: largest group. Defaults to `6`.
        threshold: minimum pair divergence (nats). Defaults to `0.1`.

    Returns:
        Groups (lists of two or more column indices).

    Example:
        >>> from tfsnorkel.labelmodel import synthetic_label_matrix
        >>> d = synthetic_label_matrix(20000, num_lfs=5, copies={0: 2}, seed=0)
        >>> learn_structure(d.L)
        [[0, 5, 6]]
    """
    lm = LabelModel(
        cardinality,
        dependencies="auto",
        max_group_size=max_group_size,
        structure_threshold=threshold,
    )
    return lm.fit(L).dependencies_


@keras.saving.register_keras_serializable(package="tfsnorkel")
class LabelModel(keras.layers.Layer):
    """Label model as a Keras layer: ``call(L)`` maps int32 votes ``[batch, m]`` to soft labels.

    The weights are the learned parameters (non-trainable): ``log_class_balance`` ``[C]`` (the
    prior of rows without a vote), ``log_vote_prior`` ``[C]`` (the prior of rows with a vote:
    the class balance, or uniform when one-coin LFs cannot identify it, see the module doc),
    the LF tables in ``O(m * C)`` (:class:`~tfsnorkel.labelmodel.tables.VoteTables`:
    ``lf_log_abstain`` ``[m, C]`` ``log P(abstain | y)``; ``lf_log_off`` / ``lf_log_diag``
    ``[m, C]``, with ``log P(vote = v | y) = off[j, v] + [y == v] diag[j, v]``; the sorted
    ``lf_full_columns`` ``j * C + v`` not of that form with their ``lf_full_log_probs``
    ``[V, C]``; :meth:`vote_tables` returns them, ``.dense()`` the ``[m, C, C + 1]`` array) and,
    per dependent group, the sorted codes of its observed vote patterns with their
    ``log P(pattern | y)`` (unseen patterns fall back to the product of the members' tables).
    ``call`` is pure TensorFlow (exportable in a SavedModel, no ``numpy_function``); ``fit``
    runs exact MAP-EM over unique rows (measured against Adam steps on the same objective:
    same optimum, EM 2x faster and without a learning rate; benchmarks/RESULTS_label_model.md).

    Args:
        cardinality: number of classes ``C``. Defaults to `2`.
        dependencies: ``"auto"`` (learn groups of dependent LFs), `None` (independent LFs)
            or a list of groups (lists of column indices). Defaults to `"auto"`.
        class_balance: ``[C]`` class prior to use instead of estimating it. Defaults to `None`.
        max_group_size: largest learned group. Defaults to `6`.
        seed: seed for random tie breaks in :meth:`predict`. Defaults to `0`.
        max_iter: EM iterations. Defaults to `300`.
        tol: stop when the mean log-likelihood changes less than this. Defaults to `1e-7`.
        accuracy_prior: Beta pseudo-counts ``(right, wrong)`` on each LF's accuracy (MAP-EM);
            for class-conditional tables, the weight and mean of their Dirichlet prior (module
            doc). Defaults to `(32.0, 8.0)` (mean 0.8, weight of 40 votes; measured best on
            WRENCH trec).
        min_accuracy: accuracy floor; `None` means ``1/C + 0.05`` (better than random). For
            class-conditional tables it caps ``P(v | y = w) / P(v | y = v)``.
        structure_threshold: pair divergence (nats) above which LFs are grouped (near-copies
            score 0.2 and more; independent LFs about 0.002, real unipolar LF sets up to
            0.05). Defaults to `0.1`.
        balance_rounds: accepted so that configs saved before the joint balance fit load;
            unused (the balance is now learned inside the EM). Defaults to `10`.
        anchor_dev: when ``fit`` gets a gold dev set, its rows join the EM with their
            posterior held at the gold label (besides setting the class balance).
            Defaults to `True`.
        abstain_model: ``"class_conditional"`` (an abstain is an outcome of each LF's
            ``P(vote | y)`` table, hence evidence), ``"independent"`` (one-coin: propensity
            independent of ``y``, an abstain is no evidence) or ``"auto"``: chosen on the gold
            dev set when ``fit`` gets one (:mod:`~tfsnorkel.labelmodel.selection`), else both
            are fitted and the one with the lower BIC on the covered rows' votes is kept
            (:func:`~tfsnorkel.labelmodel.fitting.select_abstain_model`; the table is kept as
            ``selection_``). Only ``fit`` reads it; ``call`` and the saved weights are the
            same for both. Defaults to `"auto"`.
        co_abstain_weight: weight in ``[0, 1]`` of an LF's abstain in rows where another LF of
            its class votes (class-conditional form with unipolar LFs only; elsewhere every
            abstain counts fully, as with `1.0`), or `None`: chosen on the gold dev set when
            ``fit`` gets one, else `0.5` (:mod:`~tfsnorkel.labelmodel.em`). Defaults to `None`.
        fitted_choices: what ``fit`` chose (``{"abstain_model": ..., "co_abstain_weight":
            ...}``), carried by :meth:`get_config`; ``call`` uses its co-abstention weight.
        lf_names: the names of the LFs the model was fitted on (``fit(..., lf_names=)``),
            checked by :meth:`check_lfs`. Defaults to `None`.
        num_lfs, groups, group_patterns, lf_classes, num_full_columns: the learned
            structure (``lf_classes``: the class each LF votes, -1 if none, when abstains are
            discounted, else `None`; ``num_full_columns``: how many vote columns have a table
            of their own), filled by :meth:`fit` and carried by :meth:`get_config` so that
            ``from_config`` rebuilds the same model. ``copy_of``: for each LF that is an
            exact copy of an earlier one on every training row, that LF's column (-1
            elsewhere), or `None`: a copy has no tables of its own, its vote is read where its
            original abstains and otherwise ignored, so its evidence counts once
            (:func:`~tfsnorkel.labelmodel.structure.copy_columns`). A config without ``num_full_columns``
            (written before the ``O(m * C)`` tables) loads its dense ``lf_log_probs`` weight
            and converts it exactly.

    Example:
        >>> L = np.array([[0, 0, 1], [1, 1, 1], [0, -1, 0], [1, 1, -1]] * 50)
        >>> lm = LabelModel(cardinality=2, dependencies=None).fit(L)
        >>> lm.predict(np.array([[1, 1, 1]])).tolist()
        [1]
    """

    def __init__(
        self,
        cardinality: int = 2,
        dependencies: str | Sequence[Sequence[int]] | None = "auto",
        *,
        class_balance: Sequence[float] | None = None,
        max_group_size: int = 6,
        seed: int = 0,
        max_iter: int = 300,
        tol: float = 1e-7,
        accuracy_prior: Sequence[float] = (32.0, 8.0),
        min_accuracy: float | None = None,
        structure_threshold: float = 0.1,
        balance_rounds: int = 10,
        anchor_dev: bool = True,
        abstain_model: str = "auto",
        num_lfs: int | None = None,
        groups: Sequence[Sequence[int]] | None = None,
        group_patterns: Sequence[int] | None = None,
        co_abstain_weight: float | None = None,
        lf_classes: Sequence[int] | None = None,
        lf_names: Sequence[str] | None = None,
        fitted_choices: dict[str, Any] | None = None,
        num_full_columns: int | None = None,
        copy_of: Sequence[int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (
            not isinstance(cardinality, (int, np.integer))
            or isinstance(cardinality, bool)
            or cardinality < 2
        ):
            raise ValueError(
                f"cardinality must be an integer >= 2. Received: cardinality={cardinality!r}"
            )
        if not (
            dependencies is None
            or dependencies == "auto"
            or isinstance(dependencies, (list, tuple))
        ):
            raise ValueError(
                "dependencies must be 'auto', None or a list of groups of column indices. "
                f"Received: dependencies={dependencies!r}"
            )
        if not isinstance(max_group_size, (int, np.integer)) or max_group_size < 1:
            raise ValueError(
                "max_group_size must be a positive integer. "
                f"Received: max_group_size={max_group_size!r}"
            )
        self.cardinality = int(cardinality)
        self.dependencies = (
            dependencies
            if not isinstance(dependencies, (list, tuple))
            else [sorted(int(j) for j in g) for g in dependencies]
        )
        self.class_balance = None if class_balance is None else [float(x) for x in class_balance]
        if self.class_balance is not None:
            cb = np.asarray(self.class_balance)
            if cb.shape != (self.cardinality,) or np.any(cb < 0) or not np.isclose(cb.sum(), 1.0):
                raise ValueError(
                    f"class_balance must be {self.cardinality} non-negative numbers summing to 1. "
                    f"Received: class_balance={self.class_balance}"
                )
        self.max_group_size = int(max_group_size)
        prior = np.asarray(accuracy_prior, dtype=float).ravel()
        if prior.shape != (2,) or not np.all(np.isfinite(prior)) or np.any(prior <= 0):
            raise ValueError(
                "accuracy_prior must be two positive pseudo-counts (right, wrong). "
                f"Received: accuracy_prior={accuracy_prior!r}"
            )
        if min_accuracy is not None and not (
            isinstance(min_accuracy, (int, float, np.floating))
            and 1.0 / self.cardinality <= float(min_accuracy) < 1.0
        ):
            raise ValueError(
                f"min_accuracy must be None or a number in [1/C, 1) = [{1 / self.cardinality:.3g}, "
                f"1). Received: min_accuracy={min_accuracy!r}"
            )
        self.seed = int(seed)
        self.max_iter = int(max_iter)
        self.tol = float(tol)
        self.accuracy_prior = [float(x) for x in accuracy_prior]
        self.min_accuracy = min_accuracy
        self.structure_threshold = float(structure_threshold)
        self.balance_rounds = int(balance_rounds)
        self.anchor_dev = bool(anchor_dev)
        if abstain_model not in _ABSTAIN_MODELS:
            raise ValueError(
                f"abstain_model must be one of {list(_ABSTAIN_MODELS)}. "
                f"Received: abstain_model={abstain_model!r}"
            )
        self.abstain_model = abstain_model
        if co_abstain_weight is not None and not (
            isinstance(co_abstain_weight, (int, float, np.number))
            and 0.0 <= float(co_abstain_weight) <= 1.0
        ):
            raise ValueError(
                "co_abstain_weight must be None or in [0, 1]. "
                f"Received: co_abstain_weight={co_abstain_weight!r}"
            )
        self.co_abstain_weight = None if co_abstain_weight is None else float(co_abstain_weight)
        self.fitted_choices = None if fitted_choices is None else dict(fitted_choices)
        self.selection_: pd.DataFrame | None = None
        self.num_lfs = None if num_lfs is None else int(num_lfs)
        self.groups = [list(map(int, g)) for g in groups] if groups else []
        self.group_patterns = [int(p) for p in group_patterns] if group_patterns else []
        self.lf_classes = None if lf_classes is None else [int(k) for k in lf_classes]
        self.lf_names = None if lf_names is None else [str(n) for n in lf_names]
        # A fitted config without it was saved with one dense [m, C, C + 1] weight: the
        # weights are then made when it is read (:meth:`load_own_variables`).
        self._dense_layout = num_lfs is not None and num_full_columns is None
        self.num_full_columns = 0 if num_full_columns is None else int(num_full_columns)
        self.copy_of = None if copy_of is None else [int(k) for k in copy_of]
        if (
            self.lf_names is not None
            and self.num_lfs is not None
            and len(self.lf_names) != self.num_lfs
        ):
            raise ValueError(
                f"lf_names needs one name per LF (num_lfs={self.num_lfs}). "
                f"Received: {len(self.lf_names)} names"
            )
        if self.lf_classes is not None and (
            self.num_lfs is None
            or len(self.lf_classes) != self.num_lfs
            or min(self.lf_classes) < -1
            or max(self.lf_classes) >= self.cardinality
        ):
            raise ValueError(
                f"lf_classes needs one class in [-1, {self.cardinality - 1}] per LF "
                f"(num_lfs={num_lfs}). Received: lf_classes={lf_classes}"
            )
        if len(self.group_patterns) != len(self.groups):
            raise ValueError(
                f"group_patterns needs one count per group ({len(self.groups)}). "
                f"Received: {self.group_patterns}"
            )
        if self.num_lfs is not None and not self._dense_layout:
            self._create_weights()

    # ------------------------------------------------------------------ weights
    def _create_weights(self) -> None:
        c, m = self.cardinality, self.num_lfs
        self.log_class_balance = self.add_weight(
            name="log_class_balance",
            shape=(c,),
            initializer=keras.initializers.Constant(-math.log(c)),
            trainable=False,
        )
        self.log_vote_prior = self.add_weight(
            name="log_vote_prior",
            shape=(c,),
            initializer=keras.initializers.Constant(-math.log(c)),
            trainable=False,
        )
        for name in ("lf_log_abstain", "lf_log_off", "lf_log_diag"):
            setattr(self, name, self.add_weight(
                name=name, shape=(m, c), initializer="zeros", trainable=False
            ))
        v = self.num_full_columns
        self.lf_full_columns = self.add_weight(
            name="lf_full_columns", shape=(v,), dtype="int64", initializer="zeros",
            trainable=False,
        )
        self.lf_full_log_probs = self.add_weight(
            name="lf_full_log_probs", shape=(v, c), initializer="zeros", trainable=False
        )
        self.group_codes, self.group_log_probs = [], []
        for i, (g, k) in enumerate(zip(self.groups, self.group_patterns)):
            if len(g) * math.log2(c + 1) > 62:
                raise ValueError(f"group {g} is too large to encode for cardinality {c}")
            self.group_codes.append(
                self.add_weight(
                    name=f"group{i}_codes",
                    shape=(k,),
                    dtype="int64",
                    initializer="zeros",
                    trainable=False,
                )
            )
            self.group_log_probs.append(
                self.add_weight(
                    name=f"group{i}_log_probs", shape=(k, c), initializer="zeros", trainable=False
                )
            )
        self.built = True

    def build(self, input_shape: Any) -> None:
        if self.num_lfs is None:
            raise ValueError(
                "LabelModel must be fitted (or built from a fitted config) before it is called"
            )
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return (input_shape[0], self.cardinality)

    def call(self, L: Any) -> tf.Tensor:
        """Soft labels ``[batch, C]`` (float32, rows sum to 1) for int votes ``[batch, m]``.

        Votes outside ``[-1, C - 1]`` are treated as abstains here; :meth:`predict_proba`
        validates and names the offending LF instead.
        """
        c, m = self.cardinality, self.num_lfs
        with tf.name_scope("label_model"):
            L = tf.convert_to_tensor(L)
            if L.dtype.is_floating or L.dtype.size > 4 or L.dtype == tf.uint32:
                # Range check before narrowing: 2**32 + 1 must not wrap to a vote of 1.
                L = tf.cast(L, tf.float64) if L.dtype.is_floating else tf.cast(L, tf.int64)
                bad = (L < -1) | (L >= c)
                if L.dtype.is_floating:
                    bad = bad | tf.not_equal(L, tf.round(L))
                L = tf.where(bad, tf.constant(-1, L.dtype), L)
            L = tf.cast(L, tf.int32)
            L = tf.where((L < -1) | (L >= c), tf.fill(tf.shape(L), -1), L)
            if self.copy_of is not None:
                L = self._merge_copies(L)
            idx = L + 1  # [b, m] in 0..C
            rows = tf.shape(L)[0]
            single_np = np.ones(m, np.float32)
            for g in self.groups:
                single_np[g] = 0.0
            single = tf.constant(single_np)
            # Only the votes that exist are gathered ([votes, C], never [b, m, C]): every
            # singleton's abstain term is summed once, and a vote replaces its LF's.
            absn = tf.convert_to_tensor(self.lf_log_abstain) * single[:, None]  # [m, C]
            at = tf.where(L >= 0)  # [votes, 2]: row, LF
            r, j = tf.cast(at[:, 0], tf.int32), tf.cast(at[:, 1], tf.int32)
            v = tf.gather_nd(L, at)
            contrib = (self._vote_log_probs(j, v) - tf.gather(absn, j)) * tf.gather(
                single, j
            )[:, None]
            vote_sum = tf.math.unsorted_segment_sum(contrib, r, rows)  # [b, C]
            any_vote = tf.reduce_any(L >= 0, axis=1, keepdims=True)
            prior = tf.where(
                any_vote,
                tf.convert_to_tensor(self.log_vote_prior)[None, :],
                tf.convert_to_tensor(self.log_class_balance)[None, :],
            )
            logits = prior + tf.reduce_sum(absn, axis=0)[None, :] + vote_sum
            class_voted = None
            if self.lf_classes is not None:
                # An abstain counts with the co-abstention weight where an LF of its class
                # votes (module doc): (weight - 1) * the silent singletons of the voted classes.
                lf_classes = np.asarray(self.lf_classes, np.int32)
                own = (lf_classes[:, None] == np.arange(c)[None, :]).astype(np.float32)  # [m, C]
                cls = tf.gather(tf.constant(lf_classes), j)
                has = cls >= 0
                seg = tf.boolean_mask(r * c + cls, has)
                class_voted = tf.reshape(
                    tf.minimum(
                        tf.math.unsorted_segment_sum(tf.ones_like(seg, tf.float32), seg, rows * c),
                        1.0,
                    ),
                    [rows, c],
                )  # [b, C]
                own_abs = absn * tf.constant(own.sum(1, keepdims=True))  # LFs with a class
                per_class = tf.matmul(tf.constant(own), own_abs, transpose_a=True)  # [k, y]
                voted_own = tf.math.unsorted_segment_sum(tf.gather(own_abs, j), r, rows)
                logits += (self._call_co_abstain_weight() - 1.0) * (
                    tf.matmul(class_voted, per_class) - voted_own
                )
            for g, codes, table in zip(self.groups, self.group_codes, self.group_log_probs):
                radix = tf.constant((c + 1) ** np.arange(len(g), dtype=np.int64))
                idx_g = tf.gather(idx, g, axis=1)  # [b, |g|]
                code = tf.reduce_sum(tf.cast(idx_g, tf.int64) * radix[None, :], axis=1)
                codes_t = tf.convert_to_tensor(codes)
                pos = tf.minimum(
                    tf.searchsorted(codes_t, code), tf.shape(codes_t, out_type=tf.int32)[0] - 1
                )
                found = tf.equal(tf.gather(codes_t, pos), code)
                # An unseen pattern: its LFs' singleton terms instead.
                g_t = tf.constant(np.asarray(g, np.int32))
                per_vote = tf.reshape(
                    self._vote_log_probs(
                        tf.reshape(tf.zeros_like(idx_g) + g_t[None, :], [-1]),
                        tf.reshape(tf.maximum(idx_g - 1, 0), [-1]),
                    ),
                    [rows, len(g), c],
                )
                per_lf = tf.where(
                    (idx_g == 0)[:, :, None],
                    tf.gather(tf.convert_to_tensor(self.lf_log_abstain), g_t)[None, :, :],
                    per_vote,
                )
                if class_voted is not None:
                    cls_g = np.asarray(self.lf_classes, np.int32)[g]
                    some = tf.gather(class_voted, np.maximum(cls_g, 0), axis=1) * (
                        (cls_g >= 0).astype(np.float32)
                    )
                    keep = tf.where(
                        (idx_g == 0) & (some > 0), self._call_co_abstain_weight(), 1.0
                    )
                    per_lf = per_lf * keep[:, :, None]
                fallback = tf.reduce_sum(per_lf, axis=1)
                logits += tf.where(
                    found[:, None], tf.gather(tf.convert_to_tensor(table), pos), fallback
                )
            return tf.nn.softmax(logits, axis=-1)

    def _merge_copies(self, L: tf.Tensor) -> tf.Tensor:
        """Each exact copy's vote moves to its original where the original abstains (the first
        copy that votes wins); the copies then abstain (their tables are all zero)."""
        copy_of = np.asarray(self.copy_of, np.int64)
        m = len(copy_of)
        by_rep: dict[int, list[int]] = {}
        for j in np.flatnonzero(copy_of >= 0):
            by_rep.setdefault(int(copy_of[j]), []).append(int(j))
        for rank in range(max(len(v) for v in by_rep.values())):
            src = np.arange(m)
            for r, qs in by_rep.items():
                if rank < len(qs):
                    src[r] = qs[rank]
            moved = tf.gather(L, tf.constant(src, tf.int32), axis=1)
            L = tf.where((L < 0) & tf.constant(src != np.arange(m))[None, :], moved, L)
        return tf.where(tf.constant(copy_of >= 0)[None, :], tf.constant(-1, L.dtype), L)

    def _vote_log_probs(self, j: tf.Tensor, v: tf.Tensor) -> tf.Tensor:
        """``[n, C]`` ``log P(vote = v | y)`` of LFs ``j`` voting ``v`` (int32 ``[n]``, v >= 0)."""
        c = self.cardinality
        col = j * c + v
        out = tf.gather(tf.reshape(self.lf_log_off, [-1]), col)[:, None] + tf.one_hot(
            v, c, dtype=self.lf_log_diag.dtype
        ) * tf.gather(tf.reshape(self.lf_log_diag, [-1]), col)[:, None]
        if self.num_full_columns:
            full = tf.convert_to_tensor(self.lf_full_columns)
            col64 = tf.cast(col, tf.int64)
            pos = tf.minimum(tf.searchsorted(full, col64), self.num_full_columns - 1)
            found = tf.equal(tf.gather(full, pos), col64)
            out = tf.where(
                found[:, None], tf.gather(tf.convert_to_tensor(self.lf_full_log_probs), pos), out
            )
        return out

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "cardinality": self.cardinality,
            "dependencies": self.dependencies,
            "class_balance": self.class_balance,
            "max_group_size": self.max_group_size,
            "seed": self.seed,
            "max_iter": self.max_iter,
            "tol": self.tol,
            "accuracy_prior": self.accuracy_prior,
            "min_accuracy": self.min_accuracy,
            "structure_threshold": self.structure_threshold,
            "balance_rounds": self.balance_rounds,
            "anchor_dev": self.anchor_dev,
            "abstain_model": self.abstain_model,
            "co_abstain_weight": self.co_abstain_weight,
            "num_lfs": self.num_lfs,
            "groups": self.groups,
            "group_patterns": self.group_patterns,
            "lf_classes": self.lf_classes,
            "lf_names": self.lf_names,
            "fitted_choices": self.fitted_choices,
            "num_full_columns": None if self.num_lfs is None else self.num_full_columns,
            "copy_of": self.copy_of,
        }

    def load_own_variables(self, store: Any) -> None:
        """Reads the weights; a file written with the dense ``[m, C, C + 1]`` table (before
        the ``O(m * C)`` tables) is converted exactly (:meth:`VoteTables.from_dense`)."""
        if not self._dense_layout:
            super().load_own_variables(store)
            return
        arrays = [np.asarray(store[str(i)]) for i in range(len(store.keys()))]
        if len(arrays) != 3 + 2 * len(self.groups):
            raise ValueError(
                f"a LabelModel with {len(self.groups)} groups saved with a dense LF table has "
                f"{3 + 2 * len(self.groups)} weights. Received: {len(arrays)}"
            )
        tables = VoteTables.from_dense(arrays[2].astype(np.float64))
        self.num_full_columns = tables.num_full_columns
        # The weights' shapes are known only now; Keras has locked the built layer's state
        # (it unlocks it the same way to untrack a variable).
        locked = self._tracker.locked
        self._tracker.unlock()
        try:
            self._create_weights()
        finally:
            if locked:
                self._tracker.lock()
        self._dense_layout = False
        self.log_class_balance.assign(arrays[0])
        self.log_vote_prior.assign(arrays[1])
        self._assign_vote_tables(tables)
        for i, (var_c, var_t) in enumerate(zip(self.group_codes, self.group_log_probs)):
            var_c.assign(arrays[3 + 2 * i])
            var_t.assign(arrays[4 + 2 * i])

    def vote_tables(self) -> VoteTables:
        """The LF tables as float64 :class:`~tfsnorkel.labelmodel.tables.VoteTables`.

        Returns:
            ``O(m * C)`` tables; ``.dense()`` gives ``[m, C, C + 1]`` ``log P(vote = v | y)``.

        Example:
            >>> L = np.array([[0, 0, 1], [1, 1, 1], [0, -1, 0], [1, 1, -1]] * 50)
            >>> LabelModel(2, dependencies=None).fit(L).vote_tables().shape
            (3, 2, 3)
        """
        self._check_fitted()
        abstain, off, diag, full = (
            w.numpy().astype(np.float64)
            for w in (self.lf_log_abstain, self.lf_log_off, self.lf_log_diag,
                      self.lf_full_log_probs)
        )
        return VoteTables(abstain, off, diag, self.lf_full_columns.numpy().astype(np.int64), full)

    def _assign_vote_tables(self, tables: VoteTables) -> None:
        """Writes ``tables`` into the LF weights (their full-column count must match)."""
        if tables.num_full_columns != self.num_full_columns:
            raise ValueError(
                f"this LabelModel holds {self.num_full_columns} full vote columns. "
                f"Received tables with {tables.num_full_columns}"
            )
        for var, value in (
            (self.lf_log_abstain, tables.abstain), (self.lf_log_off, tables.off),
            (self.lf_log_diag, tables.diag), (self.lf_full_log_probs, tables.full),
        ):
            var.assign(np.asarray(value, np.float32))
        self.lf_full_columns.assign(np.asarray(tables.full_columns, np.int64))

    def set_vote_tables(self, tables: VoteTables | np.ndarray) -> None:
        """Replaces the LF tables (same LFs, classes and full columns).

        Args:
            tables: :class:`~tfsnorkel.labelmodel.tables.VoteTables` or dense ``[m, C, C + 1]``
                log tables (converted with ``VoteTables.from_dense``).
        """
        self._check_fitted()
        if not isinstance(tables, VoteTables):
            tables = VoteTables.from_dense(np.asarray(tables, np.float64))
        if tables.shape != (self.num_lfs, self.cardinality, self.cardinality + 1):
            raise ValueError(
                f"tables of shape {(self.num_lfs, self.cardinality, self.cardinality + 1)} "
                f"expected. Received: {tables.shape}"
            )
        self._assign_vote_tables(tables)

    def _call_co_abstain_weight(self) -> float:
        if self.fitted_choices is not None:
            return float(self.fitted_choices["co_abstain_weight"])
        return _DEFAULT_CO_ABSTAIN if self.co_abstain_weight is None else self.co_abstain_weight

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        L: np.ndarray | tf.data.Dataset | LabelStats,
        L_dev: np.ndarray | None = None,
        y_dev: np.ndarray | Sequence[int] | None = None,
        *,
        lf_names: Sequence[str] | None = None,
    ) -> LabelModel:
        """Learns class balance, LF accuracies/propensities and dependencies, without gold labels.

        Args:
            L: ``[N, m]`` label matrix (numpy, a list of rows, or a ``scipy.sparse`` matrix
                storing class index + 1, abstains not stored); or a stream (a
                ``tf.data.Dataset`` or an iterator)
                of ``[b, m]`` batches or of ``(features, L_batch)`` pairs, of which only the
                unique-row counts are kept; or :class:`LabelStats` (e.g. merged from shards).
            L_dev: ``[n_dev, m]`` votes of a small gold dev set. With ``y_dev``, the choices
                left open (``abstain_model="auto"``, ``co_abstain_weight=None``) are made on it
                by cross-validation (:mod:`~tfsnorkel.labelmodel.selection`; the table is
                kept as ``selection_``), and (with ``anchor_dev``) its rows join the EM with
                their posterior held at the gold label. Defaults to `None`.
            y_dev: gold labels of the dev set; when given (and ``class_balance`` is not),
                the class balance is their smoothed frequency. Defaults to `None`.
            lf_names: the names of the LFs behind the columns of ``L``, in order (e.g.
                ``lfset.names``). They are saved with the model, and every place that pairs
                the model with an LF set checks them (:meth:`check_lfs`). Defaults to `None`
                (only the number of LFs is checked).

        Returns:
            ``self``.
        """
        c = self.cardinality
        stats = to_stats(L, c)
        if stats.num_rows == 0:
            raise ValueError("cannot fit a LabelModel on an empty label matrix. Received: 0 rows")
        m = stats.num_lfs
        if m < 3:
            raise ValueError(
                "a LabelModel needs at least 3 LFs to be identifiable; use MajorityVoter "
                f"instead. Received: {m} LFs"
            )
        if lf_names is not None:
            lf_names = [str(n) for n in lf_names]
            if len(lf_names) != m:
                raise ValueError(
                    f"lf_names needs one name per LF column of L ({m}). "
                    f"Received: {len(lf_names)} names"
                )
        if L_dev is not None:
            L_dev = check_label_matrix(L_dev, cardinality=c)
            if L_dev.shape[1] != m:
                raise ValueError(f"L_dev has {L_dev.shape[1]} LF columns, L has {m}")
        yd = None
        if y_dev is not None:
            raw = np.asarray(y_dev)
            if raw.dtype.kind not in "iub" and not (
                raw.dtype.kind == "f" and np.all(np.isfinite(raw)) and np.all(raw == np.round(raw))
            ):
                raise ValueError(
                    "y_dev must hold integer class indices; it holds non-integer values. "
                    f"Received: {raw.ravel()[:5].tolist()}"
                )
            yd = raw.astype(np.int64).ravel()
            if yd.size == 0 or yd.min() < 0 or yd.max() >= c:
                raise ValueError(
                    f"y_dev must hold class indices in [0, {c - 1}]. "
                    f"Received values: {np.unique(yd)[:10].tolist()}"
                )
            if L_dev is not None and len(yd) != len(L_dev):
                raise ValueError(f"L_dev has {len(L_dev)} rows but y_dev has {len(yd)}")
        settings = FitSettings(
            cardinality=c,
            dependencies=self.dependencies,
            class_balance=self.class_balance,
            max_group_size=self.max_group_size,
            seed=self.seed,
            max_iter=self.max_iter,
            tol=self.tol,
            accuracy_prior=tuple(self.accuracy_prior),
            min_accuracy=self.min_accuracy,
            structure_threshold=self.structure_threshold,
            anchor_dev=self.anchor_dev,
            abstain_model=self.abstain_model,
            co_abstain_weight=(
                _DEFAULT_CO_ABSTAIN if self.co_abstain_weight is None else self.co_abstain_weight
            ),
        )
        self.selection_ = None
        # Exact copies of an LF carry its evidence once (structure.copy_columns): the fit runs
        # on the other columns, then each copy gets its original's tables and a group with it.
        first = None
        if self.dependencies == "auto":
            reduced, first = without_copies(stats)
            if reduced is stats or reduced.num_lfs < 3:
                first = None
            else:
                stats = reduced
                if L_dev is not None:
                    L_dev = L_dev[:, first == np.arange(m)]
        open_forms = ABSTAIN_MODELS if self.abstain_model == "auto" else [self.abstain_model]
        open_weights = (
            CO_ABSTAIN_WEIGHTS if self.co_abstain_weight is None else [self.co_abstain_weight]
        )
        if L_dev is not None and yd is not None and len(open_forms) * len(open_weights) > 1:
            candidates = candidate_settings(settings, open_forms, open_weights)
            table = score_candidates(stats, candidates, L_dev, yd, self._predict_fitted)
            best = int(table["dev_log_loss"].to_numpy().argmin())
            table["chosen"] = np.arange(len(table)) == best
            self.selection_ = table
            settings = candidates[best]
        fitted = fit_parameters(stats, settings, L_dev, yd)
        if first is not None:
            fitted = with_copies(fitted, first)
        if self.selection_ is None and fitted.selection is not None:
            self.selection_ = pd.DataFrame(fitted.selection)  # "auto" decided by BIC
        self._store(fitted)
        if lf_names is not None:
            self.lf_names = lf_names
        return self

    def _store(self, fitted: FittedParameters) -> None:
        """Keeps fitted parameters as this layer's weights and learned structure."""
        lf_classes = fitted.lf_classes
        self.fitted_choices = {
            "abstain_model": fitted.abstain_model,
            "co_abstain_weight": fitted.co_abstain_weight,
        }
        self._vote_prior = fitted.vote_prior
        self._set_params(
            fitted.group_codes(),
            fitted.lf_log_tables,
            fitted.group_tables,
            fitted.class_balance,
            fitted.groups,
        )
        self._commit(fitted.num_lfs, None if lf_classes is None else [int(k) for k in lf_classes])
        self.copy_of = None if fitted.copy_of is None else [int(k) for k in fitted.copy_of]

    def _predict_fitted(
        self, fitted: FittedParameters, settings: FitSettings, L: np.ndarray
    ) -> np.ndarray:
        """Soft labels of fitted parameters (a candidate of model selection) through ``call``."""
        candidate = LabelModel(self.cardinality, dependencies=None)
        candidate._store(fitted)
        return candidate.predict_proba(L)

    def check_lfs(
        self, lf_names: Sequence[str], cardinality: int | None = None, *, what: str = "LF set"
    ) -> None:
        """Checks that an LF set is the one this model was fitted on.

        Args:
            lf_names: the LF set's names, in column order.
            cardinality: the LF set's number of classes, if it declares one.
            what: how to name the LF set in the error. Defaults to `"LF set"`.

        Raises:
            ValueError: the number of LFs, their names or order, or the cardinality differ
                (the message names the first mismatch).

        Example:
            >>> L = np.array([[0, 0, 1], [1, 1, 1], [0, -1, 0], [1, 1, -1]] * 50)
            >>> lm = LabelModel(2, dependencies=None).fit(L, lf_names=["a", "b", "c"])
            >>> lm.check_lfs(["a", "c", "b"])
            Traceback (most recent call last):
            ...
            ValueError: the LF set does not match the label model: column 1 is LF 'c' in the LF set but 'b' in the label model (fitted on ['a', 'b', 'c']). Received: ['a', 'c', 'b']
        """
        self._check_fitted()
        names = [str(n) for n in lf_names]
        head = f"the {what} does not match the label model"
        if cardinality is not None and int(cardinality) != self.cardinality:
            raise ValueError(
                f"{head}: it has cardinality {int(cardinality)}, the label model "
                f"{self.cardinality}. Received: cardinality={cardinality!r}"
            )
        if len(names) != self.num_lfs:
            raise ValueError(
                f"{head}: it has {len(names)} LFs, the label model was fitted on "
                f"{self.num_lfs}. Received: {names}"
            )
        if self.lf_names is not None and names != self.lf_names:
            j = next(i for i, (a, b) in enumerate(zip(names, self.lf_names)) if a != b)
            raise ValueError(
                f"{head}: column {j} is LF {names[j]!r} in the {what} but "
                f"{self.lf_names[j]!r} in the label model (fitted on {self.lf_names}). "
                f"Received: {names}"
            )

    def _set_params(self, codes_all: list[np.ndarray], lt, tables, pi, groups) -> None:
        """Stores fitted parameters in numpy (``_pi``, ``_vote_tables``, group codes/tables)."""
        c = self.cardinality
        self._pi = np.asarray(pi, float) / np.sum(pi)
        vt = lt if isinstance(lt, VoteTables) else VoteTables.from_dense(lt)
        for g, t, codes in zip(groups, tables, codes_all):
            # Tables of grouped LFs: marginals of the group's joint table.
            probs = np.exp(t)  # [P, C]
            digits = (codes[:, None] // (c + 1) ** np.arange(len(g))[None, :]) % (c + 1)
            for i, j in enumerate(g):
                marg = np.stack(
                    [probs[digits[:, i] == v].sum(0) for v in range(c + 1)], axis=1
                )  # [C, C+1]
                marg = marg + 1e-6
                vt = vt.with_lf(j, np.log(marg / marg.sum(1, keepdims=True)))
        self._vote_tables = vt
        self._fit_groups = [list(map(int, g)) for g in groups]
        self._fit_codes = codes_all
        self._fit_group_tables = list(tables)

    def _commit(self, num_lfs: int, lf_classes: list[int] | None) -> None:
        """Creates the Keras weights with the learned shapes (first fit) and assigns them."""
        shapes = [len(cd) for cd in self._fit_codes]
        if self.num_lfs is not None and (
            self.num_lfs != num_lfs
            or self.groups != self._fit_groups
            or self.group_patterns != shapes
            or self.lf_classes != lf_classes
            or self.num_full_columns != self._vote_tables.num_full_columns
        ):
            raise ValueError(
                "this LabelModel was already fitted with a different structure; create a new "
                "LabelModel "
                f"to fit it again. Received: {num_lfs} LFs, groups={self._fit_groups}"
            )
        if self.num_lfs is None:
            self.num_lfs = int(num_lfs)
            self.num_full_columns = self._vote_tables.num_full_columns
            self.lf_classes = lf_classes
            self.groups = self._fit_groups
            self.group_patterns = shapes
            self._create_weights()
        self.log_class_balance.assign(np.log(np.maximum(self._pi, 1e-12)).astype(np.float32))
        self.log_vote_prior.assign(np.log(np.maximum(self._vote_prior, 1e-12)).astype(np.float32))
        self._assign_vote_tables(self._vote_tables)
        for var_c, var_t, codes, t in zip(
            self.group_codes, self.group_log_probs, self._fit_codes, self._fit_group_tables
        ):
            var_c.assign(codes.astype(np.int64))
            var_t.assign(t.astype(np.float32))

    # ------------------------------------------------------------------ inference
    def _check_fitted(self) -> None:
        if self.num_lfs is None:
            raise ValueError("this LabelModel is not fitted yet; call fit(L) first")

    def predict_proba(self, L: np.ndarray, batch_size: int = 65536) -> np.ndarray:
        """Soft labels for a label matrix.

        Args:
            L: ``[N, m]`` votes (validated; a vote out of range names its LF column), or a
                ``scipy.sparse`` matrix storing class index + 1 (abstains not stored).
            batch_size: rows per ``call``, lowered so that a batch's ``[rows, m]`` votes
                and ``[rows, C]`` logits stay under 2**24 cells each (``call`` gathers only
                the votes that exist: its memory grows with the votes, not with m * C).
                Defaults to `65536`.

        Returns:
            ``[N, C]`` float32 probabilities, rows summing to 1.
        """
        self._check_fitted()
        step = max(1, min(int(batch_size), _CALL_FLOATS // max(self.num_lfs, self.cardinality)))
        if sp.issparse(L):
            # Dense vote batches of ``step`` rows at a time, written into one output array.
            out = np.empty((L.shape[0], self.cardinality), np.float32)
            lo = 0
            for b in sparse_vote_batches(L, self.cardinality, batch_rows=step):
                out[lo : lo + len(b)] = self.predict_proba(b, step)
                lo += len(b)
            return out
        L = check_label_matrix(L, cardinality=self.cardinality)
        if L.shape[1] != self.num_lfs:
            raise ValueError(
                f"this LabelModel was fitted on {self.num_lfs} LFs. "
                f"Received a label matrix with {L.shape[1]} columns"
            )
        out = np.empty((len(L), self.cardinality), np.float32)
        for i in range(0, len(L), step):
            out[i : i + step] = self(L[i : i + step]).numpy()
        return out

    def predict(self, L: np.ndarray, tie_break: TieBreak = "random") -> np.ndarray:
        """Hard labels: argmax of :meth:`predict_proba` with an explicit tie policy.

        Args:
            L: ``[N, m]`` votes.
            tie_break: ``"abstain"``, ``"random"`` (seeded by ``seed``) or ``"prior"``
                (the learned class balance). Defaults to `"random"`.

        Returns:
            ``[N]`` int32 predictions.
        """
        return probs_to_preds(
            self.predict_proba(L), tie_break, seed=self.seed, prior=self.class_balance_.to_numpy()
        )

    # ------------------------------------------------------------------ tables
    @property
    def class_balance_(self) -> pd.Series:
        """Learned class balance, indexed by class."""
        self._check_fitted()
        p = np.exp(self.log_class_balance.numpy().astype(np.float64))
        return pd.Series(
            p / p.sum(), index=pd.RangeIndex(self.cardinality, name="class"), name="class_balance"
        )

    @property
    def dependencies_(self) -> list[list[int]]:
        """Groups of LF columns modelled jointly (learned or given), and each set of exact
        copies (an LF with the columns that copy it), sorted by first column."""
        self._check_fitted()
        out = [list(g) for g in self.groups]
        if self.copy_of is not None:
            sets: dict[int, list[int]] = {}
            for j, r in enumerate(self.copy_of):
                if r >= 0:
                    sets.setdefault(r, [r]).append(j)
            out += [sorted(v) for v in sets.values()]
        return sorted(out)

    def lf_table(self, lf_names: Sequence[str] | None = None) -> pd.DataFrame:
        """Per-LF accuracy, propensity (coverage) and dependency group as a DataFrame.

        Accuracy is ``P(vote == y | vote != abstain)`` under the model, propensity
        ``P(vote != abstain)``; ``group`` is the index in :attr:`dependencies_` or -1;
        ``copy_of`` the LF of which this one is an exact copy (its evidence counted once; the
        row repeats that LF's accuracy and propensity), or -1.

        Args:
            lf_names: row labels, checked against the names the model was fitted with
                (:meth:`check_lfs`). Defaults to `None` (those names, else column indices).

        Returns:
            A DataFrame with columns ``accuracy``, ``propensity``, ``group``, ``copy_of``.
        """
        self._check_fitted()
        t = self.vote_tables()
        c = self.cardinality
        pi = self.class_balance_.to_numpy()
        voted = 1 - np.exp(t.abstain)
        right = t.off + t.diag  # [j, y]: log P(vote = y | y)
        j, v = t.full_columns // c, t.full_columns % c
        right[j, v] = t.full[np.arange(len(j)), v]
        right = np.exp(right)
        prop = voted @ pi
        acc = (right @ pi) / np.maximum(prop, 1e-12)
        copy_of = np.full(self.num_lfs, -1) if self.copy_of is None else np.asarray(self.copy_of)
        src = np.where(copy_of >= 0, copy_of, np.arange(self.num_lfs))
        acc, prop = acc[src], prop[src]
        group = np.full(self.num_lfs, -1)
        for i, g in enumerate(self.groups):
            group[g] = i
        if lf_names is not None:
            self.check_lfs(lf_names)
        else:
            lf_names = self.lf_names
        return pd.DataFrame(
            {"accuracy": acc, "propensity": prop, "group": group, "copy_of": copy_of},
            index=pd.Index(lf_names if lf_names is not None else range(self.num_lfs), name="lf"),
        )

    # ------------------------------------------------------------------ saving
    def save(self, path: str | os.PathLike) -> None:
        """Saves the fitted model in Keras's ``.keras`` format (a model wrapping this layer).

        Args:
            path: destination ending in ``.keras``.
        """
        self._check_fitted()
        from tfsnorkel.outputs import atomic_path

        model = keras.Sequential([keras.Input(shape=(self.num_lfs,), dtype="int32"), self])
        # A temporary file beside ``path``, renamed into place once complete: a failed or
        # killed save never damages the previous file.
        with atomic_path(path) as tmp:
            model.save(os.fspath(tmp))

    @classmethod
    def load(cls, path: str | os.PathLike) -> LabelModel:
        """Loads a model written by :meth:`save`.

        Args:
            path: a ``.keras`` file.

        Returns:
            The fitted :class:`LabelModel`.

        Raises:
            LabelModelLoadError: the file is missing, corrupted, or holds no LabelModel.
        """
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise LabelModelLoadError(
                f"could not read a saved LabelModel: no such file. Received: path={path!r}"
            )
        if not zipfile.is_zipfile(path):
            raise LabelModelLoadError(
                "could not read a saved LabelModel: the file is not a .keras archive "
                f"(truncated, or another kind of file). Received: path={path!r}"
            )
        try:
            model = keras.saving.load_model(path, compile=False)
        except Exception as e:
            raise LabelModelLoadError(
                f"could not read a saved LabelModel ({type(e).__name__}: {e}). "
                f"Received: path={path!r}"
            ) from e
        layers = [layer for layer in getattr(model, "layers", []) if isinstance(layer, LabelModel)]
        if not layers:
            raise LabelModelLoadError(
                f"the file holds no LabelModel layer. Received: path={path!r}"
            )
        return layers[0]
