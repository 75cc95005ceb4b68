"""`first_of`: one compiled LF from several, voting the first member's non-abstain vote."""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf

from tfsnorkel.labeling.builtin import CompiledLF
from tfsnorkel.labels import ABSTAIN

__all__ = ["FirstOf", "first_of"]


class FirstOf(CompiledLF):
    """A compiled LF that votes what its first non-abstaining member votes (see `first_of`)."""

    kind = "first_of"

    def __init__(self, name: str, members: Sequence[CompiledLF]):
        fields: dict[str, tf.DType] = {}
        for lf in members:
            fields.update(lf.fields)
        super().__init__(name, fields, None)
        self.members = list(members)
        labels = sorted({lab for lf in members for lab in (lf.labels or ())})
        self._labels = tuple(labels)

    @property
    def labels(self) -> tuple[int, ...]:
        """The labels any member can emit."""
        return self._labels

    def vote(self, inputs, abstain=ABSTAIN):
        out = tf.fill(tf.shape(inputs[next(iter(self._fields))]), tf.constant(ABSTAIN, tf.int32))
        for lf in self.members:
            out = tf.where(out == ABSTAIN, lf.vote(inputs, ABSTAIN), out)
        return tf.where(out == ABSTAIN, tf.constant(abstain, tf.int32), out)


def first_of(members: Sequence[CompiledLF], name: str) -> FirstOf:
    """One LF from an ordered list of compiled LFs: the first member that votes decides.

    Args:
        members: compiled LFs, in priority order.
        name: the combined LF's name.

    Returns:
        A compiled LF.

    Raises:
        ValueError: ``members`` is empty or holds a non-compiled LF.

    Example:
        >>> import tfsnorkel as ts
        >>> lf = first_of([ts.keyword_lf("bad", 0), ts.keyword_lf("good", 1)], "sentiment")
        >>> lf({"text": ["good but bad", "good", "meh"]}).numpy().tolist()
        [0, 1, -1]
    """
    members = list(members)
    if not members or not all(isinstance(lf, CompiledLF) for lf in members):
        raise ValueError(
            f"first_of needs one or more compiled LFs. Received: members={members!r}"
        )
    return FirstOf(name, members)
