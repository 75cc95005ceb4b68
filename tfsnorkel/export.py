"""One SavedModel for the whole pipeline (TF Serving contract)."""

__all__: list[str] = []
