"""classify stage of the pipeline (see DESIGN.md)."""

__all__: list[str] = []
