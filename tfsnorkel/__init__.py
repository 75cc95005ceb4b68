"""tfsnorkel: weak supervision in TensorFlow/Keras.

Labeling functions compiled into one ``tf.function`` map, a label model that is a Keras
layer, noise-aware Keras classifiers, and one SavedModel that serves the whole pipeline.
See README.md for the tour.
"""

from tfsnorkel import classify, datasets, labeling, labelmodel, labels
from tfsnorkel.classify import *  # noqa: F403  (curated by classify.__all__)
from tfsnorkel.labeling import *  # noqa: F403  (curated by labeling.__all__)
from tfsnorkel.labelmodel import *  # noqa: F403  (curated by labelmodel.__all__)
from tfsnorkel.labels import *  # noqa: F403  (curated by labels.__all__)

__version__ = "0.1.0"

__all__ = sorted(
    {*labels.__all__, *labeling.__all__, *labelmodel.__all__, *classify.__all__}
)
