"""Stage 1: labeling functions, the LF set compiled into one tf.function, appliers, analysis."""

from tfsnorkel.labeling.iterate import *  # noqa: F403
from tfsnorkel.labeling.analysis import *  # noqa: F403
from tfsnorkel.labeling.apply import *  # noqa: F403
from tfsnorkel.labeling.builtin import *  # noqa: F403
from tfsnorkel.labeling.examples import *  # noqa: F403
from tfsnorkel.labeling.functions import *  # noqa: F403
from tfsnorkel.labeling.lfset import *  # noqa: F403

from tfsnorkel.labeling import iterate
from tfsnorkel.labeling import analysis, apply, builtin, examples, functions, lfset

__all__: list[str] = sorted(
    {
        *iterate.__all__,
        *analysis.__all__,
        *apply.__all__,
        *builtin.__all__,
        *examples.__all__,
        *functions.__all__,
        *lfset.__all__,
    }
)
