"""tfsnorkel: weak supervision in TensorFlow/Keras.

Labeling functions compiled into one ``tf.function`` map, a label model that is a Keras
layer, noise-aware Keras classifiers, and one SavedModel that serves the whole pipeline.
See README.md for the tour.
"""

from tfsnorkel import candidates, classify, datasets, export, labeling, labelmodel, labels, metrics
from tfsnorkel.candidates import *  # noqa: F403  (each module curates its own __all__)
from tfsnorkel.classify import *  # noqa: F403
from tfsnorkel.export import *  # noqa: F403
from tfsnorkel.labeling import *  # noqa: F403
from tfsnorkel.labelmodel import *  # noqa: F403
from tfsnorkel.labels import *  # noqa: F403
from tfsnorkel.metrics import *  # noqa: F403

__version__ = "0.1.0"

__all__ = sorted(
    {
        *candidates.__all__,
        *classify.__all__,
        *export.__all__,
        *labeling.__all__,
        *labelmodel.__all__,
        *labels.__all__,
        *metrics.__all__,
    }
)
