"""Stage 3: noise-aware training.

The loss, soft-label datasets, ready-made classifiers, the one-call training recipe
(:func:`fit_text_classifier`, optionally with :class:`SelfTraining`), pretrained encoders through
keras-hub (:mod:`tfsnorkel.classify.encoders`, an optional extra), and export of soft labels
to other frameworks.
"""

from tfsnorkel.classify.data import *  # noqa: F403
from tfsnorkel.classify.encoders import *  # noqa: F403
from tfsnorkel.classify.losses import *  # noqa: F403
from tfsnorkel.classify.models import *  # noqa: F403
from tfsnorkel.classify.multilabel import *  # noqa: F403
from tfsnorkel.classify.selftrain import *  # noqa: F403
from tfsnorkel.classify.softlabels import *  # noqa: F403
from tfsnorkel.classify.training import *  # noqa: F403

from tfsnorkel.classify import data, encoders, losses, models, multilabel, selftrain, softlabels, training

__all__: list[str] = sorted(
    {
        *data.__all__,
        *encoders.__all__,
        *losses.__all__,
        *models.__all__,
        *multilabel.__all__,
        *selftrain.__all__,
        *softlabels.__all__,
        *training.__all__,
    }
)
