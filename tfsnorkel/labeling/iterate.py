"""LF development loop: where to write the next LF, and what adding/removing one changes."""

__all__: list[str] = []
