"""The package root's public API is exactly the curated list, and every Keras object serializes."""

from __future__ import annotations

import subprocess
import sys

import keras
import numpy as np

import tfsnorkel as ts

EXPECTED = {
    # conventions
    "ABSTAIN", "check_gold_labels", "check_label_matrix", "filter_unlabeled", "from_signed", "probs_to_preds", "to_signed",
    # candidates and splits
    "CandidateSpec", "DataSplit", "EntityMatcher", "extract_pair_candidates", "row_candidates",
    "train_dev_test_split",
    # stage 1: labeling functions
    "CompiledLF", "LFSet", "LabelingFunction", "LabelingFunctionError", "apply_lfs", "classifier_lf",
    "column_lf", "iter_label_batches", "keyword_lf", "labeling_function", "length_lf", "lookup_lf",
    "regex_lf", "spam_lfs", "threshold_lf",
    # LF analysis and the development loop
    "conflict_examples", "get_label_buckets", "label_conflict", "label_coverage", "label_overlap",
    "lf_ablation", "lf_addition", "lf_summary", "plot_lf_summary", "uncertain_examples",
    "uncovered_examples",
    # stage 2: label model
    "LabelModel", "LabelModelLoadError", "LabelStats", "MajorityVoter", "SyntheticLabels",
    "WeightedVoter", "learn_structure", "majority_vote", "synthetic_label_matrix", "weighted_vote",
    # multi-label tasks
    "MultiLabelModel", "MultiLabelNoiseAwareLoss", "SyntheticMultiLabels", "export_multilabel",
    "multilabel_dataset", "multilabel_noise_aware_loss", "multilabel_predict_proba",
    "multilabel_report", "multilabel_scores", "multilabel_text_classifier", "synthetic_multilabel",
    # stage 3: classifier
    "NoiseAwareLoss", "SoftLabels", "confidence_weights", "expand_soft_labels", "fit_text_classifier",
    "gold_dataset", "load_bert_encoder", "logits_to_probs", "noise_aware_loss", "predict_proba", "read_soft_labels",
    "soft_label_dataset", "stream_soft_labels", "tabular_classifier", "text_classifier",
    "write_soft_labels",
    # metrics and export
    "METRICS", "confusion_matrix", "evaluate", "lf_report", "metric_score", "export_pipeline",
    "find_pyfunc_ops",
    # all stages in one call
    "PipelineResult", "run_pipeline",
    # submodules
    "candidates", "classify", "datasets", "export", "labeling", "labelmodel", "labels", "metrics",
    "pipeline",
}


def test_root_exports_exactly_the_curated_names():
    assert set(ts.__all__) == EXPECTED
    assert ts.__all__ == sorted(ts.__all__)
    for name in ts.__all__:
        assert hasattr(ts, name), name


def test_every_submodule_all_is_sorted_and_resolvable():
    import tfsnorkel.labeling.distributed as distributed

    for mod in (ts.candidates, ts.classify, ts.datasets, ts.export, ts.labeling, ts.labelmodel,
                ts.labels, ts.metrics, ts.pipeline, distributed):
        assert list(mod.__all__) == sorted(mod.__all__), mod.__name__
        for name in mod.__all__:
            assert hasattr(mod, name), f"{mod.__name__}.{name}"


def test_importing_the_package_does_not_import_optional_backends():
    code = "import sys, tfsnorkel; print(any(m == 'dask' or m.startswith('dask.') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_registered_keras_objects_round_trip_their_config():
    """Every Keras object tfsnorkel registers survives get_config -> from_config."""
    registered = {k: v for k, v in keras.saving.get_custom_objects().items()
                  if k.startswith("tfsnorkel>")}
    assert {"tfsnorkel>LabelModel", "tfsnorkel>NoiseAwareLoss"} <= set(registered)
    L = np.array([[0, 1, -1], [1, 1, 0], [0, 0, 0], [-1, 1, 1]] * 10, dtype=np.int32)
    lm = ts.LabelModel(cardinality=2, seed=0).fit(L)
    clone = ts.LabelModel.from_config(lm.get_config())
    assert clone.get_config() == lm.get_config()
    loss = ts.NoiseAwareLoss(from_logits=False)
    assert ts.NoiseAwareLoss.from_config(loss.get_config()).get_config() == loss.get_config()
    for name, obj in registered.items():
        if isinstance(obj, type) and hasattr(obj, "get_config"):
            assert name.split(">")[1] == obj.__name__
