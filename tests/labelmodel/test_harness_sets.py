"""The label-model harness's sets (benchmarks/lm_sets.py) and LF sets (examples/lfsets/)."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import require_data

import tfsnorkel as ts
from tfsnorkel.labelmodel.synthetic import FAMILY, synthetic_family

REPO = Path(__file__).resolve().parents[2]
LFSETS = REPO / "examples" / "lfsets"


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def lm_sets():
    return _load(REPO / "benchmarks" / "lm_sets.py", "harness_lm_sets")


def _lfset(name: str):
    return _load(LFSETS / f"{name}.py", f"harness_{name}")


def _rules_frame(name: str, split: str) -> pd.DataFrame:
    path = require_data(f"wrench_rules/{name}/{split}.json")
    with open(path, encoding="utf-8") as f:
        return pd.DataFrame(json.load(f))


# ----------------------------------------------------------------------------- sms
def test_sms_compiled_rules_reproduce_the_shipped_train_weak_labels(data_dir):
    mod = _lfset("sms_lfs")
    sms = ts.datasets.load_wrench("sms", data_dir)
    lfs = ts.LFSet(mod.lfs, cardinality=2)
    assert len(lfs) == 73
    L = lfs.apply(sms.train.frame)
    np.testing.assert_array_equal(L, sms.train.L)  # all 4571 x 73 votes
    # the readme's own rules, read from the data, are the module's RULES in order
    lines = (data_dir / "wrench" / "sms" / "readme.txt").read_text().splitlines()
    rules = [line.split("\t")[:2] for line in lines if line.startswith(("ham\t", "spam\t"))]
    assert [(int(lab == "spam"), rx) for lab, rx in rules] == mod.RULES
    # on valid, the compiled votes equal Python re (and only 41% of the shipped rows)
    texts = sms.valid.frame["text"]
    R = np.array([[lab if re.search(rx, t) else -1 for lab, rx in mod.RULES] for t in texts])
    V = lfs.apply(sms.valid.frame)
    np.testing.assert_array_equal(V, R)
    assert (V == sms.valid.L).all(axis=1).mean() == pytest.approx(0.410, abs=1e-9)


def test_to_re2_makes_word_and_space_classes_unicode():
    mod = _lfset("sms_lfs")
    lf = ts.regex_lf(mod.to_re2(r"( |^)(café)[^\w]*( |$)"), 1)
    # Python: "é" is a word character, so "cafés" does not match; "café!" does
    assert lf({"text": ["un cafés", "un café! oui", "café\u00a0x"]}).numpy().tolist() == [-1, 1, -1]
    assert [bool(re.search(r"( |^)(café)[^\w]*( |$)", t))
            for t in ["un cafés", "un café! oui", "café\u00a0x"]] == [False, True, False]


# ----------------------------------------------------------------------------- imdb / yelp
def _imdb_reference(mod, text: str) -> list[int]:
    """The reference's Python semantics, written out from its description."""
    out = []
    for name in mod.ORDER:
        if name in mod.EXPRESSIONS:
            pre_pos, exprs = mod.EXPRESSIONS[name]
            vote = -1
            for e in exprs:
                if any(re.search(n + ".{0,20}" + e, text, flags=re.IGNORECASE) for n in mod.PRE_NEG):
                    vote = 0
                    break
                if any(re.search(p + ".{0,20}" + e, text, flags=re.IGNORECASE) for p in pre_pos):
                    vote = 1
                    break
        else:
            pos, neg = mod.KEYWORDS[name]
            negs = neg + [n + k for k in pos for n in mod.NEGATIONS]
            t = text.lower()
            vote = 0 if any(w in t for w in negs) else (1 if any(w in t for w in pos) else -1)
        out.append(vote)
    return out


def _yelp_reference(mod, text: str) -> list[int]:
    out = []
    t = text.lower()
    tokens = set(t.split(" "))
    for name in mod.ORDER:
        if name in mod.TOKEN_RULES:
            pos, neg = mod.TOKEN_RULES[name]
            negs = neg + [n + k for k in pos for n in mod.NEGATIONS]
            hit = lambda words: any(w in tokens for w in words)
        else:
            pos, neg = mod.SUBSTRING_RULES[name]
            negs = neg
            hit = lambda words: any(w in t for w in words)
        out.append(0 if hit(negs) else (1 if hit(pos) else -1))
    return out


@pytest.mark.parametrize(
    "name, m, agreement",
    # majority vote (ties abstain) equal to the shipped `major` field on every dev row
    [("imdb", 8, 0.8052), ("yelp", 7, 0.8534)],
)
def test_rule_lf_sets_compile_vote_like_python_and_near_the_shipped_majority(name, m, agreement):
    mod = _lfset(f"{name}_lfs")
    ref = _imdb_reference if name == "imdb" else _yelp_reference
    dev = _rules_frame(name, "dev_data")
    lfs = ts.LFSet(mod.lfs, cardinality=2)
    assert len(lfs) == m and all(lf.compiled for lf in lfs)
    L = lfs.apply(dev)
    head = dev.iloc[:400]
    np.testing.assert_array_equal(L[:400], np.array([ref(mod, t) for t in head["text"]]))
    assert set(np.unique(L)) == {-1, 0, 1}
    mv = ts.majority_vote(L, 2, tie_break="abstain")
    assert np.mean(mv == dev["major"].to_numpy()) == pytest.approx(agreement, abs=1e-4)


def test_first_of_votes_the_first_member_that_fires():
    mod = _lfset("_compose")
    lf = mod.first_of([ts.keyword_lf("bad", 0), ts.keyword_lf("good", 1)], "k")
    assert lf.labels == (0, 1)
    assert lf({"text": ["good but bad", "good", "meh"]}).numpy().tolist() == [0, 1, -1]
    L = ts.LFSet([lf], cardinality=2).apply(pd.DataFrame({"text": ["bad", None, "good"]}))
    assert L[:, 0].tolist() == [0, -1, 1]
    with pytest.raises(ValueError, match="Received: members=\\[\\]"):
        mod.first_of([], "empty")


def test_cfpb_lfs_and_split_are_the_notebooks(data_dir):
    require_data("cfpb")
    mod = _lfset("cfpb_lfs")
    nb = json.loads((REPO / "examples" / "complaints.ipynb").read_text())
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    scope: dict = {}
    for src in cells[1:3]:  # data preparation and split; the LFs and their label matrices
        exec(compile(src, "complaints.ipynb", "exec"), scope)  # noqa: S102
    nb_lfs = list(scope["lfs"])
    assert [lf.name for lf in mod.lfs] == [lf.name for lf in nb_lfs]
    assert [lf.keywords for lf in mod.lfs] == [lf.keywords for lf in nb_lfs]
    train, dev, test = mod.load_frames(data_dir)
    assert (len(train), len(dev), len(test)) == (842, 230, 460)
    for part, nb_part in zip((train, dev, test), ("train", "dev", "test")):
        pd.testing.assert_frame_equal(part, scope[nb_part])
    L = ts.LFSet(mod.lfs, cardinality=9).apply(train)
    np.testing.assert_array_equal(L, scope["L_train"])


# ----------------------------------------------------------------------------- synthetic
def test_synthetic_set_oracle_accuracy_is_its_posterior_argmax(lm_sets):
    d = lm_sets.build_set("syn_bin_90_10_copies5")
    P = d["oracle_proba_test"]
    assert P.shape == (lm_sets.SYN_TEST, 2)
    assert float(d["oracle_acc"]) == np.mean(P.argmax(axis=1) == d["y_test"])
    # the stored posterior is the generator's exact one, copy structure included
    spec = FAMILY["bin_90_10_copies5"]
    full = synthetic_family("bin_90_10_copies5", n=spec.n + lm_sets.SYN_VALID + lm_sets.SYN_TEST)
    np.testing.assert_array_equal(d["L_test"], full.L[-lm_sets.SYN_TEST:])
    np.testing.assert_allclose(P, full.posterior(d["L_test"]))
    np.testing.assert_allclose(d["true_balance"], [0.9, 0.1])
    assert d["L_train"].shape == (spec.n, 11) and d["L_valid"].shape == (lm_sets.SYN_VALID, 11)
    # the oracle beats majority vote here by a wide margin (the copies mislead the vote)
    mv = ts.majority_vote(d["L_test"], 2, tie_break="random", seed=0)
    assert float(d["oracle_acc"]) > np.mean(mv == d["y_test"]) + 0.15


@pytest.mark.parametrize("name", sorted(FAMILY))
def test_family_member_recovers_its_class_balance(name):
    spec = FAMILY[name]
    n = 40_000
    d = synthetic_family(name, n=n, seed=3)
    pi = np.asarray(spec.class_balance)
    freq = np.bincount(d.y, minlength=spec.cardinality) / n
    assert np.all(np.abs(freq - pi) <= 4.5 * np.sqrt(pi * (1 - pi) / n) + 1e-12)
    assert d.L.shape == (n, spec.num_lfs) and d.cardinality == spec.cardinality
    # the oracle is at least as accurate as majority vote with random ties
    P = d.posterior(d.L)
    mv = ts.majority_vote(d.L, spec.cardinality, tie_break="random", seed=0)
    assert np.mean(P.argmax(1) == d.y) >= np.mean(mv == d.y) - 0.005


def test_family_spans_the_declared_space():
    cards = {m.cardinality for m in FAMILY.values()}
    assert min(cards) == 2 and max(cards) == 20 and len(FAMILY) >= 10
    binary = [m.class_balance[0] for m in FAMILY.values() if m.cardinality == 2]
    assert min(binary) == 0.5 and max(binary) == 0.95
    assert any(m.copies for m in FAMILY.values())
    assert all(20_000 <= m.n <= 200_000 for m in FAMILY.values())
    unipolar = [m for m in FAMILY.values() if (np.count_nonzero(m.tables[:, :, 1:].sum(1), 1)
                                                == 1).all()]
    assert len(unipolar) >= 4


# ----------------------------------------------------------------------------- harness parts
@pytest.fixture(scope="module")
def harness(lm_sets):
    return _load(REPO / "benchmarks" / "lm_harness.py", "harness_lm_harness")


def test_dawid_skene_peer_reaches_the_oracle_on_its_own_model_family(harness):
    # class-conditional tables with abstain as an outcome: exactly the Dawid-Skene model
    d = synthetic_family("bin_70_30_classcond", n=30_000, seed=5)
    ds = harness.DawidSkene(2).fit(d.L[:20_000])
    test = slice(20_000, None)
    acc = np.mean(ds.predict_proba(d.L[test]).argmax(1) == d.y[test])
    oracle = np.mean(d.posterior(d.L[test]).argmax(1) == d.y[test])
    assert acc >= oracle - 0.005
    np.testing.assert_allclose(ds.class_balance_, [0.7, 0.3], atol=0.02)
    # gold rows enter with their labels fixed: the balance follows them
    gold = harness.DawidSkene(2).fit(d.L[:2000], L_dev=d.L[:2000], y_dev=d.y[:2000])
    assert abs(gold.class_balance_[1] - d.y[:2000].mean()) < 0.02


def test_harness_score_breaks_exact_ties_at_random_and_reports_ece(harness):
    y = np.array([1] * 200 + [0] * 200)
    L = np.full((400, 3), -1)
    L[:100, 0] = 1
    P = np.full((400, 2), 0.5)
    r = harness.score(P, L, y, 2)
    assert abs(r["acc"] - 0.5) < 0.02  # 20 seeded coin tosses per row, averaged
    assert r["ece"] == pytest.approx(0.0)  # 50% confident and right half of the time (argmax 0)
    assert r["coverage"] == 0.25
    assert 0.0 < r["f1_covered"] <= 1.0 and 0.0 < r["f1_all"] < 1.0
    sure = np.eye(2)[y]
    r = harness.score(sure, L, y, 2)
    assert (r["acc"], r["ece"], r["f1_all"], r["f1_covered"]) == (1.0, 0.0, 1.0, 1.0)
