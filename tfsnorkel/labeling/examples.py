"""Ready-made LF sets from well-known tutorials, written with the compiled LF kinds."""

from __future__ import annotations

from tfsnorkel.labeling.builtin import CompiledLF, keyword_lf, length_lf, regex_lf

__all__ = ["spam_lfs"]

SPAM, HAM = 1, 0


def spam_lfs(field: str = "text") -> list[CompiledLF]:
    """The seven rule LFs of Snorkel's YouTube spam tutorial, compiled (no Python per row).

    They reproduce columns 0-6 of WRENCH youtube's shipped ``weak_labels`` exactly:
    substring keywords on lowercased text (``my``, ``subscribe``, ``http``, ``please``/``plz``
    vote SPAM=1, ``song`` votes HAM=0), ``re.search(r"check.*out", text, re.I)`` votes SPAM,
    and a comment of fewer than 5 whitespace-separated words votes HAM.

    Args:
        field: the text field. Defaults to `"text"`.

    Returns:
        ``[keyword_my, keyword_subscribe, keyword_link, keyword_please, keyword_song,
        regex_check_out, short_comment]``.

    Example:
        >>> [lf.name for lf in spam_lfs()][:2]
        ['keyword_my', 'keyword_subscribe']
    """
    kw = dict(field=field, match="substring", ignore_case=True)
    return [
        keyword_lf("my", SPAM, name="keyword_my", **kw),
        keyword_lf("subscribe", SPAM, name="keyword_subscribe", **kw),
        keyword_lf("http", SPAM, name="keyword_link", **kw),
        keyword_lf(["please", "plz"], SPAM, name="keyword_please", **kw),
        keyword_lf("song", HAM, name="keyword_song", **kw),
        regex_lf(r"check.*out", SPAM, field=field, ignore_case=True, name="regex_check_out"),
        length_lf(field, HAM, max_words=4, name="short_comment"),
    ]
