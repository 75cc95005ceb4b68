"""Label model stage: voting baselines, the Keras label-model layer, structure learning.

See DESIGN.md ("The label model, in brief") for the generative story.
"""

from tfsnorkel.labelmodel.baselines import (
    MajorityVoter,
    WeightedVoter,
    majority_vote,
    weighted_vote,
)
from tfsnorkel.labelmodel.layer import LabelModel, LabelModelLoadError, learn_structure
from tfsnorkel.labelmodel.stats import LabelStats, unique_rows
from tfsnorkel.labelmodel.synthetic import SyntheticLabels, synthetic_label_matrix

__all__ = [
    "LabelModel",
    "LabelModelLoadError",
    "LabelStats",
    "MajorityVoter",
    "SyntheticLabels",
    "WeightedVoter",
    "learn_structure",
    "majority_vote",
    "synthetic_label_matrix",
    "unique_rows",
    "weighted_vote",
]
