"""tfsnorkel: weak supervision in TensorFlow/Keras.

Labeling functions compiled into one ``tf.function`` map, a label model that is a Keras
layer, noise-aware Keras classifiers, and one SavedModel that serves the whole pipeline.
See README.md for the tour.

The names below are the curated public API, in the order data flows; each submodule's own
``__all__`` lists a few more specialised names (e.g. ``tfsnorkel.labeling.columns_to_features``).
The optional scale-out appliers live in ``tfsnorkel.labeling.distributed`` and are never imported
here, so Dask stays optional.

Importing the package imports every stage eagerly, so the Keras classes it defines are
registered and ``keras.saving.load_model("label_model.keras")`` works right after
``import tfsnorkel`` (Keras 3 imports the module named in a saved config only for its own
packages). The one exception is the ``tfsnorkel`` command (the console script or
``python -m tfsnorkel``): its argument parsing and ``--help`` must not wait ~10 s for
TensorFlow, so there the names resolve on first use (PEP 562 ``__getattr__``) and the command
imports the stages, with TensorFlow's start-up logs silenced, once its arguments are parsed.
"""

import os as _os
import sys as _sys
from typing import TYPE_CHECKING


def _started_as_cli() -> bool:
    """Whether this interpreter was started as the ``tfsnorkel`` command.

    True for the console script (``.../bin/tfsnorkel``) and for ``python -m tfsnorkel`` /
    ``python -m tfsnorkel.cli``; ``sys.orig_argv`` holds the interpreter's own command line
    (``sys.argv`` is still ``["-m"]`` while ``-m`` imports this package).
    """
    argv = list(getattr(_sys, "orig_argv", []))
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg == "-m":
            return i + 1 < len(argv) and argv[i + 1] in ("tfsnorkel", "tfsnorkel.cli")
        if arg.startswith("-m"):
            return arg[2:] in ("tfsnorkel", "tfsnorkel.cli")
        if arg in ("-c", "-"):
            return False
        if arg in ("-W", "-X"):  # options that take the next argument
            i += 2
            continue
        if not arg.startswith("-"):  # the script: the console script is named tfsnorkel
            name = _os.path.basename(arg)
            for suffix in ("-script.pyw", "-script.py", ".exe"):
                name = name.removesuffix(suffix)
            return name == "tfsnorkel"
        i += 1
    return False


#: True when the names below resolve lazily (only in the ``tfsnorkel`` command).
_LAZY = _started_as_cli()

if TYPE_CHECKING or not _LAZY:
    from tfsnorkel import (
        candidates,
        classify,
        datasets,
        export,
        labeling,
        labelmodel,
        labels,
        metrics,
        pipeline,
    )
    from tfsnorkel.candidates import (
        CandidateSpec,
        DataSplit,
        EntityMatcher,
        extract_pair_candidates,
        row_candidates,
        train_dev_test_split,
    )
    from tfsnorkel.classify import (
        MultiLabelNoiseAwareLoss,
        NoiseAwareLoss,
        SoftLabels,
        confidence_weights,
        expand_soft_labels,
        export_multilabel,
        fit_text_classifier,
        gold_dataset,
        load_bert_encoder,
        logits_to_probs,
        multilabel_dataset,
        multilabel_noise_aware_loss,
        multilabel_predict_proba,
        multilabel_text_classifier,
        noise_aware_loss,
        predict_proba,
        read_soft_labels,
        soft_label_dataset,
        stream_soft_labels,
        tabular_classifier,
        text_classifier,
        write_soft_labels,
    )
    from tfsnorkel.export import export_pipeline, find_pyfunc_ops
    from tfsnorkel.labeling import (
        CompiledLF,
        LabelingFunction,
        LabelingFunctionError,
        LFSet,
        apply_lfs,
        classifier_lf,
        column_lf,
        conflict_examples,
        get_label_buckets,
        iter_label_batches,
        keyword_lf,
        label_conflict,
        label_coverage,
        label_overlap,
        labeling_function,
        length_lf,
        lf_ablation,
        lf_addition,
        lf_summary,
        lookup_lf,
        plot_lf_summary,
        regex_lf,
        spam_lfs,
        threshold_lf,
        uncertain_examples,
        uncovered_examples,
    )
    from tfsnorkel.labelmodel import (
        LabelModel,
        LabelModelLoadError,
        LabelStats,
        MajorityVoter,
        MultiLabelModel,
        SyntheticLabels,
        SyntheticMultiLabels,
        WeightedVoter,
        learn_structure,
        majority_vote,
        synthetic_label_matrix,
        synthetic_multilabel,
        weighted_vote,
    )
    from tfsnorkel.labels import (
        ABSTAIN,
        check_gold_labels,
        check_label_matrix,
        filter_unlabeled,
        from_signed,
        probs_to_preds,
        to_signed,
    )
    from tfsnorkel.metrics import (
        METRICS,
        confusion_matrix,
        evaluate,
        lf_report,
        metric_score,
        multilabel_report,
        multilabel_scores,
    )
    from tfsnorkel.pipeline import PipelineResult, run_pipeline

#: ``{public name: the submodule that defines it}`` for the lazy (command-line) mode.
_LAZY_NAMES = {
    **dict.fromkeys(
        ["CandidateSpec", "DataSplit", "EntityMatcher", "extract_pair_candidates",
         "row_candidates", "train_dev_test_split"], "tfsnorkel.candidates"),
    **dict.fromkeys(
        ["NoiseAwareLoss", "SoftLabels", "confidence_weights", "expand_soft_labels",
         "fit_text_classifier", "gold_dataset", "load_bert_encoder", "logits_to_probs",
         "noise_aware_loss",
         "predict_proba", "read_soft_labels", "soft_label_dataset", "stream_soft_labels",
         "tabular_classifier", "text_classifier", "write_soft_labels"], "tfsnorkel.classify"),
    **dict.fromkeys(
        ["MultiLabelNoiseAwareLoss", "export_multilabel", "multilabel_dataset",
         "multilabel_noise_aware_loss", "multilabel_predict_proba", "multilabel_text_classifier"],
        "tfsnorkel.classify"),
    **dict.fromkeys(["export_pipeline", "find_pyfunc_ops"], "tfsnorkel.export"),
    **dict.fromkeys(
        ["CompiledLF", "LabelingFunction", "LabelingFunctionError", "LFSet", "apply_lfs",
         "classifier_lf", "column_lf", "conflict_examples", "get_label_buckets",
         "iter_label_batches", "keyword_lf", "label_conflict", "label_coverage",
         "label_overlap", "labeling_function", "length_lf", "lf_ablation", "lf_addition",
         "lf_summary", "lookup_lf", "plot_lf_summary", "regex_lf", "spam_lfs", "threshold_lf",
         "uncertain_examples", "uncovered_examples"], "tfsnorkel.labeling"),
    **dict.fromkeys(
        ["LabelModel", "LabelModelLoadError", "LabelStats", "MajorityVoter", "SyntheticLabels",
         "WeightedVoter", "learn_structure", "majority_vote", "synthetic_label_matrix",
         "weighted_vote"], "tfsnorkel.labelmodel"),
    **dict.fromkeys(["MultiLabelModel", "SyntheticMultiLabels", "synthetic_multilabel"],
                    "tfsnorkel.labelmodel"),
    **dict.fromkeys(
        ["ABSTAIN", "check_gold_labels", "check_label_matrix", "filter_unlabeled",
         "from_signed", "probs_to_preds", "to_signed"], "tfsnorkel.labels"),
    **dict.fromkeys(
        ["METRICS", "confusion_matrix", "evaluate", "lf_report", "metric_score"],
        "tfsnorkel.metrics"),
    **dict.fromkeys(["multilabel_report", "multilabel_scores"], "tfsnorkel.metrics"),
    **dict.fromkeys(["PipelineResult", "run_pipeline"], "tfsnorkel.pipeline"),
}
_SUBMODULES = ("candidates", "classify", "datasets", "export", "labeling", "labelmodel",
               "labels", "metrics", "pipeline")


def __getattr__(name: str):
    """Resolves a public name on first use (PEP 562; only reached in the lazy mode)."""
    import importlib

    if name in _SUBMODULES:
        value = importlib.import_module(f"tfsnorkel.{name}")
    elif name in _LAZY_NAMES:
        value = getattr(importlib.import_module(_LAZY_NAMES[name]), name)
    else:
        raise AttributeError(f"module 'tfsnorkel' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def _import_all() -> None:
    """Imports every stage (registering the Keras classes), as a plain ``import`` does."""
    for name in __all__:
        if name not in globals():
            __getattr__(name)


__version__ = "0.1.0"

__all__ = [
    "ABSTAIN",
    "CandidateSpec",
    "CompiledLF",
    "DataSplit",
    "EntityMatcher",
    "LFSet",
    "LabelModel",
    "LabelModelLoadError",
    "LabelStats",
    "LabelingFunction",
    "LabelingFunctionError",
    "METRICS",
    "MajorityVoter",
    "MultiLabelModel",
    "MultiLabelNoiseAwareLoss",
    "NoiseAwareLoss",
    "PipelineResult",
    "SoftLabels",
    "SyntheticLabels",
    "SyntheticMultiLabels",
    "WeightedVoter",
    "apply_lfs",
    "candidates",
    "check_gold_labels",
    "check_label_matrix",
    "classifier_lf",
    "classify",
    "column_lf",
    "confidence_weights",
    "conflict_examples",
    "confusion_matrix",
    "datasets",
    "evaluate",
    "expand_soft_labels",
    "export",
    "export_multilabel",
    "export_pipeline",
    "extract_pair_candidates",
    "filter_unlabeled",
    "find_pyfunc_ops",
    "fit_text_classifier",
    "from_signed",
    "get_label_buckets",
    "gold_dataset",
    "iter_label_batches",
    "keyword_lf",
    "label_conflict",
    "label_coverage",
    "label_overlap",
    "labeling",
    "labeling_function",
    "labelmodel",
    "labels",
    "learn_structure",
    "length_lf",
    "lf_ablation",
    "lf_addition",
    "lf_report",
    "lf_summary",
    "load_bert_encoder",
    "logits_to_probs",
    "lookup_lf",
    "majority_vote",
    "metric_score",
    "metrics",
    "multilabel_dataset",
    "multilabel_noise_aware_loss",
    "multilabel_predict_proba",
    "multilabel_report",
    "multilabel_scores",
    "multilabel_text_classifier",
    "noise_aware_loss",
    "pipeline",
    "plot_lf_summary",
    "predict_proba",
    "probs_to_preds",
    "read_soft_labels",
    "regex_lf",
    "row_candidates",
    "run_pipeline",
    "soft_label_dataset",
    "spam_lfs",
    "stream_soft_labels",
    "synthetic_label_matrix",
    "synthetic_multilabel",
    "tabular_classifier",
    "text_classifier",
    "threshold_lf",
    "to_signed",
    "train_dev_test_split",
    "uncertain_examples",
    "uncovered_examples",
    "weighted_vote",
    "write_soft_labels",
]
