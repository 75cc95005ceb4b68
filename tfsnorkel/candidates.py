"""Candidate specs, pair-candidate extraction, reproducible splits."""

__all__: list[str] = []
