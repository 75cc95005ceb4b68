"""Compiled labeling functions: pure TensorFlow ops, no Python per row, servable.

Each factory returns a :class:`CompiledLF` (a ``tf.Module``, so lookup tables and Keras
weak classifiers it holds are tracked and exported with the LF set). Semantics, stated once:

* **Missing values.** An LF abstains on a row where a field it reads is missing: ``None`` /
  ``NaN`` in pandas or numpy input (the appliers pass a missing mask), or ``NaN`` in a float
  tensor.
* **Text and regular expressions** run on RE2 (``tf.strings.regex_full_match``). Search
  semantics, as Python's ``re.search``, are obtained by wrapping a pattern as
  ``(?s:.*)(?:pattern)(?s:.*)``. Where RE2 differs from Python ``re``:

  - ``\\w``, ``\\d``, ``\\s`` and ``\\b`` are ASCII-only in RE2 (Unicode in Python ``re``):
    ``regex_lf(r"\\bcafé\\b")`` finds ``"cafés"`` (RE2 sees ``é``, ``s`` as non-word
    characters); use ``\\p{L}`` classes, or `keyword_lf` with ``match="word"`` whose word
    boundaries are Unicode-aware.
  - ``\\s`` is ``[\\t\\n\\f\\r ]`` in RE2: unlike Python (even with ``re.ASCII``) it does
    not match the vertical tab ``"\\x0b"``, nor (unlike Python on ``str``) ``"\\x1c"``-``"\\x1f"``,
    ``"\\x85"``, ``"\\xa0"`` and other Unicode spaces; write ``[\\s\\x0b]`` or ``\\p{Z}`` where
    that matters (`length_lf` and ``lookup_lf(tokens=True)`` already split like ``str.split()``).
  - ``{,n}`` (Python: 0 to ``n`` times; RE2 would read it literally) is rewritten to
    ``{0,n}`` by `regex_lf` (:func:`python_repeats`), so it means what it means in Python.
  - ``\\B`` matches the empty text in RE2 (not in Python 3.11's ``re``).
  - ``$`` matches only at the very end of the text (Python also matches before a final
    ``"\\n"``); ``\\Z`` does not exist (use ``\\z``).
  - No lookahead/lookbehind, backreferences, atomic groups, possessive quantifiers or
    conditionals: such patterns are rejected when the LF is built, with an error naming it.
  - Case-insensitive matching uses Unicode simple case folding. Python's ``re.IGNORECASE``
    additionally matches ``"i"`` with ``"İ"`` (U+0130) and ``"ı"`` (U+0131); RE2 does not.
* **Whole words** (`keyword_lf` ``match="word"``): a keyword matches where it is neither
  preceded nor followed by a word character, a word character being a Unicode letter
  (``\\p{L}``), number (``\\p{N}``) or ``_``: the same as Python's ``(?<!\\w)kw(?!\\w)`` on
  ``str``.
* **Invalid UTF-8** in a text is replaced by U+FFFD before any LF sees it (`valid_utf8`:
  Python's ``bytes.decode("utf-8", "replace")``), in applied and served LF sets alike; an
  invalid byte never hides the rest of the text from a keyword, regex or length LF, and a
  Python LF receives the same decoded ``str``.
* **Word counts** (`length_lf`) split on whitespace exactly like Python's ``str.split()``
  (Unicode whitespace included); character counts are Unicode code points, like ``len``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import tensorflow as tf

from tfsnorkel.labeling.functions import FieldSpec, normalize_fields
from tfsnorkel.labels import ABSTAIN

__all__ = [
    "CompiledLF",
    "classifier_lf",
    "column_lf",
    "keyword_lf",
    "length_lf",
    "lookup_lf",
    "regex_lf",
    "threshold_lf",
    "valid_utf8",
]

#: Characters Python's ``str.isspace()`` accepts (what ``str.split()`` splits on).
PY_WHITESPACE = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
_WS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in PY_WHITESPACE) + "]"
_NOT_WS = "[^" + _WS[1:]
#: A word character as in Python's ``\w`` on ``str``: a letter, a number or ``_``.
_WORD = r"[\p{L}\p{N}_]"
_NOT_WORD = r"[^\p{L}\p{N}_]"
_ANY = "(?s:.*)"

# Python-only regex constructs RE2 cannot run, detected before asking RE2 (clearer errors).
_UNSUPPORTED = [
    (re.compile(r"\(\?<?[=!]"), "lookahead/lookbehind"),
    (re.compile(r"(?<!\\)(?:\\\\)*\\[1-9]"), "backreferences"),
    (re.compile(r"\(\?P="), "named backreferences"),
    (re.compile(r"\(\?>"), "atomic groups"),
    (re.compile(r"\(\?\("), "conditionals"),
    (re.compile(r"[*+?}][+]"), "possessive quantifiers"),
    (re.compile(r"(?<!\\)(?:\\\\)*\\Z"), r"\Z (use \z)"),
]


_VALID_UTF8 = "(?s:[\\x{0}-\\x{D7FF}\\x{E000}-\\x{10FFFF}])*"


def valid_utf8(text: tf.Tensor) -> tf.Tensor:
    """Replaces invalid UTF-8 in a string tensor with U+FFFD (the package's text policy).

    Valid text is returned unchanged; a byte sequence Python's ``bytes.decode("utf-8")``
    rejects (a stray byte, a truncated sequence, an encoded surrogate, a code point beyond
    U+10FFFF) becomes replacement characters, as ``bytes.decode("utf-8", "replace")`` does.
    Every compiled LF, Python LF and the exported signatures see text through this
    function, so an invalid byte never makes a keyword/regex/length LF silently abstain on
    the rest of the text. Valid rows (one RE2 scan tells them) skip the transcoding.

    Args:
        text: a ``tf.string`` tensor, 1-D.

    Returns:
        The same texts, valid UTF-8.

    Example:
        >>> valid_utf8(tf.constant([b"\\xff song", b"ok"])).numpy().tolist()
        [b'\\xef\\xbf\\xbd song', b'ok']
    """
    text = tf.convert_to_tensor(text, tf.string)
    # RE2 matches exactly the valid UTF-8 (no surrogates, overlong forms or code points
    # beyond U+10FFFF): 20% of a batch of YouTube comments is ASCII, 100% valid
    valid = tf.strings.regex_full_match(text, _VALID_UTF8)

    def fix() -> tf.Tensor:
        flat = tf.reshape(text, [-1])
        ok = tf.reshape(valid, [-1])
        keep = tf.cast(tf.where(ok)[:, 0], tf.int32)
        redo = tf.cast(tf.where(~ok)[:, 0], tf.int32)
        fixed = tf.strings.unicode_transcode(
            tf.gather(flat, redo), "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD
        )
        out = tf.dynamic_stitch([keep, redo], [tf.gather(flat, keep), fixed])
        return tf.reshape(out, tf.shape(text))

    return tf.cond(tf.reduce_all(valid), lambda: tf.identity(text), fix)


def re2_escape(text: str) -> str:
    """Escapes a literal string for RE2: ASCII punctuation gets a backslash, controls ``\\x{..}``.

    Example:
        >>> re2_escape("c++ (v2)")
        'c\\\\+\\\\+ \\\\(v2\\\\)'
    """
    out = []
    for ch in text:
        o = ord(ch)
        if ch.isalnum() or o > 127 or ch == " ":
            out.append(ch)
        elif 33 <= o <= 126:
            out.append("\\" + ch)
        else:
            out.append(f"\\x{{{o:x}}}")
    return "".join(out)


def python_repeats(pattern: str) -> str:
    """Rewrites Python-only ``{,n}`` / ``{,}`` repeats as RE2's ``{0,n}`` / ``{0,}``.

    Python reads ``x{,n}`` as "0 to n times"; RE2 would read the braces literally and never
    match what Python matches. Escaped braces and braces inside ``[...]`` are left alone.

    Example:
        >>> python_repeats(r"colou{,1}r [{,1}] \\{,1}")
        'colou{0,1}r [{,1}] \\\\{,1}'
    """
    out: list[str] = []
    i, n, in_class = 0, len(pattern), False
    while i < n:
        c = pattern[i]
        if c == "\\":
            out.append(pattern[i:i + 2])
            i += 2
        elif in_class:
            if pattern.startswith("[:", i) and ":]" in pattern[i + 2:]:
                j = pattern.index(":]", i + 2) + 2  # a POSIX class [:alpha:]
                out.append(pattern[i:j])
                i = j
                continue
            in_class = c != "]"
            out.append(c)
            i += 1
        elif c == "[":
            in_class = True
            out.append(c)
            i += 1
            if pattern.startswith("^", i):
                out.append("^")
                i += 1
            if pattern.startswith("]", i):  # a "]" first in a class is literal
                out.append("]")
                i += 1
        else:
            m = _PY_REPEAT.match(pattern, i) if c == "{" else None
            if m:
                out.append("{0," + m.group(1) + "}")
                i = m.end()
            else:
                out.append(c)
                i += 1
    return "".join(out)


_PY_REPEAT = re.compile(r"\{,(\d*)\}")


def _check_re2(pattern: str, who: str) -> None:
    """Rejects a pattern RE2 cannot compile, with an error naming the LF."""
    for detector, what in _UNSUPPORTED:
        if detector.search(pattern):
            raise ValueError(
                f"{who}: the pattern uses {what}, which RE2 (TensorFlow's regex engine) does not "
                "support (no lookaround, backreferences, atomic groups, possessive quantifiers or "
                f"conditionals). Rewrite it or use a Python LF. Received: pattern={pattern!r}"
            )
    with tf.init_scope():
        try:
            tf.strings.regex_full_match(tf.constant([""]), pattern)
        except tf.errors.InvalidArgumentError as exc:
            reason = exc.message.split("error:", 1)[-1].strip()
            raise ValueError(
                f"{who}: RE2 (TensorFlow's regex engine) cannot compile the pattern: {reason}. "
                f"Received: pattern={pattern!r}"
            ) from None


def _check_name(name: Any, default: str) -> str:
    name = default if name is None else name
    if not isinstance(name, str) or not name:
        raise TypeError(f"an LF name must be a non-empty string. Received: name={name!r}")
    return name


def _check_label(label: Any, who: str) -> int:
    if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)):
        raise TypeError(f"{who}: label must be an integer class index. Received: label={label!r}")
    if not -(2**31) <= int(label) < 2**31:
        raise ValueError(
            f"{who}: label must be a class index (0..C-1, or -1/+1 in a signed set). "
            f"Received: label={label!r}"
        )
    return int(label)


class CompiledLF(tf.Module):
    """Base class of compiled LFs: TF ops over a batch of feature tensors.

    Subclasses implement :meth:`fires` (a boolean ``[batch]`` mask) or override :meth:`vote`.

    Attributes:
        name: the LF's name.
        fields: ``{field: tf.DType}`` the LF reads.
        labels: the labels it can emit (``None`` when they are only known at run time).
        kind: a short description (``"keyword"``, ``"regex"``, ...).
    """

    compiled: bool = True
    kind: str = "compiled"

    def __init__(self, name: str, fields: Mapping[str, tf.DType], label: int | None):
        super().__init__(name=re.sub(r"\W|^(?=\d)", "_", name, flags=re.ASCII))
        self._lf_name = name
        self._fields = dict(fields)
        self.label = label

    @property
    def name(self) -> str:  # type: ignore[override]
        """The LF's name (the label-matrix column's name)."""
        return self._lf_name

    @property
    def fields(self) -> dict[str, tf.DType]:
        """``{field: tf.DType}`` read by the LF."""
        return dict(self._fields)

    @property
    def labels(self) -> tuple[int, ...] | None:
        """Labels the LF can emit; ``None`` when known only at run time."""
        return None if self.label is None else (self.label,)

    def fires(self, inputs: Mapping[str, tf.Tensor]) -> tf.Tensor:
        """Boolean ``[batch]``: where the LF votes its ``label``."""
        raise TypeError(f"{type(self).__name__} must implement fires() or vote()")

    def vote(self, inputs: Mapping[str, tf.Tensor], abstain: int = ABSTAIN) -> tf.Tensor:
        """Returns ``int32 [batch]`` votes; ``abstain`` where the LF does not vote.

        Args:
            inputs: ``{field: 1-D tensor}`` holding at least :attr:`fields`.
            abstain: the value written where the LF abstains (``-1``, or ``0`` in a
                signed set). Defaults to `ABSTAIN`.
        """
        return tf.where(self.fires(inputs), tf.constant(self.label, tf.int32),
                        tf.constant(abstain, tf.int32))

    def __call__(self, features: Mapping[str, Any]) -> tf.Tensor:
        """Applies this LF alone to a dict of 1-D tensors/arrays (ignores missing masks)."""
        inputs = {f: tf.convert_to_tensor(features[f]) for f in self._fields}
        inputs = {f: valid_utf8(t) if t.dtype == tf.string else t for f, t in inputs.items()}
        return self.vote(inputs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._lf_name!r})"


# --------------------------------------------------------------------------- text
class RegexLF(CompiledLF):
    """Votes ``label`` where a RE2 pattern fully matches the field (see `regex_lf`)."""

    kind = "regex"

    def __init__(self, name: str, field: str, label: int, full_pattern: str, source: str):
        super().__init__(name, {field: tf.string}, label)
        self.field = field
        self.full_pattern = full_pattern
        self.source = source

    def fires(self, inputs):
        return tf.strings.regex_full_match(inputs[self.field], self.full_pattern)


def keyword_lf(
    keywords: str | Sequence[str],
    label: int,
    field: str = "text",
    match: Literal["word", "substring"] = "word",
    ignore_case: bool = True,
    name: str | None = None,
) -> CompiledLF:
    """Votes ``label`` when the text contains any of the keywords (or phrases).

    ``match="substring"`` finds a keyword anywhere (Python: ``kw in text``);
    ``match="word"`` only where it is not glued to a word character on either side
    (Python: ``re.search(r"(?<!\\w)" + re.escape(kw) + r"(?!\\w)", text)``), with Unicode
    letters, numbers and ``_`` as word characters. ``ignore_case=True`` uses Unicode simple
    case folding, which equals ``kw.lower() in text.lower()`` for every character except a
    few whose lowercase is not their case fold (``"İ"`` lowers to ``"i̇"``, ``"ſ"`` and the
    Kelvin sign ``"K"`` fold to ``"s"``/``"k"``); see the module docstring.

    Args:
        keywords: a keyword or phrase, or a list of them.
        label: the class index voted on a match.
        field: the text field read. Defaults to `"text"`.
        match: ``"word"`` or ``"substring"``. Defaults to `"word"`.
        ignore_case: case-insensitive matching. Defaults to `True`.
        name: the LF's name. Defaults to `None` (``keyword_<first keyword>``).

    Returns:
        A compiled LF.

    Example:
        >>> lf = keyword_lf(["subscribe"], label=1, match="substring")
        >>> lf({"text": ["Please SUBSCRIBE!", "nice"]}).numpy().tolist()
        [1, -1]
    """
    if isinstance(keywords, str):
        keywords = [keywords]
    if not isinstance(keywords, (list, tuple, set, frozenset)):
        raise TypeError(
            "keyword_lf needs a keyword string or a list of them. "
            f"Received: keywords={keywords!r}"
        )
    keywords = list(keywords)
    if not keywords or not all(isinstance(k, str) and k for k in keywords):
        raise ValueError(
            "keyword_lf needs one or more non-empty keyword strings. "
            f"Received: keywords={keywords!r}"
        )
    name = _check_name(name, "keyword_" + re.sub(r"\W+", "_", keywords[0].strip().lower()))
    who = f"LF {name!r}"
    label = _check_label(label, who)
    if match not in ("word", "substring"):
        raise ValueError(f"{who}: match must be 'word' or 'substring'. Received: match={match!r}")
    # (?i) costs RE2 nothing measurable here (measured: 40-43 ms per 200k comments either way,
    # while a shared lowercased copy costs 47 ms more), so case folding stays in the pattern.
    alternation = "|".join(re2_escape(k) for k in keywords)
    core = f"(?i:{alternation})" if ignore_case else f"(?:{alternation})"
    if match == "word":
        core = f"(?:^|{_NOT_WORD}){core}(?:{_NOT_WORD}|$)"
    full = f"{_ANY}{core}{_ANY}"
    _check_re2(full, who)
    lf = RegexLF(name, field, label, full, source=alternation)
    lf.kind = "keyword"
    lf.keywords = tuple(keywords)
    lf.match = match  # read by LFSet's shared token tables (token_tables.table_route)
    lf.ignore_case = bool(ignore_case)
    return lf


def regex_lf(
    pattern: str,
    label: int,
    field: str = "text",
    ignore_case: bool = False,
    name: str | None = None,
) -> CompiledLF:
    """Votes ``label`` where ``pattern`` is found in the text (Python ``re.search`` semantics).

    The pattern runs on RE2: the differences from Python ``re`` are listed in the module
    docstring; patterns RE2 cannot run (lookaround, backreferences, ...) are rejected here
    with an error naming the LF. ``.`` does not match ``"\\n"`` unless the pattern says
    ``(?s)``, as in Python.

    Args:
        pattern: a regular expression (RE2 syntax, mostly Python's).
        label: the class index voted on a match.
        field: the text field read. Defaults to `"text"`.
        ignore_case: case-insensitive matching (Unicode simple case folding). Defaults to `False`.
        name: the LF's name. Defaults to `None` (``regex_<pattern>``).

    Returns:
        A compiled LF.

    Example:
        >>> lf = regex_lf(r"check.*out", label=1, ignore_case=True)
        >>> lf({"text": ["Check my video out", "out, check"]}).numpy().tolist()
        [1, -1]
    """
    if not isinstance(pattern, str) or not pattern:
        raise ValueError(
            f"regex_lf needs a non-empty pattern string. Received: pattern={pattern!r}"
        )
    name = _check_name(name, "regex_" + pattern)
    who = f"LF {name!r}"
    label = _check_label(label, who)
    _check_re2(pattern, who)
    translated = python_repeats(pattern)
    core = f"(?i:{translated})" if ignore_case else f"(?:{translated})"
    full = f"{_ANY}{core}{_ANY}"
    _check_re2(full, who)
    return RegexLF(name, field, label, full, source=pattern)


class LengthLF(CompiledLF):
    """Votes ``label`` when the text length lies within bounds (see `length_lf`)."""

    kind = "length"

    def __init__(self, name, field, label, bounds: dict[str, int | None]):
        super().__init__(name, {field: tf.string}, label)
        self.field = field
        self.bounds = dict(bounds)

    def fires(self, inputs):
        text = inputs[self.field]
        ok = tf.ones_like(text, dtype=tf.bool)
        b = self.bounds
        if b["min_chars"] is not None or b["max_chars"] is not None:
            n = tf.strings.length(text, unit="UTF8_CHAR")
            if b["min_chars"] is not None:
                ok &= n >= b["min_chars"]
            if b["max_chars"] is not None:
                ok &= n <= b["max_chars"]
        lo, hi = b["min_words"], b["max_words"]
        if (lo is not None and lo > 500) or (hi is not None and hi > 500):
            n = _word_counts(text)
            if lo is not None:
                ok &= n >= lo
            if hi is not None:
                ok &= n <= hi
            return ok
        # Small bounds: one RE2 full match each, no ragged tensors.
        if hi is not None:
            ok &= tf.strings.regex_full_match(text, f"{_WS}*(?:{_NOT_WS}+{_WS}*){{0,{hi}}}")
        if lo is not None and lo > 0:
            rest = f"(?:{_WS}+{_NOT_WS}+){{{lo - 1}}}" if lo > 1 else ""
            ok &= tf.strings.regex_full_match(text, f"{_WS}*{_NOT_WS}+{rest}{_ANY}")
        return ok


def _word_counts(text: tf.Tensor) -> tf.Tensor:
    """Number of ``str.split()`` words per string (Unicode whitespace included)."""
    ascii_ws = tf.strings.regex_replace(text, _WS, " ")
    return tf.cast(tf.strings.split(ascii_ws).row_lengths(), tf.int32)


def length_lf(
    field: str = "text",
    label: int = 0,
    *,
    min_words: int | None = None,
    max_words: int | None = None,
    min_chars: int | None = None,
    max_chars: int | None = None,
    name: str | None = None,
) -> CompiledLF:
    """Votes ``label`` when a text's length lies within all given (inclusive) bounds.

    Words are counted like ``len(text.split())`` (any Unicode whitespace separates words);
    characters like ``len(text)`` (Unicode code points).

    Args:
        field: the text field read. Defaults to `"text"`.
        label: the class index voted. Defaults to `0`.
        min_words: at least this many words. Defaults to `None`.
        max_words: at most this many words. Defaults to `None`.
        min_chars: at least this many characters. Defaults to `None`.
        max_chars: at most this many characters. Defaults to `None`.
        name: the LF's name. Defaults to `None` (``length_<field>``).

    Returns:
        A compiled LF.

    Example:
        >>> lf = length_lf("text", label=0, max_words=4)   # "fewer than 5 words"
        >>> lf({"text": ["cool video!", "one two three four five"]}).numpy().tolist()
        [0, -1]
    """
    name = _check_name(name, f"length_{field}")
    who = f"LF {name!r}"
    label = _check_label(label, who)
    bounds = dict(min_words=min_words, max_words=max_words,
                  min_chars=min_chars, max_chars=max_chars)
    if all(v is None for v in bounds.values()):
        raise ValueError(f"{who}: give at least one of min_words, max_words, min_chars, max_chars")
    for k, v in bounds.items():
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0):
            raise ValueError(f"{who}: {k} must be a non-negative integer. Received: {k}={v!r}")
    for lo, hi in (("min_words", "max_words"), ("min_chars", "max_chars")):
        if bounds[lo] is not None and bounds[hi] is not None and bounds[lo] > bounds[hi]:
            raise ValueError(
                f"{who}: {lo} > {hi} can never fire. Received: {lo}={bounds[lo]}, {hi}={bounds[hi]}"
            )
    bounds = {k: None if v is None else int(v) for k, v in bounds.items()}
    return LengthLF(name, field, label, bounds)


# --------------------------------------------------------------------- lookups
class LookupLF(CompiledLF):
    """Votes the label a `tf.lookup.StaticHashTable` gives a field's value or tokens."""

    kind = "lookup"
    _MISS = -(2**31)

    def __init__(self, name, field, keys, values, key_dtype, tokens, ignore_case, label):
        super().__init__(name, {field: key_dtype}, label)
        self.field = field
        self.tokens = tokens
        self.ignore_case = ignore_case
        self._labels = tuple(sorted(set(int(v) for v in values)))
        # the table's contents, also read by LFSet's shared token tables
        self.keys, self.values, self.key_dtype = tuple(keys), tuple(values), key_dtype
        with tf.init_scope():
            self.table = tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(
                    tf.constant(keys, dtype=key_dtype), tf.constant(values, dtype=tf.int32)
                ),
                default_value=self._MISS,
            )

    @property
    def labels(self):
        return self._labels

    def vote(self, inputs, abstain=ABSTAIN):
        x = inputs[self.field]
        if x.dtype != tf.string:
            x = _as_int64(x)
        elif self.ignore_case:
            x = tf.strings.lower(x, encoding="utf-8")
        if not self.tokens:
            found = self.table.lookup(x)
        else:
            if self.tokens == "words":
                x = tf.strings.regex_replace(x, f"{_NOT_WORD}+", " ")
            else:
                x = tf.strings.regex_replace(x, _WS, " ")
            toks = tf.strings.split(x)
            hits = tf.ragged.map_flat_values(self.table.lookup, toks).to_tensor(self._MISS)
            hits = tf.concat([hits, tf.fill([tf.shape(hits)[0], 1], self._MISS)], axis=1)
            # the first token (left to right) found in the table decides
            width = tf.shape(hits)[1]
            pos = tf.where(hits != self._MISS, tf.range(width)[None, :], width - 1)
            found = tf.gather(hits, tf.reduce_min(pos, axis=1), batch_dims=1)
        return tf.where(found == self._MISS, tf.constant(abstain, tf.int32), found)


def _as_int64(x: tf.Tensor) -> tf.Tensor:
    """Integral numbers as int64; non-integral or NaN values become a sentinel no key equals."""
    if x.dtype.is_integer:
        return tf.cast(x, tf.int64)
    xf = tf.cast(x, tf.float64)
    integral = tf.math.is_finite(xf) & (tf.math.floor(xf) == xf) & (tf.abs(xf) < 2.0**62)
    return tf.where(integral, tf.cast(tf.where(integral, xf, 0.0), tf.int64),
                    tf.constant(np.iinfo(np.int64).min, tf.int64))


def _table_items(table, label, who) -> tuple[list, list, tf.DType]:
    if isinstance(table, Mapping):
        if label is not None:
            raise ValueError(f"{who}: give a dict value -> label, or a set plus label, not both")
        items = list(table.items())
    else:
        if label is None:
            raise ValueError(f"{who}: a set of values needs label=; or pass a dict value -> label")
        label = _check_label(label, who)
        items = [(k, label) for k in table]
    if not items:
        raise ValueError(f"{who}: the lookup table is empty. Received: table={table!r}")
    keys = [k for k, _ in items]
    values = [_check_label(v, who) for _, v in items]
    if all(isinstance(k, str) for k in keys):
        return keys, values, tf.string
    if all(isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in keys):
        return [int(k) for k in keys], values, tf.int64
    raise TypeError(
        f"{who}: table keys must be all strings or all integers. Received: {keys[:5]!r}"
    )


def lookup_lf(
    table: Mapping[Any, int] | Sequence[Any] | set,
    field: str,
    label: int | None = None,
    tokens: bool | Literal["whitespace", "words"] = False,
    ignore_case: bool = False,
    name: str | None = None,
) -> CompiledLF:
    """Knowledge-base / distant-supervision LF: a field's value (or one of its tokens) in a table.

    With a set (or list) of values every hit votes ``label``; with a dict ``value -> label``
    the hit's own label is voted. With ``tokens=True`` (or ``"whitespace"``) the text is split
    like ``str.split()`` and the first token (left to right) found in the table decides;
    ``tokens="words"`` uses runs of word characters (Python ``re.findall(r"\\w+", text)``).
    Keys are strings (text fields) or integers (integer ids; float inputs match when integral).

    Args:
        table: the values, or a dict value -> label.
        field: the field looked up.
        label: the label for a set/list table. Defaults to `None`.
        tokens: look up tokens instead of the whole value. Defaults to `False`.
        ignore_case: lowercase keys (Python ``str.lower``) and text (ICU, through
            ``tf.strings.lower(encoding="utf-8")``: the same as ``str.lower`` except for
            letters added in Unicode 14, and the text after a NUL character is dropped).
            Defaults to `False`.
        name: the LF's name. Defaults to `None` (``lookup_<field>``).

    Returns:
        A compiled LF holding a ``tf.lookup.StaticHashTable``.

    Example:
        >>> lf = lookup_lf({"alice", "bob"}, field="author", label=1)
        >>> lf({"author": ["bob", "carol"]}).numpy().tolist()
        [1, -1]
    """
    name = _check_name(name, f"lookup_{field}")
    who = f"LF {name!r}"
    if tokens not in (False, True, "whitespace", "words"):
        raise ValueError(
            f"{who}: tokens must be False, True, 'whitespace' or 'words'. "
            f"Received: tokens={tokens!r}"
        )
    if isinstance(table, (str, bytes)):
        raise TypeError(
            f"{who}: table must be a collection of values, not one string. Received: {table!r}"
        )
    if not isinstance(table, (Mapping, list, tuple, set, frozenset, np.ndarray)):
        raise TypeError(
            f"{who}: table must be a dict value -> label or a collection (set, list) of values. "
            f"Received: table={table!r}"
        )
    keys, values, key_dtype = _table_items(table, label, who)
    if key_dtype != tf.string and (tokens or ignore_case):
        raise ValueError(f"{who}: tokens/ignore_case need string keys. Received keys: {keys[:5]!r}")
    if ignore_case:
        merged: dict[str, int] = {}
        for k, v in zip(keys, values):
            merged.setdefault(k.lower(), v)
        keys, values = list(merged), list(merged.values())
    elif len(set(keys)) != len(keys):
        raise ValueError(f"{who}: the table has duplicate keys")
    mode = "whitespace" if tokens is True else tokens
    return LookupLF(name, field, keys, values, key_dtype, mode, ignore_case,
                    label if not isinstance(table, Mapping) else None)


class ThresholdLF(CompiledLF):
    """Votes ``label`` when a numeric field lies beyond thresholds (see `threshold_lf`)."""

    kind = "threshold"

    def __init__(self, name, field, label, above, below, inclusive):
        super().__init__(name, {field: tf.float64}, label)
        self.field, self.above, self.below, self.inclusive = field, above, below, inclusive

    def fires(self, inputs):
        x = tf.cast(inputs[self.field], tf.float64)
        ok = ~tf.math.is_nan(x)
        if self.above is not None:
            ok &= (x >= self.above) if self.inclusive else (x > self.above)
        if self.below is not None:
            ok &= (x <= self.below) if self.inclusive else (x < self.below)
        return ok


def threshold_lf(
    field: str,
    label: int,
    above: float | None = None,
    below: float | None = None,
    inclusive: bool = False,
    name: str | None = None,
) -> CompiledLF:
    """Votes ``label`` when a numeric field is above and/or below thresholds.

    With both, the value must lie between them. ``NaN`` abstains. Values are compared in
    float64; TensorFlow's CPU kernels flush subnormal numbers (``|x| < 2.2e-308``) to zero,
    so ``threshold_lf(above=0.0)`` does not fire on them although Python's ``x > 0.0`` does.

    Args:
        field: the numeric field.
        label: the class index voted.
        above: fire when ``x > above`` (``>=`` if inclusive). Defaults to `None`.
        below: fire when ``x < below`` (``<=`` if inclusive). Defaults to `None`.
        inclusive: include the thresholds. Defaults to `False`.
        name: the LF's name. Defaults to `None` (``threshold_<field>``).

    Returns:
        A compiled LF.

    Example:
        >>> lf = threshold_lf("polarity", label=0, above=0.9)
        >>> lf({"polarity": [0.95, 0.9, float("nan")]}).numpy().tolist()
        [0, -1, -1]
    """
    name = _check_name(name, f"threshold_{field}")
    who = f"LF {name!r}"
    label = _check_label(label, who)
    if above is None and below is None:
        raise ValueError(f"{who}: give above=, below= or both")
    for k, v in (("above", above), ("below", below)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float, np.number))
                              or math.isnan(float(v))):
            raise ValueError(f"{who}: {k} must be a number. Received: {k}={v!r}")
    if above is not None and below is not None and float(above) >= float(below):
        raise ValueError(
            f"{who}: above must be smaller than below (the LF fires between them). "
            f"Received: above={above}, below={below}"
        )
    return ThresholdLF(name, field, label, None if above is None else float(above),
                       None if below is None else float(below), bool(inclusive))


class ColumnLF(CompiledLF):
    """Votes what an existing label column says (see `column_lf`)."""

    kind = "column"

    def __init__(self, name, column, mapping):
        key_dtype = None
        if mapping is not None:
            keys, values, key_dtype = _table_items(mapping, None, f"LF {name!r}")
        dtype = tf.string if key_dtype == tf.string else tf.float64
        super().__init__(name, {column: dtype}, None)
        self.column = column
        self._labels = None
        self.lookup = None
        if mapping is not None:
            self._labels = tuple(sorted(set(values)))
            self.lookup = LookupLF(name, column, keys, values, key_dtype, False, False, None)

    @property
    def labels(self):
        return self._labels

    def vote(self, inputs, abstain=ABSTAIN):
        x = inputs[self.column]
        if self.lookup is not None:
            if x.dtype == tf.string:
                votes = self.lookup.vote({self.column: x}, abstain)
                return tf.where(tf.strings.length(x) == 0, tf.constant(abstain, tf.int32), votes)
            return self.lookup.vote({self.column: x}, abstain)
        if x.dtype == tf.string:
            raise TypeError(
                f"LF {self.name!r}: column {self.column!r} holds strings; pass mapping= "
                "(value -> label). Received: a string tensor"
            )
        if x.dtype.is_integer:
            # int64 / uint values stay wide until the LF set's range check (no int32 wrap:
            # 2**32 + 1 must not read as a vote for class 1).
            if x.dtype in (tf.uint64,):
                x = tf.minimum(x, tf.constant(2**62, x.dtype))
            return tf.cast(x, tf.int64) if x.dtype.size >= 4 else tf.cast(x, tf.int32)
        xf = tf.cast(x, tf.float64)
        nan = tf.math.is_nan(xf)
        integral = nan | (tf.math.floor(xf) == xf)
        n = tf.shape(xf, tf.int64)[0]
        bad = tf.reduce_min(tf.where(integral, n, tf.range(n)))
        check = tf.debugging.Assert(
            tf.reduce_all(integral),
            [f"[tfsnorkel] LF {self.name!r} returned a non-integer label at row", bad,
             "of the batch"],
        )
        with tf.control_dependencies([check]):
            big = tf.clip_by_value(tf.where(nan, tf.zeros_like(xf), xf), -(2.0**62), 2.0**62)
            return tf.where(nan, tf.constant(abstain, tf.int64), tf.cast(big, tf.int64))


def column_lf(
    column: str,
    mapping: Mapping[Any, int] | None = None,
    name: str | None = None,
) -> CompiledLF:
    """Votes from an existing label column (a crowd worker's answers, a legacy rule's output).

    With ``mapping`` (value -> label) a string or integer column is translated; unmapped
    values, empty strings and missing values abstain. Without it the column already holds
    labels (``-1`` abstain, ``NaN``/``None`` missing -> abstain); values must be integers in
    ``[-1, C-1]`` (checked when the set runs, naming the LF).

    Args:
        column: the column (field) holding the answers.
        mapping: value -> label. Defaults to `None` (the values are labels).
        name: the LF's name. Defaults to `None` (the column name).

    Returns:
        A compiled LF.

    Example:
        >>> lf = column_lf("worker_3", mapping={"spam": 1, "ham": 0})
        >>> lf({"worker_3": ["spam", "", "ham"]}).numpy().tolist()
        [1, -1, 0]
    """
    name = _check_name(name, column)
    if mapping is not None and not isinstance(mapping, Mapping):
        raise TypeError(
            f"LF {name!r}: mapping must be a dict value -> label. Received: {mapping!r}"
        )
    return ColumnLF(name, column, mapping)


# ------------------------------------------------------------------ classifiers
class ClassifierLF(CompiledLF):
    """Votes from a TF/Keras model's probabilities and thresholds (see `classifier_lf`)."""

    kind = "classifier"

    def __init__(self, name, model, fields, low, high, threshold, labels):
        super().__init__(name, fields, None)
        self.model = model
        self.low, self.high, self.threshold = low, high, threshold
        self.class_labels = None if labels is None else tuple(int(v) for v in labels)

    @property
    def labels(self):
        return self.class_labels

    def vote(self, inputs, abstain=ABSTAIN):
        names = list(self._fields)
        x = inputs[names[0]] if len(names) == 1 else {f: inputs[f] for f in names}
        p = tf.convert_to_tensor(self.model(x))
        p = tf.cast(p, tf.float32)
        if p.shape.rank == 2 and p.shape[-1] == 1:
            p = p[:, 0]
        ab = tf.constant(abstain, tf.int32)
        if p.shape.rank == 1:
            if self.class_labels is not None and len(self.class_labels) != 2:
                raise ValueError(
                    f"LF {self.name!r}: the model outputs one probability (binary), so labels= "
                    f"needs 2 entries. Received: labels={self.class_labels}"
                )
            neg, pos = self.class_labels or (0, 1)
            return tf.where(p >= self.high, pos, tf.where(p <= self.low, neg, ab))
        if p.shape.rank != 2:
            raise ValueError(
                f"LF {self.name!r}: the model must return [batch] or [batch, C] probabilities. "
                f"Received shape: {p.shape}"
            )
        c = p.shape[-1]
        if self.class_labels is not None and c is not None and len(self.class_labels) != c:
            raise ValueError(
                f"LF {self.name!r}: the model returns {c} classes but labels= has "
                f"{len(self.class_labels)} entries. Received: labels={self.class_labels}"
            )
        if c == 2 and self.threshold is None:
            neg, pos = self.class_labels or (0, 1)
            p1 = p[:, 1]
            return tf.where(p1 >= self.high, pos, tf.where(p1 <= self.low, neg, ab))
        idx = tf.argmax(p, axis=1, output_type=tf.int32)
        votes = idx if self.class_labels is None else tf.gather(
            tf.constant(self.class_labels, tf.int32), idx)
        thr = 0.0 if self.threshold is None else self.threshold
        return tf.where(tf.reduce_max(p, axis=1) >= thr, votes, ab)


def classifier_lf(
    model: Callable[[Any], Any],
    fields: FieldSpec = "text",
    *,
    low: float | None = None,
    high: float | None = None,
    threshold: float | None = None,
    labels: Sequence[int] | None = None,
    name: str | None = None,
) -> CompiledLF:
    """Votes with a weak classifier: a Keras model or TF-traceable function plus thresholds.

    The model receives the field's ``[batch]`` tensor (one field) or a dict of them, and
    returns probabilities: ``[batch]`` / ``[batch, 1]`` (binary, P(class 1)) or ``[batch, C]``.

    * Binary: ``p >= high`` votes class 1, ``p <= low`` votes class 0, otherwise abstain
      (defaults ``high = low = 0.5``: every row labelled). A ``[batch, 2]`` output with
      ``low``/``high`` given uses its second column the same way.
    * Multiclass: the argmax class when its probability is ``>= threshold`` (default 0: always).

    ``labels`` renames the classes (e.g. ``(-1, 1)`` in a signed set). A Keras model held by
    the LF is tracked by the LF set, so ``tf.saved_model.save`` exports it.

    Args:
        model: ``keras.Model``, ``tf.Module`` or function ``x -> probabilities``.
        fields: fields fed to the model (see `LabelingFunction`). Defaults to `"text"`.
        low: binary: vote class 0 at or below it. Defaults to `None` (0.5 when binary).
        high: binary: vote class 1 at or above it. Defaults to `None` (0.5 when binary).
        threshold: multiclass: minimum max-probability to vote. Defaults to `None` (0).
        labels: label emitted for each model class. Defaults to `None` (class indices).
        name: the LF's name. Defaults to `None` (the model's name).

    Returns:
        A compiled LF.

    Example:
        >>> lf = classifier_lf(lambda t: tf.strings.length(t) / 10, low=0.2, high=0.8)
        >>> lf({"text": ["a", "abcdefghij", "abcde"]}).numpy().tolist()
        [0, 1, -1]
    """
    if not callable(model):
        raise TypeError(f"classifier_lf needs a callable model. Received: {model!r}")
    default = getattr(model, "name", None) or getattr(model, "__name__", None) or "classifier"
    name = _check_name(name, "classifier_" + str(default).strip("<>"))
    who = f"LF {name!r}"
    fields_ = normalize_fields(fields, who)
    for k, v in (("low", low), ("high", high), ("threshold", threshold)):
        if v is not None and not (0.0 <= float(v) <= 1.0):
            raise ValueError(f"{who}: {k} must be a probability in [0, 1]. Received: {k}={v!r}")
    if low is None and high is None:
        low_, high_ = 0.5, 0.5
    else:
        low_ = -1.0 if low is None else float(low)  # -1: never votes class 0
        high_ = 2.0 if high is None else float(high)  # 2: never votes class 1
    if low_ > high_:
        raise ValueError(f"{who}: low must be <= high. Received: low={low}, high={high}")
    if labels is not None:
        labels = [_check_label(v, who) for v in labels]
    return ClassifierLF(name, model, fields_, low_, high_, threshold, labels)
