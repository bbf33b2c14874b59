#!/usr/bin/env python3
"""Train MoEScope's demo model: a small Mixtral-style MoE whose experts specialise by domain.

Input: the corpus from tools/demo/build_corpus.py (<corpus>/<domain>.{train,heldout}.jsonl.gz).
Steps, all in one run on the GPU machine (torch + transformers + tokenizers):
  1. a byte-level BPE tokenizer trained with HF `tokenizers` on the training split (vocabulary --vocab);
  2. MixtralForCausalLM from a config (16 experts, top-2, 6 layers, hidden 256), trained with AdamW in bf16
     autocast on domain-balanced random windows, with Mixtral's load-balancing loss, for a wall-clock budget;
  3. held-out loss per domain, routing statistics per domain and layer (expert load, Jensen–Shannon
     divergence between domains), sample continuations, and the loss curve → stats.json;
  4. the model saved in bf16 with save_pretrained, and a parity reference (tools/hf_reference.py) reloaded
     from those bf16 files.
Run:  python3 tools/demo/train_demo.py --corpus .demo/corpus --out /tmp/demo --seconds 270
The model card (README.md, loss curve) is written afterwards by tools/demo/model_card.py from stats.json.
"""
import argparse
import gzip
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import AutoModelForCausalLM, MixtralConfig, PreTrainedTokenizerFast

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from hf_reference import reference_record  # noqa: E402

DOMAINS = ["prose", "code", "dictionary", "german", "tables"]
# Prompts a user sees in the page (one per domain), also the sample prompts in the model card.
PROMPTS = {
    "prose": "The package manager keeps track of",
    "code": "def read_config(path):\n    ",
    "dictionary": "Lantern \\Lan\"tern\\, n. [F. lanterne, L. lanterna.]\n   1. ",
    "german": "Der Mensch ist",
    "tables": "10de  NVIDIA Corporation\n\t",
}
PARITY_PROMPT = "def read_config(path):\n    with open(path) as f:"
TOKENIZER_STRINGS = ["Hello MoE world", "def f(x): return x", "Der Mensch ist", "  spaces\tand\nnewlines", "ünïcödé 🙂", "10de 1eb8"]


def read_split(corpus, domain, split):
    with gzip.open(os.path.join(corpus, f"{domain}.{split}.jsonl.gz"), "rt", encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f]


def train_tokenizer(texts, vocab):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab, special_tokens=["<s>", "</s>"], min_frequency=2,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    bos = tok.token_to_id("<s>")
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>")


def token_stream(tokenizer, docs):
    """[n] int64: every document as <s> … </s>, concatenated."""
    ids = []
    for enc in tokenizer(docs, add_special_tokens=False).input_ids:
        ids += [tokenizer.bos_token_id] + enc + [tokenizer.eos_token_id]
    return torch.tensor(ids, dtype=torch.long)


def batch(streams, size, seq, gen):
    """[size, seq+1] windows, the same number from each domain (balanced whatever the domain sizes)."""
    rows = []
    for i in range(size):
        s = streams[DOMAINS[i % len(DOMAINS)]]
        start = torch.randint(0, len(s) - seq - 1, (1,), generator=gen).item()
        rows.append(s[start:start + seq + 1])
    return torch.stack(rows)


def lm_loss(logits, targets):
    return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1))


@torch.no_grad()
def evaluate(model, heldout, seq, windows, num_experts, top_k):
    """Held-out loss per domain, and per layer the share of top-k assignments each expert gets per domain."""
    model.eval()
    result = {}
    for d in DOMAINS:
        s = heldout[d]
        n = min(windows, (len(s) - 1) // seq)
        x = torch.stack([s[i * seq:(i + 1) * seq + 1] for i in range(n)]).cuda()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            out = model(x[:, :-1], output_router_logits=True)
        loads = []
        for r in out.router_logits:
            chosen = r.float().reshape(-1, num_experts).topk(top_k, dim=-1).indices
            counts = torch.bincount(chosen.reshape(-1), minlength=num_experts).float()
            loads.append((counts / counts.sum()).tolist())
        result[d] = {"loss": lm_loss(out.logits, x[:, 1:]).item(), "tokens": n * seq, "expertLoad": loads}
    model.train()
    return result


def entropy(p):
    return -sum(x * math.log2(x) for x in p if x > 0)


def divergence(loads_by_domain):
    """Generalised Jensen–Shannon divergence (bits) of the domains' expert-load distributions, equal weights."""
    n = len(loads_by_domain)
    mix = [sum(col) / n for col in zip(*loads_by_domain)]
    return entropy(mix) - sum(entropy(p) for p in loads_by_domain) / n


def routing_stats(evaluation, num_layers):
    per_layer = []
    for layer in range(num_layers):
        loads = {d: evaluation[d]["expertLoad"][layer] for d in DOMAINS}
        pairs = {f"{a}|{b}": divergence([loads[a], loads[b]]) for i, a in enumerate(DOMAINS) for b in DOMAINS[i + 1:]}
        per_layer.append({"layer": layer, "jsdAllDomains": divergence(list(loads.values())), "jsdPairs": pairs,
                          "expertLoad": loads})
    return per_layer


def learning_rate(peak, step, warmup, total):
    """Linear warm-up, then cosine decay to a tenth of the peak at `total` (flat until total is known)."""
    lr = peak * min(1.0, (step + 1) / warmup)
    if total < 10**9:
        lr *= 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, step / total)))
    return lr


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default=".demo/corpus")
    parser.add_argument("--out", default="/tmp/demo")
    parser.add_argument("--name", default="moescope-demo-16x")
    parser.add_argument("--seconds", type=float, default=270, help="wall-clock budget for the optimisation steps")
    parser.add_argument("--vocab", type=int, default=4096)
    parser.add_argument("--seq", type=int, default=256)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    t0 = time.time()

    train_docs = {d: read_split(args.corpus, d, "train") for d in DOMAINS}
    heldout_docs = {d: read_split(args.corpus, d, "heldout") for d in DOMAINS}
    tokenizer = train_tokenizer([t for d in DOMAINS for t in train_docs[d]], args.vocab)
    streams = {d: token_stream(tokenizer, train_docs[d]) for d in DOMAINS}
    heldout = {d: token_stream(tokenizer, heldout_docs[d]) for d in DOMAINS}
    print(f"tokenizer {len(tokenizer)} in {time.time() - t0:.1f}s; train tokens " +
          ", ".join(f"{d} {len(streams[d])}" for d in DOMAINS), flush=True)

    config = MixtralConfig(
        vocab_size=len(tokenizer), hidden_size=256, intermediate_size=192, num_hidden_layers=6,
        num_attention_heads=8, num_key_value_heads=4, head_dim=32, num_local_experts=16, num_experts_per_tok=2,
        max_position_embeddings=2048, rope_theta=10000.0, rms_norm_eps=1e-5, tie_word_embeddings=False,
        router_aux_loss_coef=0.02, output_router_logits=False, sliding_window=None,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        architectures=["MixtralForCausalLM"],
    )
    model, implementation = None, None
    for impl in ("grouped_mm", "eager"):
        try:
            candidate = AutoModelForCausalLM.from_config(config, experts_implementation=impl).cuda()
            x = batch(streams, 8, 64, torch.Generator().manual_seed(0)).cuda()
            with torch.autocast("cuda", dtype=torch.bfloat16):
                out = candidate(x[:, :-1], output_router_logits=True)
            (lm_loss(out.logits, x[:, 1:]) + out.aux_loss).backward()
            candidate.zero_grad(set_to_none=True)
            model, implementation = candidate, impl
            break
        except Exception as error:
            print(f"experts implementation {impl} cannot train here: {type(error).__name__}: {error}"[:400], flush=True)
    params = sum(p.numel() for p in model.parameters())
    print(f"parameters {params / 1e6:.2f} M, experts implementation {implementation}", flush=True)

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "embed" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "embed" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), fused=True)
    gen = torch.Generator().manual_seed(args.seed)
    warmup, total, step = 100, 10**9, 0
    curve = []
    start = time.time()
    model.train()
    while step < total:
        lr = learning_rate(args.lr, step, warmup, total)
        for g in opt.param_groups:
            g["lr"] = lr
        x = batch(streams, args.batch, args.seq, gen).cuda(non_blocking=True)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            out = model(x[:, :-1], output_router_logits=True)
        ce = lm_loss(out.logits, x[:, 1:])
        loss = ce + config.router_aux_loss_coef * out.aux_loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        if step == 30:  # now the step time is known: fit the cosine schedule into the budget
            torch.cuda.synchronize()
            per_step = (time.time() - start) / step
            total = max(200, int(args.seconds / per_step))
            print(f"{per_step * 1000:.0f} ms/step → {total} steps", flush=True)
        if step % 20 == 0 or step == total:
            curve.append({"step": step, "tokens": step * args.batch * args.seq, "trainLoss": ce.item(),
                          "auxLoss": out.aux_loss.item(), "seconds": time.time() - start})
        if step % 200 == 0:
            print(f"step {step}/{total} loss {ce.item():.3f} aux {out.aux_loss.item():.3f} lr {lr:.2e} "
                  f"{time.time() - start:.0f}s", flush=True)
        if time.time() - start > args.seconds * 1.15:
            print("over budget: stopping early", flush=True)
            break
    train_seconds = time.time() - start

    evaluation = evaluate(model, heldout, args.seq, 32, config.num_local_experts, config.num_experts_per_tok)
    print("held-out loss " + ", ".join(f"{d} {evaluation[d]['loss']:.3f}" for d in DOMAINS), flush=True)
    samples = {}
    model.eval()
    for d, prompt in PROMPTS.items():
        ids = tokenizer(prompt, return_tensors="pt").input_ids.cuda()
        torch.manual_seed(args.seed)
        with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
            sampled = model.generate(ids, max_new_tokens=60, do_sample=True, temperature=0.8, top_k=40)
            greedy = model.generate(ids, max_new_tokens=60, do_sample=False)
        samples[d] = {"prompt": prompt,
                      "sampled": tokenizer.decode(sampled[0, ids.shape[1]:]),
                      "greedy": tokenizer.decode(greedy[0, ids.shape[1]:])}
        print(f"--- {d}: {prompt!r} → {samples[d]['sampled']!r}", flush=True)

    path = os.path.join(args.out, args.name)
    model.config.output_router_logits = False
    model.to(torch.bfloat16).save_pretrained(path)
    tokenizer.save_pretrained(path)
    stats = {
        "name": args.name, "parameters": params, "experts_implementation": implementation,
        "config": {k: getattr(config, k) for k in ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                                                     "num_attention_heads", "num_key_value_heads", "head_dim",
                                                     "num_local_experts", "num_experts_per_tok", "router_aux_loss_coef")},
        "training": {"steps": step, "batch": args.batch, "seq": args.seq, "tokens": step * args.batch * args.seq,
                     "seconds": train_seconds, "lr": args.lr, "seed": args.seed, "gpu": torch.cuda.get_device_name(0),
                     "torch": torch.__version__, "trainTokensPerDomain": {d: len(streams[d]) for d in DOMAINS},
                     "heldoutTokensPerDomain": {d: len(heldout[d]) for d in DOMAINS}},
        "curve": curve,
        "heldout": {d: {"loss": evaluation[d]["loss"], "tokens": evaluation[d]["tokens"]} for d in DOMAINS},
        "routing": routing_stats(evaluation, config.num_hidden_layers),
        "samples": samples,
    }
    with open(os.path.join(args.out, "stats.json"), "w") as f:
        json.dump(stats, f, indent=1)
    reference = reference_record(path, tokenizer, PARITY_PROMPT, TOKENIZER_STRINGS, config.num_local_experts, config.hidden_size)
    with open(os.path.join(args.out, "reference.json"), "w") as f:
        json.dump(reference, f)
    print(f"saved {path} ({sum(os.path.getsize(os.path.join(path, n)) for n in os.listdir(path)) / 1e6:.1f} MB); "
          f"parity greedy {reference['greedy']}; total {time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()
