#!/usr/bin/env python3
"""Independent numpy computation of MoEScope's weight analyses, written as a test fixture.

Reads a Mixtral-layout bf16 checkpoint straight from its safetensors bytes and computes, per MoE layer:
matrix-level cosine similarity of W_gate/W_up/W_down between experts, the neuron-averaged similarity,
the router-row similarity and the r² of router on neuron-averaged similarity (lower triangle).
    npx tsx tools/write_analysis_checkpoint.ts /tmp/analysis-ckpt
    python3 tools/analysis_fixtures.py /tmp/analysis-ckpt test/fixtures/analysis/mixtral-seed21.json
"""
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from numpy_mixtral import load_safetensors as load  # noqa: E402


def cos(vectors):
    v = np.stack([x.ravel() for x in vectors])
    n = v / np.linalg.norm(v, axis=1, keepdims=True)
    return n @ n.T


def r2(x, y):
    i, j = np.tril_indices(x.shape[0], k=-1)
    return float(np.corrcoef(x[i, j], y[i, j])[0, 1] ** 2)


def main(ckpt, out):
    config = json.load(open(f"{ckpt}/config.json"))
    t = load(f"{ckpt}/model.safetensors")
    E = config["num_local_experts"]
    layers = []
    for l in range(config["num_hidden_layers"]):
        p = f"model.layers.{l}.block_sparse_moe"
        m = {"gate": [t[f"{p}.experts.{e}.w1.weight"] for e in range(E)],
             "up": [t[f"{p}.experts.{e}.w3.weight"] for e in range(E)],
             "down": [t[f"{p}.experts.{e}.w2.weight"] for e in range(E)]}
        averaged = {"gate": cos([w.mean(axis=0) for w in m["gate"]]),
                    "up": cos([w.mean(axis=0) for w in m["up"]]),
                    "down": cos([w.mean(axis=1) for w in m["down"]])}
        router = cos(list(t[f"{p}.gate.weight"]))
        layers.append({
            "layer": l,
            "matrix": {k: cos(v).tolist() for k, v in m.items()},
            "averaged": {k: v.tolist() for k, v in averaged.items()},
            "router": router.tolist(),
            "r2": {k: r2(v, router) for k, v in averaged.items()},
        })
    json.dump({"numpy": np.__version__, "layers": layers}, open(out, "w"), indent=1)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
