#!/usr/bin/env python3
"""Hugging Face transformers on the benchmark shapes, for the ratios in docs/performance.md.

Same shapes as `npm run bench` (src/bench/shapes.ts): the config.json files the bench wrote under
--cache (default /tmp/moescope-bench/<shape>/config.json). Random bf16 weights on the GPU (from_config),
prefill = one forward over a 512-token prompt, decode = 32-token prompt then 128 greedy tokens, for each
expert implementation transformers offers; the best is reported. Prints one JSON line per shape.
Run on the GPU machine:  python3 tools/bench_hf.py --shapes olmoe-1b-7b granite-3.0-1b-a400m qwen1.5-moe-a2.7b
"""
import argparse
import json
import os
import time

import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM

IMPLEMENTATIONS = ["eager", "grouped_mm", "batched_mm"]


def timed(fn, repeats=3):
    best = float("inf")
    for _ in range(repeats):
        torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best


def bench(config_path, prompt_tokens, new_tokens):
    config = AutoConfig.from_pretrained(os.path.dirname(config_path))
    results = {}
    for impl in IMPLEMENTATIONS:
        try:
            with torch.device("cuda"):  # random weights made on the GPU: a 14 B-parameter init on the CPU takes minutes
                model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16, experts_implementation=impl)
            model = model.eval()
            vocab = config.vocab_size
            prompt = torch.randint(0, vocab, (1, prompt_tokens), device="cuda")
            short = prompt[:, :32]
            with torch.no_grad():
                model(prompt)  # warm-up
                prefill = timed(lambda: model(prompt))
                model.generate(short, max_new_tokens=8, do_sample=False)
                decode = timed(lambda: model.generate(short, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False), repeats=2)
            results[impl] = {"prefillTokS": prompt_tokens / prefill, "decodeTokS": new_tokens / decode}
            del model
            torch.cuda.empty_cache()
        except Exception as error:  # record and go on: one implementation may not exist for an architecture
            results[impl] = {"error": f"{type(error).__name__}: {error}"[:300]}
    ok = {k: v for k, v in results.items() if "error" not in v}
    best = {
        "prefillTokS": max((v["prefillTokS"] for v in ok.values()), default=None),
        "decodeTokS": max((v["decodeTokS"] for v in ok.values()), default=None),
    }
    return {"implementations": results, "best": best}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shapes", nargs="+", required=True)
    parser.add_argument("--cache", default="/tmp/moescope-bench")
    parser.add_argument("--prompt-tokens", type=int, default=512)
    parser.add_argument("--new-tokens", type=int, default=128)
    args = parser.parse_args()
    for shape in args.shapes:
        path = os.path.join(args.cache, shape, "config.json")
        report = {"shape": shape, "transformers": transformers.__version__, "torch": torch.__version__,
                  "gpu": torch.cuda.get_device_name(0), **bench(path, args.prompt_tokens, args.new_tokens)}
        print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
