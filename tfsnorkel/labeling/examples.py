"""Ready-made LF sets from well-known tutorials, written with the compiled LF kinds."""

from __future__ import annotations

from tfsnorkel.labeling.builtin import CompiledLF, keyword_lf, length_lf, lookup_lf, regex_lf

__all__ = ["spam_lfs"]

SPAM, HAM = 1, 0


#: Tokens a spam comment uses to advertise itself: the knowledge base of `spam_lfs(extended=True)`.
SPAM_TOKENS = frozenset(
    {"subscribe", "subscribers", "channel", "channel!", "sub", "giveaway", "free"}
)


def spam_lfs(field: str = "text", *, extended: bool = False) -> list[CompiledLF]:
    """The seven rule LFs of Snorkel's YouTube spam tutorial, compiled (no Python per row).

    They reproduce columns 0-6 of WRENCH youtube's shipped ``weak_labels`` exactly:
    substring keywords on lowercased text (``my``, ``subscribe``, ``http``, ``please``/``plz``
    vote SPAM=1, ``song`` votes HAM=0), ``re.search(r"check.*out", text, re.I)`` votes SPAM,
    and a comment of fewer than 5 whitespace-separated words votes HAM.

    With ``extended=True`` three more compiled LFs follow, written while reading the gold
    *valid* split (the demo and the spam notebook use them): ``keyword_url`` (``youtube.com``,
    ``www.``, ``.com`` -> SPAM), ``kb_spam_tokens`` (a knowledge-base `lookup_lf` over the
    whitespace tokens, `SPAM_TOKENS` -> SPAM) and ``regex_love_song`` (``love/like this/the
    song`` -> HAM).

    Args:
        field: the text field. Defaults to `"text"`.
        extended: add the three extra LFs. Defaults to `False`.

    Returns:
        ``[keyword_my, keyword_subscribe, keyword_link, keyword_please, keyword_song,
        regex_check_out, short_comment]`` (+ ``[keyword_url, kb_spam_tokens,
        regex_love_song]``).

    Example:
        >>> [lf.name for lf in spam_lfs()][:2]
        ['keyword_my', 'keyword_subscribe']
    """
    kw = dict(field=field, match="substring", ignore_case=True)
    lfs = [
        keyword_lf("my", SPAM, name="keyword_my", **kw),
        keyword_lf("subscribe", SPAM, name="keyword_subscribe", **kw),
        keyword_lf("http", SPAM, name="keyword_link", **kw),
        keyword_lf(["please", "plz"], SPAM, name="keyword_please", **kw),
        keyword_lf("song", HAM, name="keyword_song", **kw),
        regex_lf(r"check.*out", SPAM, field=field, ignore_case=True, name="regex_check_out"),
        length_lf(field, HAM, max_words=4, name="short_comment"),
    ]
    if extended:
        lfs += [
            keyword_lf(["youtube.com", "www.", ".com"], SPAM, name="keyword_url", **kw),
            lookup_lf(SPAM_TOKENS, field=field, label=SPAM, tokens=True, name="kb_spam_tokens"),
            regex_lf(
                r"\b(?:love|like) (?:this|the) song\b",
                HAM,
                field=field,
                ignore_case=True,
                name="regex_love_song",
            ),
        ]
    return lfs
