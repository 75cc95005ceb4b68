"""Python labeling functions: the `LabelingFunction` value object and its decorator.

A Python LF is any callable ``f(x, **resources) -> int`` over one example ``x``. ``x`` is a
:class:`Row`: a read-only mapping of the fields the LF declared, also readable as attributes
(``x.text``, like Snorkel's pandas rows). Inside an :class:`~tfsnorkel.labeling.LFSet` all
Python LFs of the set run together in one ``tf.numpy_function`` per batch; they work
everywhere except a servable SavedModel (the set lists them in ``python_lf_names``).

Missing values: by default (``on_missing="abstain"``) an LF abstains on a row where any field
it reads is missing (``None``/``NaN`` in pandas or numpy input), without being called. With
``on_missing="pass"`` it is called and receives ``None`` for the missing field.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

import tensorflow as tf

__all__ = ["LabelingFunction", "Row", "labeling_function"]

OnMissing = Literal["abstain", "pass"]
FieldSpec = str | Sequence[str] | Mapping[str, Any]


def normalize_fields(fields: FieldSpec, who: str) -> dict[str, tf.DType]:
    """Turns a field declaration into ``{field: tf.DType}`` (a bare name means ``tf.string``).

    Args:
        fields: one field name, a sequence of names (text fields), or a mapping
            ``name -> dtype`` (a ``tf.DType`` or anything ``tf.as_dtype`` accepts).
        who: how to name the owner in error messages (e.g. ``"LF 'foo'"``).

    Returns:
        An insertion-ordered dict ``field -> tf.DType``.
    """
    if isinstance(fields, str):
        fields = [fields]
    if isinstance(fields, Mapping):
        items = list(fields.items())
    elif isinstance(fields, Sequence):
        items = [(f, tf.string) for f in fields]
    else:
        raise TypeError(
            f"{who}: fields must be a field name, a list of names or a dict name -> dtype. "
            f"Received: fields={fields!r}"
        )
    if not items:
        raise ValueError(f"{who}: declare at least one field it reads. Received: fields={fields!r}")
    out: dict[str, tf.DType] = {}
    for name, dtype in items:
        if not isinstance(name, str) or not name:
            raise TypeError(f"{who}: field names must be non-empty strings. Received: {name!r}")
        try:
            out[name] = tf.as_dtype(dtype)
        except TypeError as exc:
            raise TypeError(
                f"{who}: field {name!r} has an unknown dtype. Received: {dtype!r}"
            ) from exc
    return out


class Row(Mapping[str, Any]):
    """One example as a Python LF sees it: a mapping of its fields with attribute access.

    Example:
        >>> x = Row({"text": "check out my channel"})
        >>> x.text == x["text"]
        True
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]):
        object.__setattr__(self, "_values", dict(values))

    def __getitem__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise KeyError(
                f"the row has no field {key!r}; an LF sees only the fields it declared "
                f"(labeling_function(fields=[...])). Available fields: {sorted(self._values)}"
            ) from None

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(
                f"the row has no field {key!r}; an LF sees only the fields it declared "
                f"(labeling_function(fields=[...])). Available fields: {sorted(self._values)}"
            ) from None

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("a Row is read-only")

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Row({self._values!r})"


class LabelingFunction:
    """A Python labeling function: a name, a callable, the fields it reads and its resources.

    Calling the object on one example (a dict, a :class:`Row`, a pandas Series or any object
    with attribute access) returns ``f(x, **resources)``. Inside an ``LFSet`` it runs through
    ``tf.numpy_function`` and must return ``ABSTAIN`` (-1) or a class index (or, in a signed
    set, +1/-1/0).

    Args:
        name: unique name of the LF (the label matrix column's name).
        f: ``f(x, **resources) -> int``.
        fields: what ``x`` holds: a name, a list of names (text fields, ``tf.string``) or a
            dict ``name -> dtype``. Defaults to `("text",)`.
        resources: keyword arguments passed to ``f`` on every call. Defaults to `None`.
        on_missing: ``"abstain"`` (do not call ``f`` on a row where a declared field is
            missing) or ``"pass"`` (call it with ``None`` there). Defaults to `"abstain"`.

    Example:
        >>> lf = LabelingFunction("has_link", lambda x: 1 if "http" in x.text else -1)
        >>> lf({"text": "see http://spam"}), lf({"text": "nice song"})
        (1, -1)
    """

    compiled: bool = False

    def __init__(
        self,
        name: str,
        f: Callable[..., int],
        *,
        fields: FieldSpec = ("text",),
        resources: Mapping[str, Any] | None = None,
        on_missing: OnMissing = "abstain",
    ):
        if not isinstance(name, str) or not name:
            raise TypeError(f"an LF name must be a non-empty string. Received: name={name!r}")
        if not callable(f):
            raise TypeError(f"LF {name!r}: f must be callable. Received: f={f!r}")
        if resources is not None and not isinstance(resources, Mapping):
            raise TypeError(
                f"LF {name!r}: resources must be a dict of keyword arguments. "
                f"Received: resources={resources!r}"
            )
        if on_missing not in ("abstain", "pass"):
            raise ValueError(
                f"LF {name!r}: on_missing must be 'abstain' or 'pass'. "
                f"Received: on_missing={on_missing!r}"
            )
        self.name = name
        self.f = f
        self.resources: dict[str, Any] = dict(resources or {})
        self.fields = normalize_fields(fields, f"LF {name!r}")
        self.on_missing: OnMissing = on_missing
        _check_signature(name, f, self.resources)

    def __call__(self, x: Any) -> int:
        """Applies the LF to one example (a mapping, a Row, or an object with attributes)."""
        if isinstance(x, Mapping) and not isinstance(x, Row):
            x = Row(x)
        return self.f(x, **self.resources)

    def __repr__(self) -> str:
        return f"LabelingFunction({self.name!r}, fields={list(self.fields)})"


def _check_signature(name: str, f: Callable, resources: Mapping[str, Any]) -> None:
    try:
        sig = inspect.signature(f)
    except (TypeError, ValueError):  # builtins without a signature: nothing to check
        return
    try:
        sig.bind(object(), **resources)
    except TypeError as exc:
        raise TypeError(
            f"LF {name!r}: the function must accept one example plus its resources as keyword "
            f"arguments, f(x, **resources) ({exc}). Received: signature {name}{sig} with "
            f"resources={sorted(resources)}"
        ) from None


def labeling_function(
    name: str | Callable | None = None,
    *,
    fields: FieldSpec = ("text",),
    resources: Mapping[str, Any] | None = None,
    on_missing: OnMissing = "abstain",
) -> Callable[[Callable[..., int]], LabelingFunction] | LabelingFunction:
    """Decorator that turns a function ``f(x, **resources) -> int`` into a `LabelingFunction`.

    Both ``@labeling_function()`` and the bare ``@labeling_function`` work; the name defaults
    to the function's name.

    Args:
        name: the LF's name. Defaults to `None` (the function's ``__name__``).
        fields: fields the LF reads (see `LabelingFunction`). Defaults to `("text",)`.
        resources: keyword arguments passed to the function. Defaults to `None`.
        on_missing: ``"abstain"`` or ``"pass"`` (see `LabelingFunction`). Defaults to `"abstain"`.

    Returns:
        A decorator, or the `LabelingFunction` itself when used without parentheses.

    Example:
        >>> @labeling_function()
        ... def short(x):
        ...     return 0 if len(x.text.split()) < 5 else -1
        >>> short.name, short({"text": "cool video"})
        ('short', 0)
    """
    if callable(name) and not isinstance(name, str):
        # used as a bare decorator: @labeling_function
        return LabelingFunction(
            getattr(name, "__name__", "lf"), name, fields=fields, resources=resources,
            on_missing=on_missing,
        )
    if name is not None and not isinstance(name, str):
        raise TypeError(
            "labeling_function takes the LF's name (a string) or decorates a function. "
            f"Received: name={name!r}"
        )

    def decorate(f: Callable[..., int]) -> LabelingFunction:
        if not callable(f):
            raise TypeError(
                f"@labeling_function() must decorate a function. Received: {f!r}"
            )
        lf_name = name if name is not None else getattr(f, "__name__", None)
        if not lf_name or lf_name == "<lambda>":
            raise ValueError(
                "a lambda has no usable name; pass one: labeling_function(name='...')(f). "
                f"Received: name={lf_name!r}"
            )
        return LabelingFunction(
            lf_name, f, fields=fields, resources=resources, on_missing=on_missing
        )

    return decorate
