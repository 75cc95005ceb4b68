"""`LFSet`: all labeling functions compiled into one ``tf.function`` over a batch of features.

``lfset(features)`` maps a dict ``field -> 1-D tensor [batch]`` to an ``int32 [batch, m]``
label matrix. Compiled LFs are TF ops; Python LFs run together, once per batch, in a single
``tf.numpy_function``. The set is a ``tf.Module``: lookup tables and Keras weak classifiers
held by its LFs are tracked, so ``tf.saved_model.save`` exports it (when it has no Python LFs).

Reserved feature keys (optional, added by the appliers): ``"<field>__missing"`` (bool
``[batch]``, True where the field's value is missing: the LFs reading it abstain there),
``"__row__"`` (int64 ``[batch]`` global row numbers, used in error messages) and
``"__batch__"`` (int64 scalar batch number, for pre-batched datasets).

Text policy: invalid UTF-8 in a text field is replaced by U+FFFD before any LF sees it
(:func:`~tfsnorkel.labeling.builtin.valid_utf8`, the same as Python's
``bytes.decode("utf-8", "replace")``), so compiled and Python LFs, applied or served, agree.
"""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from tfsnorkel.labeling.builtin import CompiledLF, valid_utf8
from tfsnorkel.labeling.functions import LabelingFunction, Row
from tfsnorkel.labeling.token_tables import plan_token_tables
from tfsnorkel.labels import ABSTAIN

__all__ = ["LFSet", "LabelingFunctionError", "MISSING_SUFFIX"]

MISSING_SUFFIX = "__missing"
ROW_KEY = "__row__"
BATCH_KEY = "__batch__"
_MARK = "[tfsnorkel]"


class LabelingFunctionError(RuntimeError):
    """A Python LF raised on a row; the message names the LF, the row and the exception."""


def _kind(dtype: tf.DType) -> str:
    if dtype == tf.string:
        return "string"
    if dtype.is_bool or dtype.is_integer or dtype.is_floating:
        return "numeric"
    return dtype.name


class LFSet(tf.Module):
    """An ordered set of labeling functions compiled into one ``tf.function``.

    Args:
        lfs: `LabelingFunction` and compiled LFs (from `keyword_lf`, `regex_lf`, ...), one
            label-matrix column each, in this order.
        cardinality: number of classes ``C``; votes are ``ABSTAIN`` (-1) or ``0..C-1``.
            Defaults to `2`.
        signed: the LFs use the seed's signed binary convention (``+1`` positive, ``-1``
            negative, ``0`` abstain), converted like `from_signed` (binary only). Defaults
            to `False`.
        name: the module's name. Defaults to `"lfset"`.
        token_tables: whole-word keyword LFs and string lookup LFs that read the same
            field (and tokenizer, and case handling) share one tokenization and one hash
            lookup (:class:`~tfsnorkel.labeling.token_tables.TokenTable`), so their cost
            grows with the text, not with their number; the label matrix is the same as
            with ``False``, where each LF runs on its own (RE2 scan or own table). A group
            is shared from ``MIN_TABLE_LFS`` (16) LFs on (below, the LFs' own scans are
            cheaper than tokenizing); an integer sets that minimum instead. Other LFs
            (regexes, substring keywords, keywords that start or end with a non-word
            character, ...) always run on their own. Defaults to `True`.

    Attributes:
        failures_: after `apply(..., fault_tolerant=True)`, ``{python LF name: rows where
            it raised}``.

    Example:
        >>> from tfsnorkel.labeling import keyword_lf, length_lf
        >>> lfs = LFSet([keyword_lf("http", label=1, match="substring"),
        ...              length_lf("text", label=0, max_words=4)])
        >>> lfs({"text": tf.constant(["see http://x.co now please ok", "nice"])}).numpy().tolist()
        [[1, -1], [-1, 0]]
    """

    def __init__(
        self,
        lfs: Sequence[LabelingFunction | CompiledLF],
        cardinality: int = 2,
        signed: bool = False,
        name: str = "lfset",
        token_tables: bool | int = True,
    ):
        super().__init__(name=name)
        lfs = list(lfs) if not isinstance(lfs, (LabelingFunction, CompiledLF)) else [lfs]
        if not lfs:
            raise ValueError("an LFSet needs at least one labeling function. Received: lfs=[]")
        for i, lf in enumerate(lfs):
            if not isinstance(lf, (LabelingFunction, CompiledLF)):
                hint = (
                    " Wrap a plain function with @labeling_function()."
                    if callable(lf) else ""
                )
                raise TypeError(
                    f"LFSet item {i} is not a labeling function.{hint} Received: {lf!r}"
                )
        seen: dict[str, int] = {}
        for i, lf in enumerate(lfs):
            if lf.name in seen:
                raise ValueError(
                    f"duplicate LF name {lf.name!r} (positions {seen[lf.name]} and {i}); "
                    "every LF needs a unique name. Received names: "
                    f"{[x.name for x in lfs]}"
                )
            seen[lf.name] = i
        if (isinstance(cardinality, bool) or not isinstance(cardinality, (int, np.integer))
                or cardinality < 2):
            raise ValueError(
                f"cardinality must be an integer >= 2. Received: cardinality={cardinality!r}"
            )
        if signed and cardinality != 2:
            raise ValueError(
                "signed=True is the binary +1/-1/0 convention and needs cardinality=2. "
                f"Received: cardinality={cardinality}"
            )
        self._cardinality = int(cardinality)
        self._signed = bool(signed)
        allowed = (-1, 1) if signed else tuple(range(cardinality))
        convention = "signed" if signed else f"cardinality={cardinality}"
        for lf in lfs:
            if lf.compiled:
                labels = lf.labels
                if labels is None and signed and lf.kind == "classifier":
                    raise ValueError(
                        f"LF {lf.name!r} emits class indices 0/1, but this set is signed; pass "
                        "labels=(-1, 1) to classifier_lf"
                    )
                for lab in labels or ():
                    if lab not in allowed:
                        raise ValueError(
                            f"LF {lf.name!r} votes {lab}, outside the labels of this set "
                            f"{list(allowed)} ({convention}). "
                            f"Received: label={lab}"
                        )
        self._fields = self._merge_fields(lfs)
        self._lf_list = tuple(lfs)
        # compiled LFs (tf.Modules with tables / Keras models) are tracked through this list
        self.compiled_lfs = [lf for lf in lfs if lf.compiled]
        if token_tables is True:
            plan = plan_token_tables(lfs)
        elif token_tables is False:
            plan = []
        else:
            plan = plan_token_tables(lfs, min_lfs=token_tables)
        self.shared_tables = [table for table, _ in plan]  # tracked: their hash tables export
        self._table_columns = [cols for _, cols in plan]
        self._lock = threading.Lock()
        self._fault_tolerant = False
        self._failures: dict[str, int] = {}
        self._errors: dict[str, BaseException] = {}
        self.failures_: dict[str, int] = {}
        self._fn = tf.function(self._vote, reduce_retracing=True, autograph=False)

    # ------------------------------------------------------------------ properties
    @property
    def lfs(self) -> tuple[LabelingFunction | CompiledLF, ...]:
        """The labeling functions, in column order."""
        return self._lf_list

    @property
    def names(self) -> list[str]:
        """LF names, in column order."""
        return [lf.name for lf in self._lf_list]

    @property
    def cardinality(self) -> int:
        """Number of classes."""
        return self._cardinality

    @property
    def signed(self) -> bool:
        """Whether the LFs use the signed +1/-1/0 convention."""
        return self._signed

    @property
    def fields(self) -> dict[str, tf.DType]:
        """``{field: tf.DType}`` the set needs (numeric fields read by several LFs: float64)."""
        return dict(self._fields)

    @property
    def python_lf_names(self) -> list[str]:
        """Names of the Python LFs (run through ``tf.numpy_function``, hence not servable)."""
        return [lf.name for lf in self._lf_list if not lf.compiled]

    def input_signature(self) -> dict[str, tf.TensorSpec]:
        """``{field: tf.TensorSpec([None], dtype)}``, e.g. for a serving ``tf.function``.

        Example:
            >>> from tfsnorkel.labeling import keyword_lf
            >>> LFSet([keyword_lf("my", 1)]).input_signature()
            {'text': TensorSpec(shape=(None,), dtype=tf.string, name='text')}
        """
        return {f: tf.TensorSpec([None], d, name=f) for f, d in self._fields.items()}

    def __len__(self) -> int:
        return len(self._lf_list)

    def __iter__(self) -> Iterator[LabelingFunction | CompiledLF]:
        return iter(self._lf_list)

    def __repr__(self) -> str:
        return f"LFSet({self.names}, cardinality={self._cardinality}, signed={self._signed})"

    @staticmethod
    def _merge_fields(lfs) -> dict[str, tf.DType]:
        readers: dict[str, list[tuple[str, tf.DType]]] = {}
        for lf in lfs:
            for f, d in lf.fields.items():
                readers.setdefault(f, []).append((lf.name, d))
        out: dict[str, tf.DType] = {}
        for f, rs in readers.items():
            kinds = {_kind(d) for _, d in rs}
            if len(kinds) > 1:
                raise TypeError(
                    f"LFs read field {f!r} with incompatible dtypes: "
                    + ", ".join(f"{n!r} as {d.name}" for n, d in rs)
                )
            dtypes = {d for _, d in rs}
            if len(dtypes) == 1:
                out[f] = rs[0][1]
            else:
                out[f] = tf.float64 if any(d.is_floating for d in dtypes) else tf.int64
        return out

    # ------------------------------------------------------------------ calling
    def __call__(self, features: Mapping[str, Any]) -> tf.Tensor:
        """Applies every LF to a batch: ``{field: [batch]}`` -> ``int32 [batch, m]``.

        Works eagerly, inside ``tf.function`` and in ``tf.data.Dataset.map``. Extra keys are
        ignored. Numpy/pandas inputs with ``None``/``NaN`` are converted like the appliers do.

        Args:
            features: a dict of 1-D tensors or arrays holding at least :attr:`fields`.

        Returns:
            The ``int32 [batch, m]`` label matrix.
        """
        if not isinstance(features, Mapping):
            raise TypeError(
                "an LFSet is called on a dict field -> 1-D tensor [batch]. "
                f"Received: {type(features).__name__}"
            )
        feats = self._select(features)
        if tf.executing_eagerly():
            try:
                return self._fn(feats)
            except tf.errors.OpError as exc:
                err = self.translate_error(exc)
                if err is exc:
                    raise
                raise err from err.__cause__
        return self._fn(feats)

    def _select(self, features: Mapping[str, Any]) -> dict[str, tf.Tensor]:
        internal = (ROW_KEY, BATCH_KEY)
        available = [k for k in features if not k.endswith(MISSING_SUFFIX) and k not in internal]
        raw: dict[str, Any] = {}
        for f in self._fields:
            if f not in features:
                readers = [lf.name for lf in self._lf_list if f in lf.fields]
                raise KeyError(
                    f"LF {readers[0]!r} reads field {f!r}, which the features lack"
                    + (f" (also read by {readers[1:]})" if len(readers) > 1 else "")
                    + f". Available fields: {sorted(available)}. Received keys: {sorted(features)}"
                )
            raw[f] = features[f]
        if not all(isinstance(v, (tf.Tensor, tf.Variable)) for v in raw.values()):
            from tfsnorkel.labeling.apply import columns_to_features

            converted = columns_to_features(raw, self)
            raw = {**converted, **{k: v for k, v in raw.items() if k not in converted}}
            masks = {k: v for k, v in converted.items() if k.endswith(MISSING_SUFFIX)}
        else:
            masks = {}
        out: dict[str, tf.Tensor] = {}
        for f, dtype in self._fields.items():
            t = tf.convert_to_tensor(raw[f])
            if _kind(t.dtype) != _kind(dtype):
                readers = [lf.name for lf in self._lf_list if f in lf.fields]
                raise TypeError(
                    f"LF {readers[0]!r} reads field {f!r} as {dtype.name}, but the features hold "
                    f"{t.dtype.name}. Received: {f}.dtype={t.dtype.name}"
                )
            if t.shape.rank is not None and t.shape.rank != 1:
                raise ValueError(
                    f"field {f!r} must be a 1-D tensor [batch]. Received shape: {t.shape}"
                )
            out[f] = t
            key = f + MISSING_SUFFIX
            if key in masks:
                out[key] = tf.convert_to_tensor(masks[key], tf.bool)
            elif key in features:
                out[key] = tf.convert_to_tensor(features[key], tf.bool)
        if self.python_lf_names:
            for key in (ROW_KEY, BATCH_KEY):
                if key in features:
                    out[key] = tf.cast(tf.convert_to_tensor(features[key]), tf.int64)
        return out

    def _vote(self, feats: dict[str, tf.Tensor]) -> tf.Tensor:
        raw_abstain = 0 if self._signed else ABSTAIN
        n = tf.shape(next(iter(feats.values())))[0]
        missing: dict[str, tf.Tensor] = {}
        feats = dict(feats)
        for f, dtype in self._fields.items():
            m = feats.get(f + MISSING_SUFFIX)
            t = feats[f]
            if t.dtype == tf.string:  # the text policy: invalid UTF-8 -> U+FFFD, everywhere
                feats[f] = t = valid_utf8(t)
            if t.dtype.is_floating:
                nan = tf.math.is_nan(t)
                m = nan if m is None else (m | nan)
            if m is not None:
                missing[f] = m
        cols: list[tf.Tensor | None] = [None] * len(self._lf_list)
        lo, hi = (-1, 1) if self._signed else (ABSTAIN, self._cardinality - 1)
        blocks: list[tuple[tf.Tensor, list[int]]] = []
        for table, members in zip(self.shared_tables, self._table_columns):
            b = table.votes(feats[table.field], raw_abstain)
            if table.field in missing:
                b = tf.where(missing[table.field][:, None], raw_abstain, b)
            if self._signed:
                b = tf.where(b == 1, 1, tf.where(b == -1, 0, ABSTAIN))
            blocks.append((b, members))
        in_tables = {j for _, members in blocks for j in members}
        for j, lf in enumerate(self._lf_list):
            if not lf.compiled or j in in_tables:
                continue
            v = lf.vote({f: feats[f] for f in lf.fields}, raw_abstain)
            if lf.labels is None:  # checked before narrowing: an int64 vote never wraps
                v = tf.cast(_check_range(v, lf.name, lo, hi), tf.int32)
            miss = [missing[f] for f in lf.fields if f in missing]
            if miss:
                v = tf.where(tf.reduce_any(tf.stack(miss), axis=0), raw_abstain, v)
            if self._signed:
                v = tf.where(v == 1, 1, tf.where(v == -1, 0, ABSTAIN))
            cols[j] = v
        py = [j for j, lf in enumerate(self._lf_list) if not lf.compiled]
        if py:
            pfields = list(dict.fromkeys(f for j in py for f in self._lf_list[j].fields))
            args = [feats[f] for f in pfields]
            args += [missing.get(f, tf.zeros([n], tf.bool)) for f in pfields]
            args.append(feats.get(ROW_KEY, tf.fill([n], tf.constant(-1, tf.int64))))
            args.append(tf.reshape(feats.get(BATCH_KEY, tf.constant(-1, tf.int64)), []))
            out = tf.numpy_function(
                lambda *a: self._run_python(pfields, py, *a), args, tf.int32, stateful=True,
                name="python_lfs",
            )
            out = tf.reshape(out, [n, len(py)])
            for k, j in enumerate(py):
                cols[j] = out[:, k]
        if not blocks:
            return tf.stack(cols, axis=1)
        parts = [b for b, _ in blocks]
        order = [j for _, members in blocks for j in members]
        rest = [j for j, c in enumerate(cols) if c is not None]
        if rest:
            parts.append(tf.stack([cols[j] for j in rest], axis=1))
            order += rest
        full = tf.concat(parts, axis=1) if len(parts) > 1 else parts[0]
        perm = np.argsort(order)
        if np.array_equal(perm, np.arange(len(perm))):
            return full
        return tf.gather(full, perm, axis=1)

    # ------------------------------------------------------------------ Python LFs
    def _run_python(self, pfields: list[str], py: list[int], *arrays) -> np.ndarray:
        k = len(pfields)
        values, masks = arrays[:k], arrays[k:2 * k]
        rows, batch = arrays[2 * k], int(arrays[2 * k + 1])
        mask_of = dict(zip(pfields, masks))
        n = len(values[0]) if k else 0
        cols: dict[str, list] = {}
        for f, vals, mask in zip(pfields, values, masks):
            if vals.dtype == object:
                lst = [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in vals]
            else:
                lst = vals.tolist()
            if mask.any():
                lst = [None if m else v for v, m in zip(lst, mask.tolist())]
            cols[f] = lst
        out = np.full((n, len(py)), ABSTAIN, dtype=np.int32)
        lo, hi = (-1, 1) if self._signed else (ABSTAIN, self._cardinality - 1)
        # LFs reading the same fields share one (read-only) Row per example
        groups: dict[tuple[str, ...], list[tuple[int, LabelingFunction]]] = {}
        for c, j in enumerate(py):
            lf = self._lf_list[j]
            groups.setdefault(tuple(lf.fields), []).append((c, lf))
        plan = [(fields, [mask_of[f] for f in fields], [cols[f] for f in fields], members)
                for fields, members in groups.items()]
        any_mask = any(m.any() for m in masks)
        for i in range(n):
            for fields, fmasks, fcols, members in plan:
                missing = any_mask and any(m[i] for m in fmasks)
                row = Row({f: col[i] for f, col in zip(fields, fcols)})
                for c, lf in members:
                    if missing and lf.on_missing == "abstain":
                        continue
                    try:
                        r = lf.f(row, **lf.resources)
                    except (Exception, SystemExit) as exc:  # noqa: BLE001 (reported or tolerated)
                        if self._fault_tolerant:
                            with self._lock:
                                self._failures[lf.name] = self._failures.get(lf.name, 0) + 1
                            continue
                        err = LabelingFunctionError(
                            f"LF {lf.name!r} raised {type(exc).__name__}: {exc} on "
                            f"{_where(i, rows, batch)}. Pass fault_tolerant=True to apply() to "
                            f"make it abstain there instead. Received: {_short(row)}"
                        )
                        self._record(err)
                        raise err from exc
                    if type(r) is not int:
                        r = self._check_type(lf, r, i, rows, batch, row)
                    if not lo <= r <= hi:
                        allowed = ("+1, -1 or 0 (signed)" if self._signed
                                   else f"ABSTAIN (-1) or 0..{hi}")
                        err = ValueError(
                            f"LF {lf.name!r} returned {int(r)} on {_where(i, rows, batch)}; "
                            f"votes must be {allowed}. Received: {_short(row)}"
                        )
                        self._record(err)
                        raise err
                    if self._signed:
                        r = 1 if r == 1 else (0 if r == -1 else ABSTAIN)
                    out[i, c] = r
        return out

    def _check_type(self, lf, r, i, rows, batch, row) -> int:
        if isinstance(r, (bool, np.bool_)) or not isinstance(r, (int, np.integer)):
            hint = " (did it forget to return ABSTAIN?)" if r is None else ""
            err = TypeError(
                f"LF {lf.name!r} returned a non-integer label {r!r}{hint} on "
                f"{_where(i, rows, batch)}. Received: {_short(row)}"
            )
            self._record(err)
            raise err
        return int(r)

    def _record(self, err: BaseException) -> None:
        with self._lock:
            if len(self._errors) > 100:
                self._errors.clear()
            self._errors[str(err)] = err

    def translate_error(self, exc: BaseException, row_offset: int | None = None) -> BaseException:
        """Turns a TF runtime error raised by this set into the clear Python error behind it.

        Args:
            exc: the error raised while running the set (e.g. from ``ds.map(lfset)``).
            row_offset: global row number of the failing batch's first row, when known.

        Returns:
            The original `LabelingFunctionError`/`ValueError`/`TypeError` of a Python LF, a
            `ValueError` for a compiled LF's out-of-range vote, or ``exc`` unchanged.
        """
        text = getattr(exc, "message", str(exc))
        with self._lock:
            for msg, err in self._errors.items():
                if msg in text:
                    return err
        text = text.replace("\\'", "'").replace('\\"', '"')  # TF escapes quotes in messages
        m = _VOTED.search(text) or _NONINT.search(text)
        if m:
            row = int(m.group("row"))
            where = (f"row {row_offset + row}" if row_offset is not None
                     else f"row {row} of the batch")
            if "val" in m.groupdict():
                lo_hi = m.group("range")
                return ValueError(
                    f"LF {m.group('name')} voted {m.group('val')} at {where}; votes must be in "
                    f"[{lo_hi}] (ABSTAIN or a class index). Received: {m.group('val')}"
                )
            return TypeError(f"LF {m.group('name')} returned a non-integer label at {where}")
        return exc

    # ------------------------------------------------------------------ appliers
    def apply(
        self,
        data: Any,
        batch_size: int = 4096,
        progress: bool | None = None,
        fault_tolerant: bool = False,
        num_parallel_calls: int | None = None,
        sparse: bool = False,
    ) -> Any:
        """Applies the set to a DataFrame, a dict of arrays or a ``tf.data.Dataset``.

        See :func:`tfsnorkel.labeling.apply.apply_lfs` for the arguments.

        Returns:
            ``int32 [N, m]`` label matrix (``sparse=True``: a ``scipy.sparse`` CSR matrix
            storing class index + 1, abstains not stored).
        """
        from tfsnorkel.labeling.apply import apply_lfs

        return apply_lfs(self, data, batch_size=batch_size, progress=progress,
                         fault_tolerant=fault_tolerant, num_parallel_calls=num_parallel_calls,
                         sparse=sparse)

    def stream(self, data: Any, batch_size: int = 4096, fault_tolerant: bool = False):
        """Yields ``(features_batch, L_batch)`` without materializing the whole matrix.

        See :func:`tfsnorkel.labeling.apply.iter_label_batches`.
        """
        from tfsnorkel.labeling.apply import iter_label_batches

        return iter_label_batches(self, data, batch_size=batch_size, fault_tolerant=fault_tolerant)


_VOTED = re.compile(
    r"\[tfsnorkel\] LF (?P<name>.*?) voted\] \[(?P<val>-?\d+)\] \[at row\] \[(?P<row>\d+)\] "
    r"\[of the batch; votes must be in \[(?P<range>-?\d+, -?\d+)\]"
)
_NONINT = re.compile(
    r"\[tfsnorkel\] LF (?P<name>.*?) returned a non-integer label at row\] \[(?P<row>\d+)\]"
)


def _where(i: int, rows: np.ndarray, batch: int) -> str:
    if rows.size and rows[i] >= 0:
        return f"row {int(rows[i])}"
    if batch >= 0:
        return f"row {i} of batch {batch}"
    return f"row {i} of the batch"


def _short(vals: Mapping[str, Any]) -> str:
    parts = []
    for k, v in vals.items():
        r = repr(v)
        parts.append(f"{k}={r[:80] + '...' if len(r) > 80 else r}")
    return ", ".join(parts)


def _check_range(v: tf.Tensor, name: str, lo: int, hi: int) -> tf.Tensor:
    """In-graph check that run-time votes lie in ``[lo, hi]``, naming the LF and the row."""
    bad = (v < lo) | (v > hi)
    n = tf.shape(v)[0]
    row = tf.reduce_min(tf.where(bad, tf.range(n), n))
    val = tf.gather(tf.concat([v, tf.zeros([1], v.dtype)], axis=0), row)
    check = tf.debugging.Assert(
        ~tf.reduce_any(bad),
        [f"{_MARK} LF {name!r} voted", val, "at row", row,
         f"of the batch; votes must be in [{lo}, {hi}]"],
    )
    with tf.control_dependencies([check]):
        return tf.identity(v)


def warn_failures(failures: Mapping[str, int]) -> None:
    """Warns about Python LFs that raised and abstained (fault-tolerant runs)."""
    bad = {k: v for k, v in failures.items() if v}
    if bad:
        warnings.warn(
            "some Python LFs raised and abstained on those rows (fault_tolerant=True): "
            + ", ".join(f"{k!r}: {v} rows" for k, v in bad.items()),
            RuntimeWarning,
            stacklevel=3,
        )
