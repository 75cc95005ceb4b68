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
from tfsnorkel.labelmodel.multilabel import MultiLabelModel, check_multilabel_matrix, copy_groups
from tfsnorkel.labelmodel.stats import LabelStats, unique_rows
from tfsnorkel.labelmodel.synthetic import SyntheticLabels, synthetic_label_matrix
from tfsnorkel.labelmodel.synthetic_multilabel import SyntheticMultiLabels, synthetic_multilabel

__all__ = [
    "LabelModel",
    "LabelModelLoadError",
    "LabelStats",
    "MajorityVoter",
    "MultiLabelModel",
    "SyntheticLabels",
    "SyntheticMultiLabels",
    "WeightedVoter",
    "check_multilabel_matrix",
    "copy_groups",
    "learn_structure",
    "majority_vote",
    "synthetic_label_matrix",
    "synthetic_multilabel",
    "unique_rows",
    "weighted_vote",
]
