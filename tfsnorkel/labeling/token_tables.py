"""Shared token tables: keyword and lookup LFs on one field, one tokenization, one hash lookup.

An `LFSet` routes its whole-word keyword LFs (``keyword_lf(match="word")``) and string lookup
LFs (`lookup_lf`) into :class:`TokenTable` groups, one per (field, tokenizer, case): the
field's text is tokenized (and lowercased) once per batch, every token (and, for phrases,
every run of ``k`` consecutive words with the separators between them) is looked up once in a
single ``tf.lookup.StaticHashTable`` from key to key id, and the hits are expanded into
``(row, LF, label)`` votes with gathers and one scatter. The cost grows with the length of the
text, not with the number of LFs. The label matrix is exactly the one the LFs produce on their
own (`RegexLF` on RE2, `LookupLF` on its own table); the equivalence rests on these facts:

* **Whole words.** A keyword that starts and ends with a word character (``\\p{L}``,
  ``\\p{N}`` or ``_``, as RE2 classifies it) matches whole-word at ``[s, e)`` exactly when
  ``s`` starts a maximal run of word characters and ``e`` ends one, i.e. when the keyword
  equals the text from the start of the ``i``-th word run to the end of the ``(i+k-1)``-th,
  ``k`` being the keyword's own number of word runs. Those spans are what the tokenizer
  builds (pieces alternate word runs and separator runs; spans are odd-width windows of
  pieces). A keyword that starts or ends with another character keeps its LF on RE2.
* **Case.** RE2's ``(?i)`` matches a character with the members of its Unicode simple
  case-folding orbit, which is not always "the same lowercase" (``"ſ"`` matches ``"s"``,
  ``"ς"`` matches ``"σ"``; Python's and ICU's ``lower`` keep them apart, and ICU lowers
  ``"İ"`` to two characters). :func:`safe_chars` is the set of characters for which it is;
  a case-insensitive keyword with another character keeps its LF on RE2, and a row holding
  one (rare: ``ß``, a final sigma, Cherokee, ``İ``, a NUL byte, ...) is first rewritten
  character by character with :func:`canonical_map` (``"ſ"`` -> ``"s"``, ``"İ"`` -> a letter
  no eligible keyword holds, NUL -> U+FFFF, which lowercasing does not truncate), so that
  lowercasing it gives the same matches as RE2. Lookup LFs keep their own lowercasing, so a
  case-insensitive lookup table is never shared with case-insensitive keywords.
  ``tests/labeling/test_keyword_table.py`` checks these properties against this
  TensorFlow's RE2 and ICU for every code point below U+30000.
* **Lookups** tokenize exactly as `LookupLF` does (``tf.strings.lower`` then the same
  split), and keep its rule "the first token found decides": hits are ordered by position.

Everything is TensorFlow ops (no ``tf.py_function``): the tables are exported with the LF set
in a SavedModel and served without tfsnorkel.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from tfsnorkel.labeling.builtin import _NOT_WORD, _WS, CompiledLF, LookupLF, RegexLF

__all__ = [
    "TokenTable", "canonical_map", "plan_token_tables", "safe_chars", "safe_pattern",
    "table_route",
]

_WORD_RUN = r"[\p{L}\p{N}_]"
_MARK = "\x00"  # separates pieces (a NUL in the text is replaced by U+FFFF first)


def _python_safe(cp: int) -> bool:
    """The Python half of the rule of :func:`safe_chars` for one code point."""
    if cp < 0x80:
        return cp != 0
    if cp >= 0x30000:  # planes 3-16: CJK extensions, tags, private use; no cased letters
        return True
    ch = chr(cp)
    if unicodedata.category(ch) in ("Cn", "Cs"):
        return False
    low = ch.lower()
    return len(low) == 1 and ch.casefold() == low


@functools.lru_cache(maxsize=1)
def safe_chars() -> tuple[tuple[int, int], ...]:
    """Code-point ranges where case-insensitive matching equals comparing lowercase forms.

    A character is *safe* when it is not NUL, and, below U+30000 (no cased script lies
    above), is assigned in Python's Unicode database, is not a surrogate, its lowercase
    (``str.lower``) is one character equal to its case fold (``str.casefold``), and
    ``tf.strings.lower`` (ICU, whose Unicode version may be older) lowercases it to that
    same character. For two safe characters, RE2's ``(?i)`` matches one with the other
    exactly when their lowercase forms are equal (checked against TensorFlow by the tests).

    Returns:
        Sorted, disjoint, inclusive ``(first, last)`` code-point ranges.

    Example:
        >>> safe_chars()[0]
        (1, 180)
    """
    cps = [cp for cp in range(0x80, 0x30000) if _python_safe(cp)]
    cased = [cp for cp in cps if chr(cp).lower() != chr(cp) or chr(cp).upper() != chr(cp)]
    with tf.init_scope():
        icu = tf.strings.lower(tf.constant([chr(c) for c in cased]), encoding="utf-8").numpy()
    wrong = {c for c, low in zip(cased, icu) if low.decode("utf-8") != chr(c).lower()}
    # a character folding onto one of another word class (U+0345, a combining mark, folds
    # to the letter iota): the safe characters of that orbit are unsafe instead
    by_lower: dict[str, list[int]] = {}
    for c in cased:
        by_lower.setdefault(chr(c).lower(), []).append(c)
    for cp in range(0x80, 0x30000):
        ch = chr(cp)
        if _python_safe(cp) or unicodedata.category(ch) in ("Cn", "Cs"):
            continue
        fold = ch.casefold()
        if len(fold) == 1 and _is_word_category(ch) != _is_word_category(fold):
            wrong.update(by_lower.get(fold, ()))
    ranges: list[list[int]] = [[1, 0x7F]]
    for cp in cps:
        if cp in wrong:
            continue
        if ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    if ranges[-1][1] == 0x2FFFF:
        ranges[-1][1] = 0x10FFFF
    else:
        ranges.append([0x30000, 0x10FFFF])
    return tuple((a, b) for a, b in ranges)


def _is_word_category(ch: str) -> bool:
    return ch == "_" or unicodedata.category(ch)[0] in "LN"


@functools.lru_cache(maxsize=1)
def _starts() -> list[int]:
    return [a for a, _ in safe_chars()]


def _safe_cp(cp: int) -> bool:
    """Whether one code point is in :func:`safe_chars`."""
    i = bisect.bisect_right(_starts(), cp) - 1
    return i >= 0 and cp <= safe_chars()[i][1]


def _is_safe(text: str) -> bool:
    return all(_safe_cp(ord(c)) for c in text)


@functools.lru_cache(maxsize=1)
def safe_pattern() -> str:
    """The RE2 pattern that fully matches the texts made only of :func:`safe_chars`.

    Example:
        >>> tf.strings.regex_full_match(["Straight σ", "ſ"], safe_pattern()).numpy().tolist()
        [True, False]
    """
    parts = []
    for a, b in safe_chars():
        parts.append(f"\\x{{{a:x}}}" if a == b else f"\\x{{{a:x}}}-\\x{{{b:x}}}")
    return "[" + "".join(parts) + "]*"


#: rows of a case-insensitive keyword table that hold a NUL byte get U+FFFF in its place
NUL_STANDIN = 0xFFFF
#: the letter "İ" (which ICU lowercases to two characters) stands for; no keyword holds it
DOTTED_I_STANDIN = 0xDF


@functools.lru_cache(maxsize=1)
def canonical_map() -> dict[int, int]:
    """The code-point rewrites applied to unsafe rows of a case-insensitive keyword table.

    An unsafe character (not in :func:`safe_chars`) whose case fold is one safe character
    becomes that character (``"ſ"`` -> ``"s"``, ``"ς"`` -> ``"σ"``, ``"µ"`` -> ``"μ"``);
    ``"İ"`` becomes ``"ß"`` (a letter, as ``"İ"`` is, that RE2 matches with no safe keyword
    character) and NUL becomes U+FFFF (not a word character, like NUL). Other unsafe
    characters stay: RE2 matches none of them with a safe character (U+0345, a combining
    mark that folds to the letter iota, stays, and iota is unsafe instead).

    Returns:
        ``{code point: replacement code point}``.

    Example:
        >>> chr(canonical_map()[ord("ſ")])
        's'
    """
    out = {0: NUL_STANDIN, 0x130: DOTTED_I_STANDIN}
    for cp in range(0x80, 0x30000):
        ch = chr(cp)
        if _safe_cp(cp) or unicodedata.category(ch) in ("Cn", "Cs"):
            continue
        fold = ch.casefold()
        if (len(fold) == 1 and _safe_cp(ord(fold))
                and _is_word_category(ch) == _is_word_category(fold)):
            out[cp] = ord(fold)
    return out


_WORD_CACHE: dict[str, bool] = {}


def _word_chars(texts: Sequence[str]) -> dict[str, bool]:
    """RE2's verdict (``[\\p{L}\\p{N}_]``) for every character of ``texts``, cached."""
    new = sorted({c for t in texts for c in t} - _WORD_CACHE.keys())
    if new:
        with tf.init_scope():
            verdict = tf.strings.regex_full_match(tf.constant(new), _WORD_RUN).numpy()
        _WORD_CACHE.update(zip(new, (bool(v) for v in verdict)))
    return _WORD_CACHE


def _runs(text: str, word: dict[str, bool]) -> int:
    """Number of maximal runs of word characters."""
    return sum(1 for i, c in enumerate(text) if word[c] and (i == 0 or not word[text[i - 1]]))


def table_route(lf: CompiledLF) -> tuple[tuple[str, str, bool, str], list[tuple[str, int, int]]] | None:
    """Where a compiled LF can join a shared token table, or ``None`` if it runs on its own.

    Args:
        lf: a compiled LF.

    Returns:
        ``((field, tokenizer, lowercased, kind), [(key, label, word runs), ...])`` for a
        whole-word keyword LF whose keywords all start and end with a word character (and,
        when it ignores case, hold only :func:`safe_chars`; no NUL or U+FFFF in any case),
        or for a lookup LF with string keys; otherwise ``None``.

    Example:
        >>> from tfsnorkel.labeling import keyword_lf
        >>> table_route(keyword_lf(["Check out", "sub"], label=1))
        (('text', 'words', True, 'keyword'), [('check out', 1, 2), ('sub', 1, 1)])
        >>> table_route(keyword_lf("c++", label=1)) is None
        True
    """
    if isinstance(lf, RegexLF) and lf.kind == "keyword" and getattr(lf, "match", None) == "word":
        kws = list(lf.keywords)
        if any("\x00" in k or chr(NUL_STANDIN) in k for k in kws):
            return None
        if lf.ignore_case and not all(_is_safe(k) for k in kws):
            return None
        word = _word_chars(kws)
        if not all(word[k[0]] and word[k[-1]] for k in kws):
            return None
        entries = [(k.lower() if lf.ignore_case else k, int(lf.label), _runs(k, word))
                   for k in kws]
        kind = "keyword" if lf.ignore_case else "any"
        return (lf.field, "words", bool(lf.ignore_case), kind), entries
    if type(lf) is LookupLF and lf.key_dtype == tf.string:
        mode = lf.tokens or "whole"
        items = list(zip(lf.keys, lf.values))
        if mode == "words":  # a word token never equals a key holding another character
            word = _word_chars([k for k, _ in items])
            items = [(k, v) for k, v in items if k and all(word[c] for c in k)]
        kind = "lookup" if lf.ignore_case else "any"
        return (lf.field, mode, bool(lf.ignore_case), kind), [(k, int(v), 1) for k, v in items]
    return None


def _first_run(text: str, word: dict[str, bool]) -> str:
    """The first maximal run of word characters of a text that starts with one."""
    end = 0
    while end < len(text) and word[text[end]]:
        end += 1
    return text[:end]


def _fix_rows(x: tf.Tensor, ok: tf.Tensor, fix: Any) -> tf.Tensor:
    """``x`` with ``fix`` applied to the rows where ``ok`` is False (skipped when none)."""
    def mixed() -> tf.Tensor:
        bad = tf.where(~ok)
        return tf.tensor_scatter_nd_update(x, bad, fix(tf.gather_nd(x, bad)))

    return tf.cond(tf.reduce_all(ok), lambda: tf.identity(x), mixed)


class TokenTable(tf.Module):
    """Keyword and lookup LFs reading one field, voted by one tokenization and one lookup.

    Args:
        field: the text field.
        tokenizer: ``"words"`` (runs of word characters; phrases as runs of words),
            ``"whitespace"`` (``str.split()``) or ``"whole"`` (the whole value).
        lowercase: lowercase the text with ``tf.strings.lower`` first.
        members: the LFs, in the block's column order.
        entries: for each member, its ``(key, label, word runs)`` (see `table_route`).
        name: the module's name. Defaults to `"token_table"`.

    Example:
        >>> from tfsnorkel.labeling import keyword_lf
        >>> lfs = [keyword_lf(["my channel"], 1), keyword_lf(["song", "my"], 0)]
        >>> t = TokenTable("text", "words", True, lfs, [table_route(lf)[1] for lf in lfs])
        >>> t.votes(tf.constant(["My  channel", "my channel!", "a song"]), -1).numpy().tolist()
        [[-1, 0], [1, 0], [-1, 0]]
    """

    def __init__(
        self,
        field: str,
        tokenizer: str,
        lowercase: bool,
        members: Sequence[CompiledLF],
        entries: Sequence[Sequence[tuple[str, int, int]]],
        name: str = "token_table",
    ):
        super().__init__(name=name)
        if tokenizer not in ("words", "whitespace", "whole"):
            raise ValueError(
                "tokenizer must be 'words', 'whitespace' or 'whole'. "
                f"Received: tokenizer={tokenizer!r}"
            )
        if len(members) != len(entries) or not members:
            raise ValueError(
                "TokenTable needs one entry list per member LF. "
                f"Received: {len(members)} members, {len(entries)} entry lists"
            )
        self.field = field
        self.tokenizer = tokenizer
        self.lowercase = bool(lowercase)
        self.members = list(members)
        owners: dict[str, dict[int, int]] = {}
        max_runs = 1
        for col, ents in enumerate(entries):
            for key, label, runs in ents:
                owners.setdefault(key, {}).setdefault(col, int(label))
                max_runs = max(max_runs, int(runs))
        vocab = sorted(owners)
        self.num_keys = len(vocab)
        self.max_words = max_runs
        lf_of, label_of, counts = [], [], []
        for key in vocab:
            own = owners[key]
            counts.append(len(own))
            for col in sorted(own):
                lf_of.append(col)
                label_of.append(own[col])
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._starts = offsets[:-1]
        self._counts = np.asarray(counts, np.int64)
        self._entry_lf = np.asarray(lf_of, np.int64)
        self._entry_label = np.asarray(label_of, np.int32)
        has_keywords = any(isinstance(m, RegexLF) for m in self.members)
        self._first_decides = not all(isinstance(m, RegexLF) for m in self.members)
        word = _word_chars(vocab)
        heads = sorted({_first_run(k, word) for k in vocab if _runs(k, word) > 1})
        self._phrases = tokenizer == "words" and max_runs > 1
        # case-insensitive keywords: unsafe rows are rewritten first (see canonical_map)
        self._canonical = self.lowercase and has_keywords
        with tf.init_scope():
            self.table = tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(
                    tf.constant(vocab if vocab else [""], tf.string),
                    tf.range(len(vocab), dtype=tf.int64) if vocab
                    else tf.constant([-1], tf.int64),
                ),
                default_value=-1,
            )
            if self._phrases:  # first words of the phrases: windows start only there
                self.heads = tf.lookup.StaticHashTable(
                    tf.lookup.KeyValueTensorInitializer(
                        tf.constant(heads, tf.string), tf.zeros([len(heads)], tf.int64)),
                    default_value=-1,
                )
            if self._canonical:
                cmap = canonical_map()
                self.canonical = tf.lookup.StaticHashTable(
                    tf.lookup.KeyValueTensorInitializer(
                        tf.constant(list(cmap), tf.int32), tf.constant(list(cmap.values()),
                                                                       tf.int32)),
                    default_value=-1,
                )

    @property
    def names(self) -> list[str]:
        """The member LFs' names, in column order."""
        return [m.name for m in self.members]

    def tokens(self, text: tf.Tensor) -> tf.RaggedTensor:
        """The strings looked up per row (``[batch, (tokens)]``), in text order.

        Args:
            text: ``tf.string [batch]``, valid UTF-8.

        Returns:
            Words (with phrases: the pieces, word runs alternating with the separator runs
            between them), or the whitespace tokens, or the whole value; lowercased when
            the table is.
        """
        x = text
        if self._canonical:
            x = _fix_rows(x, tf.strings.regex_full_match(x, safe_pattern()), self._rewrite)
        elif self._phrases:  # NUL is the pieces' separator below
            x = _fix_rows(x, tf.strings.regex_full_match(x, "[^\\x00]*"),
                          lambda t: tf.strings.regex_replace(t, "\\x00", chr(NUL_STANDIN)))
        if self.lowercase:
            x = tf.strings.lower(x, encoding="utf-8")
        if self.tokenizer == "whole":
            return tf.RaggedTensor.from_tensor(x[:, None])
        if self.tokenizer == "whitespace":
            return tf.strings.split(tf.strings.regex_replace(x, _WS, " "))
        if not self._phrases:
            return tf.strings.split(tf.strings.regex_replace(x, f"{_NOT_WORD}+", " "))
        return tf.strings.split(
            tf.strings.regex_replace(x, f"({_NOT_WORD}+)", _MARK + "\\1" + _MARK), sep=_MARK)

    def _hits(self, text: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """``(row, key id)`` of every key found, single tokens first and in text order."""
        toks = self.tokens(text)
        flat, rowid = toks.flat_values, toks.value_rowids()
        ids = self.table.lookup(flat)
        hit = tf.where(ids >= 0)[:, 0]
        rows, kids = [tf.gather(rowid, hit)], [tf.gather(ids, hit)]
        if self._phrases:
            # pieces alternate word runs and separator runs; a phrase of k words is the
            # join of the 2k-1 pieces from a word run on, built only where a phrase starts
            head = tf.where(self.heads.lookup(flat) >= 0)[:, 0]
            head_row = tf.gather(rowid, head)
            limit = tf.gather(toks.row_limits(), head_row)
            for width in range(3, 2 * self.max_words, 2):
                fits = head + width <= limit
                start = tf.boolean_mask(head, fits)
                span = start[:, None] + tf.range(width, dtype=tf.int64)[None, :]
                wid = self.table.lookup(tf.strings.reduce_join(tf.gather(flat, span), axis=1))
                found = tf.where(wid >= 0)[:, 0]
                rows.append(tf.gather(tf.boolean_mask(head_row, fits), found))
                kids.append(tf.gather(wid, found))
        return tf.concat(rows, axis=0), tf.concat(kids, axis=0)

    def _rewrite(self, text: tf.Tensor) -> tf.Tensor:
        cps = tf.strings.unicode_decode(text, "UTF-8")
        flat = cps.flat_values
        new = self.canonical.lookup(flat)
        return tf.strings.unicode_encode(cps.with_flat_values(tf.where(new >= 0, new, flat)),
                                         "UTF-8")

    def votes(self, text: tf.Tensor, abstain: int = -1) -> tf.Tensor:
        """``int32 [batch, len(members)]`` votes of the members on a batch of texts.

        Args:
            text: ``tf.string [batch]``, valid UTF-8 (see `valid_utf8`).
            abstain: the value written where an LF abstains. Defaults to `-1`.

        Returns:
            The members' label-matrix columns.
        """
        with tf.name_scope("token_table"):
            text = tf.convert_to_tensor(text, tf.string)
            n = tf.shape(text, tf.int64)[0]
            m = len(self.members)
            row, kid = self._hits(text)
            start = tf.gather(tf.constant(self._starts), kid)
            ent = tf.ragged.range(start, start + tf.gather(tf.constant(self._counts), kid))
            e = ent.flat_values
            r = tf.gather(row, ent.value_rowids())
            lf = tf.gather(tf.constant(self._entry_lf), e)
            label = tf.gather(tf.constant(self._entry_label), e)
            if self._first_decides:
                # entries are in text order: the first per (row, LF) decides (lookup's rule)
                useg, idx = tf.unique(r * m + lf, out_idx=tf.int64)
                first = tf.math.unsorted_segment_min(tf.range(tf.size(idx, tf.int64)), idx,
                                                     tf.size(useg, tf.int64))
                r, lf, label = useg // m, useg % m, tf.gather(label, first)
            # (keyword LFs only: a repeated (row, LF) carries the same label each time)
            return tf.tensor_scatter_nd_update(
                tf.fill(tf.stack([n, tf.constant(m, tf.int64)]), tf.constant(abstain, tf.int32)),
                tf.stack([r, lf], axis=1), label)

    def __repr__(self) -> str:
        return (f"TokenTable(field={self.field!r}, tokenizer={self.tokenizer!r}, "
                f"lowercase={self.lowercase}, {len(self.members)} LFs, {self.num_keys} keys)")


#: the fewest LFs a token table is made for: tokenizing a text costs about as much as 20
#: keyword LFs' own RE2 scans (benchmarks/lf_apply_scale.py), so smaller groups stay alone
MIN_TABLE_LFS = 16


def plan_token_tables(lfs: Sequence[Any],
                      min_lfs: int = MIN_TABLE_LFS) -> list[tuple[TokenTable, list[int]]]:
    """Groups the eligible LFs of a set into token tables.

    Args:
        lfs: the set's LFs, in column order (Python LFs and ineligible compiled LFs are
            left out of every table).
        min_lfs: the fewest LFs a table is made for; smaller groups run on their own.
            Defaults to `MIN_TABLE_LFS`.

    Returns:
        ``[(table, column indices of its members), ...]``.
    """
    if isinstance(min_lfs, bool) or not isinstance(min_lfs, int) or min_lfs < 1:
        raise ValueError(f"min_lfs must be a positive integer. Received: min_lfs={min_lfs!r}")
    groups: dict[tuple[str, str, bool, str], list[tuple[int, Any, list]]] = {}
    for j, lf in enumerate(lfs):
        if not getattr(lf, "compiled", False):
            continue
        route = table_route(lf)
        if route is not None:
            groups.setdefault(route[0], []).append((j, lf, route[1]))
    out = []
    for k, ((field, tok, low, _), members) in enumerate(groups.items()):
        if len(members) < max(min_lfs, 2):
            continue
        name = re.sub(r"\W|^(?=\d)", "_", f"token_table_{k}_{field}", flags=re.ASCII)
        table = TokenTable(field, tok, low, [m[1] for m in members], [m[2] for m in members],
                           name=name)
        out.append((table, [m[0] for m in members]))
    return out
