"""Stage 3: noise-aware training: the loss, soft-label datasets, ready-made classifiers, export of soft labels."""

from tfsnorkel.classify.losses import *  # noqa: F403

from tfsnorkel.classify import losses

__all__: list[str] = sorted({*losses.__all__})
