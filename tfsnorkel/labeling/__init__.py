"""Stage 1: labeling functions, the LF set compiled into one tf.function, appliers, analysis."""

from tfsnorkel.labeling.iterate import *  # noqa: F403

from tfsnorkel.labeling import iterate

__all__: list[str] = sorted({*iterate.__all__})
