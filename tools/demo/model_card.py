#!/usr/bin/env python3
"""Write the demo model's card (README.md) and loss curve (loss_curve.svg) from what training recorded.

Inputs: stats.json from tools/demo/train_demo.py and sources.json from tools/demo/build_corpus.py.
Run (here, no torch needed):
    python3 tools/demo/model_card.py --stats stats.json --sources .demo/corpus/sources.json \
        --out public/models/moescope-demo-16x
"""
import argparse
import json
import math
import os

DOMAINS = ["prose", "code", "dictionary", "german", "tables"]


def loss_curve_svg(curve, heldout, width=640, height=320, pad=48):
    steps = [c["step"] for c in curve]
    losses = [c["trainLoss"] for c in curve]
    top = math.ceil(max(losses))
    x = lambda s: pad + (width - 2 * pad) * s / max(steps)
    y = lambda v: height - pad - (height - 2 * pad) * v / top
    points = " ".join(f"{x(s):.1f},{y(v):.1f}" for s, v in zip(steps, losses))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="black"/>',
             f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="black"/>']
    for v in range(0, top + 1):
        parts.append(f'<text x="{pad - 8}" y="{y(v) + 4:.1f}" text-anchor="end">{v}</text>')
        parts.append(f'<line x1="{pad}" y1="{y(v):.1f}" x2="{width - pad}" y2="{y(v):.1f}" stroke="#ddd"/>')
    for s in range(0, max(steps) + 1, 500):
        parts.append(f'<text x="{x(s):.1f}" y="{height - pad + 16}" text-anchor="middle">{s}</text>')
    parts.append(f'<polyline fill="none" stroke="#2563eb" stroke-width="1.5" points="{points}"/>')
    colours = dict(prose="#dc2626", code="#16a34a", dictionary="#9333ea", german="#ea580c", tables="#0891b2")
    for i, d in enumerate(DOMAINS):
        v = heldout[d]["loss"]
        parts.append(f'<line x1="{width - pad - 40}" y1="{y(v):.1f}" x2="{width - pad}" y2="{y(v):.1f}" stroke="{colours[d]}" stroke-width="2"/>')
        parts.append(f'<text x="{width - pad + 4}" y="{y(v) + 4:.1f}" fill="{colours[d]}" font-size="10">{d}</text>')
    parts.append(f'<text x="{width / 2}" y="{height - 8}" text-anchor="middle">optimisation step (batch 64 × 256 tokens)</text>')
    parts.append(f'<text x="14" y="{height / 2}" transform="rotate(-90 14 {height / 2})" text-anchor="middle">loss (nats/token)</text>')
    parts.append(f'<text x="{pad + 8}" y="{pad - 12}">training loss (blue) and final held-out loss per domain (right)</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def card(stats, sources):
    c, t = stats["config"], stats["training"]
    lines = [
        "# moescope-demo-16x",
        "",
        "The demo model of [MoEScope](../../../README.md): a small Mixtral-style mixture-of-experts language model trained so",
        "that its router has something to show. Five kinds of text that look different to a router went in; the",
        "heatmaps of a code prompt and a prose prompt differ visibly (figures below). It is a toy: it writes text that",
        "looks like its domain, not text that is right.",
        "",
        "## Model",
        "",
        f"`MixtralForCausalLM` (HF transformers), {stats['parameters'] / 1e6:.1f} M parameters, bf16 safetensors: "
        f"{c['num_hidden_layers']} layers, hidden {c['hidden_size']}, {c['num_attention_heads']} attention heads "
        f"({c['num_key_value_heads']} key/value heads, head dim {c['head_dim']}), every layer a mixture of "
        f"{c['num_local_experts']} SwiGLU experts (intermediate {c['intermediate_size']}) with top-{c['num_experts_per_tok']} "
        f"softmax routing; vocabulary {c['vocab_size']} (byte-level BPE trained with HF `tokenizers` on the same corpus). "
        f"Load-balancing loss coefficient {c['router_aux_loss_coef']}.",
        "",
        "## Data",
        "",
        "Assembled by `tools/demo/build_corpus.py` from text that Debian 12 packages install; balanced by sampling the same",
        "number of windows from each domain per batch.",
        "",
        "| domain | source (package) | licence | documents | characters | train tokens | held-out tokens |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for d in DOMAINS:
        s = sources[d]
        lines.append(f"| {d} | {s['what']} ({s['package']}) | {s['licence']} | {s['documents']:,} | {s['characters']:,} | "
                     f"{t['trainTokensPerDomain'][d]:,} | {t['heldoutTokensPerDomain'][d]:,} |")
    lines += [
        "",
        "The weights are derived from these texts; they carry no more rights than their licences give.",
        "",
        "## Training",
        "",
        f"`tools/demo/train_demo.py`: AdamW (β 0.9/0.95, weight decay 0.1), peak learning rate {t['lr']}, 100 warm-up steps, "
        f"cosine decay to a tenth; bf16 autocast; {t['steps']:,} steps of 64 × 256 tokens = {t['tokens'] / 1e6:.1f} M tokens "
        f"(about {t['tokens'] / sum(t['trainTokensPerDomain'].values()):.0f} passes over the corpus) in {t['seconds']:.0f} s "
        f"on one {t['gpu']} (torch {t['torch']}, experts implementation `{stats['experts_implementation']}`), seed {t['seed']}.",
        "",
        "![loss curve](loss_curve.svg)",
        "",
        f"Final training loss {stats['curve'][-1]['trainLoss']:.2f}. Held-out loss per domain (32 windows of 256 tokens from",
        "documents never trained on); the gap to the training loss says the model memorised much of the small corpus:",
        "",
        "| domain | held-out loss (nats/token) | perplexity |",
        "| --- | --- | --- |",
    ]
    for d in DOMAINS:
        v = stats["heldout"][d]["loss"]
        lines.append(f"| {d} | {v:.2f} | {math.exp(v):.1f} |")
    lines += [
        "",
        "## Routing specialisation (measured)",
        "",
        "Per layer, each domain's expert load (share of the top-2 assignments each expert receives over its held-out",
        "tokens), compared by Jensen–Shannon divergence in bits (0 = same distribution; 1 = disjoint for two",
        "domains; log2 5 ≈ 2.32 is the ceiling for five):",
        "",
        "| layer | JSD, all five domains | code vs prose | code vs German | prose vs German | tables vs the rest (mean of pairs) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in stats["routing"]:
        p = r["jsdPairs"]
        tables = sum(v for k, v in p.items() if "tables" in k) / 4
        lines.append(f"| {r['layer']} | {r['jsdAllDomains']:.2f} | {p['prose|code']:.2f} | {p['code|german']:.2f} | "
                     f"{p['prose|german']:.2f} | {tables:.2f} |")
    lines += [
        "",
        "Most-used expert per domain and layer (its share of the domain's assignments; uniform would be "
        f"{1 / c['num_local_experts']:.3f}):",
        "",
        "| layer | " + " | ".join(DOMAINS) + " |",
        "| --- |" + " --- |" * len(DOMAINS),
    ]
    for r in stats["routing"]:
        cells = []
        for d in DOMAINS:
            load = r["expertLoad"][d]
            e = max(range(len(load)), key=lambda i: load[i])
            cells.append(f"{e} ({load[e]:.2f})")
        lines.append(f"| {r['layer']} | " + " | ".join(cells) + " |")
    lines += ["", "## Samples", "", "Continuations of one prompt per domain (temperature 0.8, top-k 40, seed "
              f"{t['seed']}), as transformers generated them after training:", ""]
    for d in DOMAINS:
        s = stats["samples"][d]
        lines += [f"**{d}** — prompt `{json.dumps(s['prompt'])[1:-1]}`", "", "```", (s["prompt"] + s["sampled"]).replace("</s>", "⟨/s⟩"), "```", ""]
    lines += [
        "## Checked",
        "",
        "MoEScope's engine equals transformers on this checkpoint (`test/gpu/hfParity.test.ts`, reference written at",
        "training time by `tools/hf_reference.py`): same prompt ids, logits and router logits within 1e-4 relative (measured",
        "9e-7), same experts, the same 16 greedy tokens. `test/browser/demoModel.test.ts` loads it with one click.",
        "",
        "## Rebuild",
        "",
        "```",
        "apt-get install -y debian-reference-en python3.11-doc dict-gcide fortunes-de pci.ids usb.ids",
        "python3 tools/demo/build_corpus.py --out .demo/corpus",
        "python3 tools/demo/train_demo.py --corpus .demo/corpus --out /tmp/demo --seconds 270   # GPU machine",
        "python3 tools/demo/model_card.py --stats /tmp/demo/stats.json --sources .demo/corpus/sources.json --out public/models/moescope-demo-16x",
        "```",
        "",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--stats", required=True)
    parser.add_argument("--sources", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    stats = json.load(open(args.stats))
    sources = json.load(open(args.sources))
    with open(os.path.join(args.out, "README.md"), "w") as f:
        f.write(card(stats, sources))
    with open(os.path.join(args.out, "loss_curve.svg"), "w") as f:
        f.write(loss_curve_svg(stats["curve"], stats["heldout"]))
    with open(os.path.join(args.out, "training_stats.json"), "w") as f:
        json.dump(stats, f, indent=1)


if __name__ == "__main__":
    main()
