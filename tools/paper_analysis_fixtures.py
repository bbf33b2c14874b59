#!/usr/bin/env python3
"""Independent numpy/scipy computation of the paper's analyses on HF-written checkpoints, as test fixtures.

For each checkpoint (a Mixtral-layout folder) and prompt (token ids), writes:
  static:  reordered neuron similarity + Kendall tau (scipy linear_sum_assignment, kendalltau) of one layer,
           PCA of experts and of neurons (numpy SVD of the z-scored data, ddof=1 as torch.std)
  dynamic: from tools/numpy_mixtral.py's forward pass (checked against transformers' logits first):
           every expert's output on every token -> mean angular similarity, norm/score rank counts,
           silu(W_gate x) states of one layer
  routing: vocabulary specialisation (input and next token), and the domain comparison of two texts
    python3 tools/paper_analysis_fixtures.py   (writes test/fixtures/analysis/paper-*.json)
"""
import json
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.stats import kendalltau

sys.path.insert(0, str(Path(__file__).parent))
from numpy_mixtral import Mixtral  # noqa: E402

ROOT = Path(__file__).parent.parent


def neurons(m, proj):
    """Neurons as rows [I, H]: rows of gate/up, columns of down."""
    return m.T if proj == "down" else m


def reordered(experts, proj):
    E = len(experts)
    sim, tau = np.eye(E), np.eye(E)
    for a in range(E):
        for b in range(a + 1, E):
            na, nb = neurons(experts[a][proj], proj), neurons(experts[b][proj], proj)
            cos = (na / np.linalg.norm(na, axis=1, keepdims=True)) @ (nb / np.linalg.norm(nb, axis=1, keepdims=True)).T
            _, col = linear_sum_assignment(cos, maximize=True)
            permuted = nb[col]
            s = (na * permuted).sum() / (np.linalg.norm(na) * np.linalg.norm(nb))
            t = kendalltau(col, np.arange(len(col))).statistic
            sim[a, b] = sim[b, a] = s
            tau[a, b] = tau[b, a] = t
    return sim, tau


def pca(data, k=2):
    z = (data - data.mean(0)) / data.std(0, ddof=1)
    u, s, _ = np.linalg.svd(z, full_matrices=False)
    points = u[:, :k] * s[:k]
    for c in range(k):  # the point farthest along a component is on its positive side
        if points[np.argmax(np.abs(points[:, c])), c] < 0:
            points[:, c] *= -1
    return points, (s[:k] ** 2 / (s ** 2).sum())


def ranks_desc(v):
    r = np.empty(len(v), dtype=int)
    r[np.argsort(-v, kind="stable")] = np.arange(len(v))
    return r


def min_gap(v):
    s = np.sort(v)
    return float(np.min(np.diff(s)) / (np.abs(s).max() or 1))


def vocabulary(ids, top1, E):
    out = {}
    for i, e in zip(ids, top1):
        out.setdefault(int(i), np.zeros(E, dtype=int))[e] += 1
    rows = []
    for i, c in out.items():
        rows.append({"id": i, "count": int(c.sum()), "expert": int(np.argmax(c)), "share": float(c.max() / c.sum())})
    return sorted(rows, key=lambda r: (-r["count"], r["id"]))


def top1_of(router_logits):
    return [int(np.argsort(-row, kind="stable")[0]) for row in router_logits]


def topk_of(router_logits, k):
    return [list(np.argsort(-row, kind="stable")[:k]) for row in router_logits]


def build(folder, reference, compare_ids, static_layer, states_layer, out):
    model = Mixtral(folder)
    ref = json.load(open(reference))
    c = model.config
    E, k = c["num_local_experts"], c["num_experts_per_tok"]
    ids = ref["promptIds"]
    logits, hs, router = model.forward(ids)
    err = float(np.abs(logits - np.array(ref["logits"])).max() / np.abs(np.array(ref["logits"])).max())
    assert err < 1e-5, f"numpy forward disagrees with transformers: {err}"

    experts = [dict(zip(("gate", "up", "down"), w)) for w in model.experts(static_layer)]
    static = {"layer": static_layer, "reordered": {}, "tau": {}, "expertPca": {}, "neuronPca": {}}
    for proj in ("gate", "up", "down"):
        sim, tau = reordered(experts, proj)
        static["reordered"][proj], static["tau"][proj] = sim.tolist(), tau.tolist()
        pts, expl = pca(np.stack([neurons(e[proj], proj).ravel() for e in experts]))
        static["expertPca"][proj] = {"points": pts.tolist(), "explained": expl.tolist()}
        pts, expl = pca(np.concatenate([neurons(e[proj], proj) for e in experts]))
        static["neuronPca"][proj] = {"points": pts.tolist(), "explained": expl.tolist()}

    dynamic = []
    for l, h in enumerate(hs):
        outs, states = model.all_experts(l, h)  # [T, E, H], [T, E, I]
        norms = np.linalg.norm(outs, axis=2)
        unit = outs / norms[..., None]
        cos = np.clip(np.einsum("teh,tfh->tef", unit, unit), -1, 1)
        angular = (1 - np.arccos(cos) / np.pi).mean(0)
        np.fill_diagonal(angular, 1.0)
        counts = np.zeros((E, E), dtype=int)
        decisive = []
        for t in range(len(ids)):
            nr, sr = ranks_desc(norms[t]), ranks_desc(router[l][t])
            for e in range(E):
                counts[sr[e], nr[e]] += 1
            decisive.append(min(min_gap(norms[t]), min_gap(router[l][t])) > 1e-4)
        entry = {"layer": l, "angular": angular.tolist(), "norms": norms.tolist(), "rankCounts": counts.tolist(),
                 "decisive": decisive}
        if l == states_layer:
            entry["states"] = states.tolist()
        dynamic.append(entry)

    next_ids = ids[1:] + [int(np.argmax(logits[-1]))]
    _, _, router_b = model.forward(compare_ids)
    routing = []
    for l in range(c["num_hidden_layers"]):
        t1 = top1_of(router[l])
        share = lambda rl: np.bincount(np.array(topk_of(rl, k)).ravel(), minlength=E) / (len(rl) * k)  # noqa: E731
        pa, pb = share(router[l]), share(router_b[l])
        m = (pa + pb) / 2
        kl = lambda p: float(sum(x * np.log2(x / y) for x, y in zip(p, m) if x > 0))  # noqa: E731
        entry = {"layer": l, "input": vocabulary(ids, t1, E), "next": vocabulary(next_ids, t1, E),
                 "shareA": pa.tolist(), "shareB": pb.tolist(), "jsd": (kl(pa) + kl(pb)) / 2}
        if l + 1 < c["num_hidden_layers"]:
            for name, rl_from, rl_to in (("flowA", router[l], router[l + 1]), ("flowB", router_b[l], router_b[l + 1])):
                flow = np.zeros((E, E), dtype=int)
                for a, b in zip(top1_of(rl_from), top1_of(rl_to)):
                    flow[a, b] += 1
                entry[name] = flow.tolist()
        routing.append(entry)

    json.dump({"numpy": np.__version__, "checkpoint": str(folder.relative_to(ROOT)), "promptIds": ids,
               "compareIds": compare_ids, "forwardLogitError": err, "static": static, "dynamic": dynamic,
               "routing": routing}, open(out, "w"))
    print(f"wrote {out} (numpy forward vs transformers: {err:.2e})")


if __name__ == "__main__":
    mixtral = ROOT / "test/fixtures/hf/MixtralForCausalLM"
    ref = json.load(open(mixtral / "reference.json"))
    build(mixtral, mixtral / "reference.json", ref["greedy"], static_layer=1, states_layer=1,
          out=ROOT / "test/fixtures/analysis/paper-mixtral.json")
    demo = ROOT / "public/models/moescope-demo-16x"
    demo_ref = json.load(open(ROOT / "test/fixtures/demo-reference.json"))
    build(demo, ROOT / "test/fixtures/demo-reference.json", demo_ref["greedy"], static_layer=0, states_layer=2,
          out=ROOT / "test/fixtures/analysis/paper-demo.json")
