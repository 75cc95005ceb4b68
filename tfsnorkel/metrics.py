"""Metrics against gold labels (scikit-learn underneath) and per-LF error analysis."""

__all__: list[str] = []
