"""Loads a SavedModel in a fresh Python that may import TensorFlow but not Keras or tfsnorkel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

LOADER = textwrap.dedent(
    """
    import json, sys
    for blocked in ("keras", "tf_keras", "tfsnorkel"):
        sys.modules[blocked] = None  # any import of these now raises ImportError
    import tensorflow as tf

    path, inputs_file = sys.argv[1], sys.argv[2]
    for library in json.loads(sys.argv[3]) if len(sys.argv) > 3 else []:
        tf.load_op_library(library)  # e.g. tensorflow-text's tokenizer ops, without Keras
    with open(inputs_file) as f:
        calls = json.load(f)
    served = tf.saved_model.load(path)
    out = {"signatures": sorted(served.signatures)}
    for sig, kwargs in calls.items():
        args = {}
        for k, v in kwargs.items():
            args[k] = tf.constant(v["values"], dtype=v["dtype"])
        res = served.signatures[sig](**args)
        out[sig] = {k: t.numpy().tolist() for k, t in res.items()}
    loaded = sorted(m for m, v in sys.modules.items() if v is not None
                    and (m.split(".")[0] in ("keras", "tfsnorkel", "tf_keras")))
    out["loaded_blocked_modules"] = loaded
    print("RESULT" + json.dumps(out))
    """
)


def load_in_fresh_process(path, calls, tmp_path, op_libraries=()):
    """Calls signatures of the SavedModel at `path` in a new Python that imports only TensorFlow
    (and registers the ops of the ``op_libraries`` .so files with ``tf.load_op_library``)."""
    script = tmp_path / "load.py"
    script.write_text(LOADER)
    inputs = tmp_path / "inputs.json"
    inputs.write_text(json.dumps(calls))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run(
        [sys.executable, str(script), str(path), str(inputs), json.dumps(list(op_libraries))],
        capture_output=True, text=True, env=env, timeout=900,  # a loaded machine: minutes
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT")][-1]
    return json.loads(line[len("RESULT"):])
