"""Candidates (what gets labeled), pair-candidate extraction, reproducible splits.

A *candidate* is one thing a labeling function votes on. Two kinds cover most uses:

* a **row** candidate: a whole example (a comment, a complaint), i.e. one DataFrame row;
  :func:`row_candidates` keeps the fields the LFs read and checks that the index, which is the
  candidate id, is unique;
* a **pair** candidate: two entity mentions in one text, for relation extraction ("are these
  two people married?"). :func:`extract_pair_candidates` turns texts plus an
  :class:`EntityMatcher` into one row per candidate whose columns (:data:`PAIR_COLUMNS`)
  include the text ``between`` the mentions, so an LF such as "the word *wife* between the
  two names" is a keyword LF over the ``between`` field.

Either way a candidate is plain DataFrame columns, which :meth:`CandidateSpec.features` turns
into the feature dict that flows through ``tf.data``. :func:`train_dev_test_split` makes
reproducible, stratified train/dev/test splits with scikit-learn's ``train_test_split``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split as _sklearn_split

__all__ = [
    "CandidateSpec",
    "DataSplit",
    "EntityMatcher",
    "Mention",
    "PAIR_COLUMNS",
    "PAIR_SPEC",
    "extract_pair_candidates",
    "row_candidates",
    "train_dev_test_split",
]

PAIR_COLUMNS: tuple[str, ...] = (
    "doc_id",
    "text",
    "entity1",
    "entity1_start",
    "entity1_end",
    "entity1_canonical",
    "entity2",
    "entity2_start",
    "entity2_end",
    "entity2_canonical",
    "between",
    "left",
    "right",
)
"""Columns of :func:`extract_pair_candidates`, in order."""

_PAIR_REQUIRED = (
    "entity1", "entity1_start", "entity1_end", "entity2", "entity2_start", "entity2_end"
)


# --------------------------------------------------------------------------------------------
# Candidate specs
# --------------------------------------------------------------------------------------------


def _plain(label: Any) -> Any:
    """A numpy scalar as the Python scalar it holds (for readable error messages)."""
    return label.item() if isinstance(label, np.generic) else label


@dataclass(frozen=True)
class CandidateSpec:
    """What one candidate is: the feature fields that labeling functions may read.

    The DataFrame index is the candidate id (it must be unique), and ``fields`` are the columns
    that flow, as a feature dict, into the LFs (``tf.data`` or pandas alike).

    Args:
        fields: names of the columns the LFs read, in order; a list is accepted and stored as a
            tuple.
        kind: ``"row"`` (one example per row) or ``"pair"`` (two entity mentions per row; then
            ``fields`` must include the span columns ``entity1``, ``entity1_start``,
            ``entity1_end``, ``entity2``, ``entity2_start``, ``entity2_end``).
            Defaults to `"row"`.

    Example:
        >>> spec = CandidateSpec(["text", "author"])
        >>> df = pd.DataFrame({"text": ["hi", "buy now"], "author": ["a", "b"], "y": [0, 1]})
        >>> spec.select(df).columns.tolist()
        ['text', 'author']
        >>> sorted(spec.features(df))
        ['author', 'text']
    """

    fields: tuple[str, ...]
    kind: Literal["row", "pair"] = "row"

    def __post_init__(self) -> None:
        fields = self.fields
        if isinstance(fields, str) or not isinstance(fields, Iterable):
            raise TypeError(
                "CandidateSpec fields must be a sequence of column names, not a single string. "
                f"Received: fields={fields!r}"
            )
        fields = tuple(fields)
        object.__setattr__(self, "fields", fields)
        if not fields:
            raise ValueError("CandidateSpec needs at least one field. Received: fields=()")
        for f in fields:
            if not isinstance(f, str) or not f:
                raise TypeError(f"every field must be a non-empty string. Received: field={f!r}")
        dup = sorted({f for f in fields if fields.count(f) > 1})
        if dup:
            raise ValueError(f"CandidateSpec fields must be unique. Received duplicates: {dup}")
        if self.kind not in ("row", "pair"):
            raise ValueError(f"kind must be 'row' or 'pair'. Received: kind={self.kind!r}")
        if self.kind == "pair":
            missing = [c for c in _PAIR_REQUIRED if c not in fields]
            if missing:
                raise ValueError(
                    f"a pair CandidateSpec must include the span fields {list(_PAIR_REQUIRED)}; "
                    f"missing {missing}. Received: fields={fields!r}"
                )

    def select(self, df: pd.DataFrame) -> pd.DataFrame:
        """Returns the candidate columns of ``df`` (same index), after checking them.

        Args:
            df: one candidate per row; the index is the candidate id.

        Returns:
            A new DataFrame with exactly ``fields`` as columns, in order, and ``df``'s index.

        Raises:
            KeyError: a field is not a column of ``df``.
            ValueError: the index has duplicates.

        Example:
            >>> CandidateSpec(["a"]).select(pd.DataFrame({"a": [1], "b": [2]})).to_dict("list")
            {'a': [1]}
        """
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"expected a pandas DataFrame. Received: {type(df).__name__}")
        missing = [f for f in self.fields if f not in df.columns]
        if missing:
            raise KeyError(
                f"the candidate spec reads column(s) {missing} that the DataFrame lacks. "
                f"Received columns: {list(map(str, df.columns))}"
            )
        if not df.index.is_unique:
            dup = _plain(df.index[df.index.duplicated()][0])
            raise ValueError(
                "candidate ids (the DataFrame index) must be unique. "
                f"Received: index label {dup!r} appears {int((df.index == dup).sum())} times"
            )
        return df.loc[:, list(self.fields)].copy()

    def features(self, df: pd.DataFrame) -> dict[str, np.ndarray]:
        """Returns the feature dict of ``df``'s candidates, ready for ``tf.data``.

        Text columns become object arrays of Python strings (``tf.string`` in TensorFlow),
        numeric columns keep their dtype. ``tf.data.Dataset.from_tensor_slices(spec.features(df))``
        yields one feature dict per candidate.

        Args:
            df: one candidate per row.

        Returns:
            ``{field: array of length len(df)}`` for every field, in order.

        Raises:
            ValueError: a text column holds a missing value or a non-string (named by column
                and index label).

        Example:
            >>> feats = CandidateSpec(["text"]).features(pd.DataFrame({"text": ["a", "b"]}))
            >>> feats["text"].tolist()
            ['a', 'b']
        """
        frame = self.select(df)
        out: dict[str, np.ndarray] = {}
        for f in self.fields:
            col = frame[f]
            if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
                out[f] = col.to_numpy()
                continue
            values = col.to_numpy(dtype=object)
            bad = [i for i, v in enumerate(values) if not isinstance(v, str)]
            if bad:
                raise ValueError(
                    f"feature {f!r} must hold strings or numbers only. "
                    f"Received: {values[bad[0]]!r} at index label {_plain(frame.index[bad[0]])!r}"
                )
            out[f] = values
        return out


PAIR_SPEC = CandidateSpec(fields=PAIR_COLUMNS[1:], kind="pair")
"""The spec of :func:`extract_pair_candidates`'s output: every column but ``doc_id``."""


def row_candidates(df: pd.DataFrame, fields: Sequence[str]) -> pd.DataFrame:
    """Whole-row candidates: the columns of ``df`` that the LFs read, one candidate per row.

    Args:
        df: the examples; its index becomes the candidate id and must be unique.
        fields: the columns LFs read.

    Returns:
        ``CandidateSpec(fields).select(df)``: a new DataFrame with those columns and ``df``'s
        index.

    Example:
        >>> df = pd.DataFrame({"text": ["check it out", "nice song"], "label": [1, 0]})
        >>> row_candidates(df, ["text"])["text"].tolist()
        ['check it out', 'nice song']
    """
    return CandidateSpec(tuple(fields), kind="row").select(df)


# --------------------------------------------------------------------------------------------
# Entity matching and pair candidates
# --------------------------------------------------------------------------------------------


class Mention(NamedTuple):
    """An entity mention: ``text[start:end] == surface``; ``canonical`` names the entity."""

    start: int
    end: int
    surface: str
    canonical: str


_WS = re.compile(r"\s+")


class EntityMatcher:
    """Finds entity mentions in a text, from a list/dictionary of names or from a regex.

    Name semantics (``names=``):

    * **whole words**: a name matches only where it is not preceded or followed by a word
      character (``(?<!\\w)`` / ``(?!\\w)``, Unicode-aware), so ``"Ann"`` does not match inside
      ``"Anne"`` or ``"Joanna"``;
    * **case**: exact by default; ``ignore_case=True`` matches any case;
    * **whitespace**: a run of whitespace inside a name matches any run of whitespace (a name
      broken across a line still matches);
    * **longest match first, no overlaps**: the text is scanned left to right; at each position
      the longest name wins (``"Barack Obama"`` over ``"Barack"``), and scanning resumes after
      it, so the mentions found never overlap;
    * **canonical name**: a list maps every name to itself; a dictionary maps each surface form
      to a canonical name (``{"Obama": "Barack Obama"}``), reported as ``Mention.canonical``.
      With ``ignore_case``, the canonical name is the listed one, whatever the case in the text.

    Regex semantics (``regex=``): the non-overlapping matches of the pattern, left to right, as
    ``re.finditer`` finds them; ``group`` picks the span of a capturing group (empty matches and
    matches where the group did not take part are skipped). The canonical name is the matched
    text.

    Args:
        names: entity names (a list), or a mapping from surface form to canonical name.
        regex: a pattern (string or compiled); give exactly one of ``names`` and ``regex``.
        ignore_case: match regardless of case. Defaults to `False`.
        group: for ``regex``, the group whose span is the mention. Defaults to `0` (the whole
            match).

    Example:
        >>> m = EntityMatcher(["Barack Obama", "Michelle Obama", "Barack"])
        >>> [(x.start, x.end, x.surface) for x in m.find("Barack Obama and Michelle Obama wed.")]
        [(0, 12, 'Barack Obama'), (17, 31, 'Michelle Obama')]
        >>> EntityMatcher(regex=r"[A-Z][a-z]+ [A-Z][a-z]+").find("I met Jane Doe.")[0].surface
        'Jane Doe'
    """

    def __init__(
        self,
        names: Iterable[str] | Mapping[str, str] | None = None,
        *,
        regex: str | re.Pattern[str] | None = None,
        ignore_case: bool = False,
        group: int | str = 0,
    ) -> None:
        if (names is None) == (regex is None):
            raise ValueError(
                "give exactly one of names= and regex=. "
                f"Received: names={'None' if names is None else '...'}, regex={regex!r}"
            )
        self.ignore_case = bool(ignore_case)
        self.group = group
        self._canonical: dict[str, str] = {}
        flags = re.IGNORECASE if self.ignore_case else 0
        if names is not None:
            if isinstance(names, str):
                raise TypeError(
                    f"names must be a list or a dict of names, not one string. Received: {names!r}"
                )
            mapping = dict(names) if isinstance(names, Mapping) else {n: n for n in names}
            if not mapping:
                raise ValueError("names must hold at least one name. Received: names=[]")
            for surface, canonical in mapping.items():
                if not isinstance(surface, str) or not surface.strip():
                    raise ValueError(
                        f"every name must be a non-blank string. Received: {surface!r}"
                    )
                if surface != surface.strip():
                    raise ValueError(
                        f"names must not start or end with whitespace. Received: {surface!r}"
                    )
                if not isinstance(canonical, str):
                    raise TypeError(
                        f"canonical names must be strings. Received: {surface!r} -> {canonical!r}"
                    )
                key = self._key(surface)
                if self._canonical.get(key, canonical) != canonical:
                    raise ValueError(
                        f"names {surface!r} map to two canonical names "
                        f"({self._canonical[key]!r} and {canonical!r}) once case/whitespace "
                        "is normalized"
                    )
                self._canonical[key] = canonical
            self.names: tuple[str, ...] | None = tuple(mapping)
            alternatives = sorted(mapping, key=lambda s: (-len(s), s))
            body = "|".join(r"\s+".join(map(re.escape, s.split())) for s in alternatives)
            self.pattern = re.compile(rf"(?<!\w)(?:{body})(?!\w)", flags)
            self.group = 0
        else:
            self.names = None
            if isinstance(regex, re.Pattern):
                self.pattern = re.compile(regex.pattern, regex.flags | flags) if flags else regex
            elif isinstance(regex, str):
                try:
                    self.pattern = re.compile(regex, flags)
                except re.error as err:
                    raise ValueError(f"invalid regex ({err}). Received: regex={regex!r}") from None
            else:
                raise TypeError(f"regex must be a string or re.Pattern. Received: {regex!r}")
            if isinstance(group, int) and not 0 <= group <= self.pattern.groups:
                raise ValueError(
                    f"the regex has {self.pattern.groups} group(s). Received: group={group!r}"
                )
            if isinstance(group, str) and group not in self.pattern.groupindex:
                raise ValueError(
                    f"the regex has no group named {group!r}. Received: group={group!r}"
                )

    def _key(self, surface: str) -> str:
        key = " ".join(_WS.split(surface.strip()))
        return key.casefold() if self.ignore_case else key

    def find(self, text: str) -> list[Mention]:
        """Returns the mentions in ``text``, left to right, never overlapping.

        Args:
            text: the text to scan.

        Returns:
            A list of :class:`Mention` sorted by start offset.

        Example:
            >>> EntityMatcher(["ann"], ignore_case=True).find("Ann met Anne")
            [Mention(start=0, end=3, surface='Ann', canonical='ann')]
        """
        if not isinstance(text, str):
            raise TypeError(f"EntityMatcher.find needs a string. Received: {text!r}")
        out: list[Mention] = []
        for m in self.pattern.finditer(text):
            start, end = m.span(self.group)
            if start < 0 or end <= start:
                continue
            surface = text[start:end]
            if self.names is None:
                canonical = surface
            else:
                canonical = self._canonical.get(self._key(surface), surface)
            out.append(Mention(start, end, surface, canonical))
        return out

    __call__ = find

    def __repr__(self) -> str:
        if self.names is not None:
            what = f"names=<{len(self.names)} names>"
        else:
            what = f"regex={self.pattern.pattern!r}"
        return f"EntityMatcher({what}, ignore_case={self.ignore_case})"


MatcherLike = EntityMatcher | Callable[[str], Iterable[Mention | tuple[int, int]]]


def _mentions(matcher: MatcherLike, text: str, doc: Hashable) -> list[Mention]:
    if isinstance(matcher, EntityMatcher):
        return matcher.find(text)
    found: list[Mention] = []
    for item in matcher(text):
        if isinstance(item, Mention):
            m = item
        else:
            try:
                start, end = item
            except (TypeError, ValueError):
                raise TypeError(
                    "a matcher callable must yield Mention objects or (start, end) pairs. "
                    f"Received: {item!r} for doc_id={doc!r}"
                ) from None
            if not isinstance(start, (int, np.integer)) or not isinstance(end, (int, np.integer)):
                raise TypeError(
                    f"mention offsets must be integers. Received: ({start!r}, {end!r}) "
                    f"for doc_id={doc!r}"
                )
            surface = text[int(start) : int(end)]
            m = Mention(int(start), int(end), surface, surface)
        if not 0 <= m.start < m.end <= len(text) or text[m.start : m.end] != m.surface:
            raise ValueError(
                f"the matcher returned a mention that is not a non-empty span of the text "
                f"(length {len(text)}). Received: {m!r} for doc_id={doc!r}"
            )
        found.append(m)
    return sorted(set(found), key=lambda x: (x.start, x.end, x.canonical))


def extract_pair_candidates(
    texts: Sequence[str] | pd.Series,
    matcher: MatcherLike,
    ordered: bool = False,
    max_chars_between: int | None = None,
    ids: Sequence[Hashable] | None = None,
    *,
    max_tokens_between: int | None = None,
    same_entity: bool = False,
) -> pd.DataFrame:
    """Extracts one candidate per pair of entity mentions in each text (relation extraction).

    Semantics:

    * mentions come from ``matcher`` (an :class:`EntityMatcher`, or any callable returning
      :class:`Mention` objects or ``(start, end)`` pairs, e.g. a wrapper around an NER
      model), sorted by position; identical mentions are counted once;
    * **unordered** (``ordered=False``, the default): one candidate per pair of mentions,
      ``entity1`` being the one that comes first in the text;
      **ordered** (``ordered=True``): both ``(a, b)`` and ``(b, a)``, for directed relations
      ("X is the parent of Y"), the text-order pair first;
    * ``between`` is the text strictly between the two mentions (``text[first_end:second_start]``
      whatever the order of entity1/entity2); ``left`` is the text before the first mention and
      ``right`` the text after the second;
    * pairs of **overlapping** mentions (only possible with a callable matcher) are skipped;
    * pairs whose two mentions name the **same entity** (equal canonical names, e.g. "Obama ...
      Obama") are skipped unless ``same_entity=True``;
    * **distance**: a pair is kept only if ``len(between) <= max_chars_between`` and
      ``len(between.split()) <= max_tokens_between`` (whitespace tokens), when given;
    * rows come in text order, then by the position of the first and second mention; the
      result has a fresh ``RangeIndex`` (the candidate id).

    Args:
        texts: the documents (sentences); a ``pd.Series`` lends its index as ``doc_id``.
        matcher: finds the mentions of one text.
        ordered: emit both orders of each pair. Defaults to `False`.
        max_chars_between: longest ``between`` kept, in characters. Defaults to `None` (any).
        ids: one document id per text, reported as ``doc_id``. Defaults to `None` (the Series
            index, else ``0..len(texts)-1``).
        max_tokens_between: most whitespace tokens in ``between``. Defaults to `None` (any).
        same_entity: keep pairs whose mentions share a canonical name. Defaults to `False`.

    Returns:
        A DataFrame with columns :data:`PAIR_COLUMNS`; offsets are ``int64`` Python string
        (code point) offsets into ``text``, ``text[entity1_start:entity1_end] == entity1``
        (in TensorFlow, slice with ``tf.strings.substr(..., unit="UTF8_CHAR")``).

    Raises:
        TypeError: a text is not a string (the message names its ``doc_id``).
        ValueError: ``ids`` has the wrong length or duplicates; a negative distance limit.

    Example:
        >>> people = EntityMatcher(["Jane Doe", "John Roe", "Ann Lee"])
        >>> c = extract_pair_candidates(["Jane Doe and her husband John Roe met Ann Lee."], people)
        >>> for row in c[["entity1", "entity2", "between"]].itertuples(index=False):
        ...     print(tuple(row))
        ('Jane Doe', 'John Roe', ' and her husband ')
        ('Jane Doe', 'Ann Lee', ' and her husband John Roe met ')
        ('John Roe', 'Ann Lee', ' met ')
    """
    if isinstance(texts, str):
        raise TypeError(f"texts must be a sequence of strings, not one string. Received: {texts!r}")
    if isinstance(texts, pd.Series):
        doc_ids: list[Hashable] = list(texts.index) if ids is None else list(ids)
        text_list = list(texts.to_numpy(dtype=object))
    else:
        text_list = list(texts)
        doc_ids = list(range(len(text_list))) if ids is None else list(ids)
    doc_ids = [_plain(d) for d in doc_ids]
    if len(doc_ids) != len(text_list):
        raise ValueError(
            f"ids must have one entry per text ({len(text_list)} texts). "
            f"Received: {len(doc_ids)} ids"
        )
    if len(set(doc_ids)) != len(doc_ids):
        dup = _plain(pd.Index(doc_ids)[pd.Index(doc_ids).duplicated()][0])
        raise ValueError(f"document ids must be unique. Received: doc_id {dup!r} twice")
    limits = {"max_chars_between": max_chars_between, "max_tokens_between": max_tokens_between}
    for name, limit in limits.items():
        if limit is not None and (not isinstance(limit, (int, np.integer)) or limit < 0):
            raise ValueError(
                f"{name} must be a non-negative integer or None. Received: {name}={limit!r}"
            )
    if not isinstance(matcher, EntityMatcher) and not callable(matcher):
        raise TypeError(f"matcher must be an EntityMatcher or a callable. Received: {matcher!r}")

    rows: list[tuple[Any, ...]] = []
    for doc, text in zip(doc_ids, text_list):
        if not isinstance(text, str):
            raise TypeError(f"every text must be a string. Received: {text!r} for doc_id={doc!r}")
        ms = _mentions(matcher, text, doc)
        for i, a in enumerate(ms):
            for b in ms[i + 1 :]:
                if b.start < a.end:  # overlapping mentions: no text between them
                    continue
                between = text[a.end : b.start]
                # b.start only grows with j, so once a limit is exceeded it stays exceeded.
                if max_chars_between is not None and len(between) > max_chars_between:
                    break
                if max_tokens_between is not None and len(between.split()) > max_tokens_between:
                    break
                if not same_entity and a.canonical == b.canonical:
                    continue
                left, right = text[: a.start], text[b.end :]
                pairs = ((a, b), (b, a)) if ordered else ((a, b),)
                for e1, e2 in pairs:
                    rows.append(
                        (doc, text, e1.surface, e1.start, e1.end, e1.canonical,
                         e2.surface, e2.start, e2.end, e2.canonical, between, left, right)
                    )
    out = pd.DataFrame.from_records(rows, columns=list(PAIR_COLUMNS))
    for c in PAIR_COLUMNS[1:]:
        out[c] = out[c].astype(np.int64 if c.endswith(("_start", "_end")) else str)
    return out


# --------------------------------------------------------------------------------------------
# Splits
# --------------------------------------------------------------------------------------------


class DataSplit(NamedTuple):
    """The three parts of :func:`train_dev_test_split` (positions, or the data's own type).

    Attributes:
        train: the training part (its labels are not used by the label model).
        dev: the small gold dev part, for LF development and model selection.
        test: the held-out gold part, for the final scores.

    Example:
        >>> train, dev, test = DataSplit([0, 1, 2], [3], [4])
        >>> dev
        [3]
    """

    train: Any
    dev: Any
    test: Any


def _count(size: float | int, n: int, name: str) -> int:
    if isinstance(size, (bool, np.bool_)):
        raise TypeError(f"{name} must be a fraction or a count. Received: {name}={size!r}")
    if isinstance(size, (int, np.integer)):
        if not 0 <= size <= n:
            raise ValueError(f"{name} as a count must be in [0, {n}]. Received: {name}={size!r}")
        return int(size)
    if isinstance(size, (float, np.floating)):
        if not 0.0 <= size < 1.0:
            raise ValueError(f"{name} as a fraction must be in [0, 1). Received: {name}={size!r}")
        return int(math.ceil(float(size) * n))
    raise TypeError(f"{name} must be a float fraction or an int count. Received: {name}={size!r}")


def train_dev_test_split(
    data: pd.DataFrame | pd.Series | np.ndarray | int,
    y: Sequence[Hashable] | np.ndarray | pd.Series | str | None = None,
    *,
    dev_size: float | int = 0.1,
    test_size: float | int = 0.2,
    seed: int = 0,
    stratify: bool = True,
) -> DataSplit:
    """Splits examples into train/dev/test, reproducibly and (given labels) stratified.

    Built on scikit-learn's ``train_test_split``: first the test part is drawn from all rows,
    then the dev part from the rest, each with ``random_state=seed``. Fractions are of the
    *whole* data and rounded up (``ceil(size * n)``, as scikit-learn does); the train part gets
    the remaining rows. Each part lists its rows in their original order. With ``y`` and
    ``stratify=True`` every part keeps the class proportions of ``y`` (to within one row per
    class).

    Args:
        data: the number of examples ``n`` (then positions are returned), or a DataFrame, Series
            or array whose rows are split (then the parts are subsets of it, keeping the
            DataFrame/Series index).
        y: class labels, one per row, or the name of a column of ``data``. Defaults to `None`
            (no stratification).
        dev_size: fraction of all rows (float) or number of rows (int) for dev; ``0`` gives an
            empty dev part. Defaults to `0.1`.
        test_size: same for test. Defaults to `0.2`.
        seed: random seed; the same seed gives the same split. Defaults to `0`.
        stratify: stratify on ``y`` when it is given. Defaults to `True`.

    Returns:
        A :class:`DataSplit` ``(train, dev, test)``: ``int64`` position arrays when ``data`` is an
        int, else subsets of ``data``.

    Raises:
        ValueError: sizes out of range or leaving no training row, ``y`` of the wrong length,
            or a class too rare to stratify (with the advice to pass ``stratify=False``).

    Example:
        >>> s = train_dev_test_split(10, dev_size=0.2, test_size=0.2, seed=0)
        >>> [len(s.train), len(s.dev), len(s.test)]
        [6, 2, 2]
        >>> sorted(np.concatenate(s).tolist()) == list(range(10))
        True
    """
    if isinstance(data, (bool, np.bool_)):
        raise TypeError(f"data must be a count or a table. Received: data={data!r}")
    if isinstance(data, (int, np.integer)):
        if data < 1:
            raise ValueError(f"need at least one example. Received: data={data!r}")
        n = int(data)
    elif isinstance(data, (pd.DataFrame, pd.Series, np.ndarray)):
        n = len(data)
    else:
        raise TypeError(
            "data must be an int, a pandas DataFrame/Series or a numpy array. "
            f"Received: {type(data).__name__}"
        )
    if isinstance(y, str):
        if not isinstance(data, pd.DataFrame) or y not in data.columns:
            raise KeyError(f"y={y!r} names no column of data")
        labels: np.ndarray | None = data[y].to_numpy()
    elif y is not None:
        labels = np.asarray(y)
        if labels.ndim != 1 or len(labels) != n:
            raise ValueError(
                f"y must hold one label per row ({n} rows). Received shape: {labels.shape}"
            )
    else:
        labels = None
    n_test = _count(test_size, n, "test_size")
    n_dev = _count(dev_size, n, "dev_size")
    if n - n_test - n_dev < 1:
        raise ValueError(
            f"dev and test take {n_dev} + {n_test} of {n} rows, leaving no training row. "
            f"Received: dev_size={dev_size!r}, test_size={test_size!r}"
        )
    strat = labels is not None and stratify

    def draw(pos: np.ndarray, k: int, what: str) -> tuple[np.ndarray, np.ndarray]:
        if k == 0:
            return pos, pos[:0]
        try:
            keep, take = _sklearn_split(
                pos, test_size=k, random_state=seed, stratify=labels[pos] if strat else None
            )
        except ValueError as err:
            raise ValueError(
                f"cannot draw a stratified {what} part of {k} rows: {err} "
                "Pass stratify=False, larger sizes, or more examples of the rare classes."
            ) from None
        return keep, take

    rest, test = draw(np.arange(n, dtype=np.int64), n_test, "test")
    train, dev = draw(rest, n_dev, "dev")
    parts = [np.sort(p).astype(np.int64) for p in (train, dev, test)]
    if isinstance(data, (int, np.integer)):
        return DataSplit(*parts)
    if isinstance(data, (pd.DataFrame, pd.Series)):
        return DataSplit(*(data.iloc[p] for p in parts))
    return DataSplit(*(data[p] for p in parts))
