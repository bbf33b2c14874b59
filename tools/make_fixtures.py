#!/usr/bin/env python3
"""Write the tiny Hugging Face fixtures MoEScope's tests compare against.

For every supported architecture: a random model built by transformers itself, saved in bf16 exactly as
`save_pretrained` writes it, plus a small BPE tokenizer trained with HF `tokenizers`, and a reference.json
recorded by reloading the saved checkpoint in f32:
  - token ids for a few strings (tokenizer parity),
  - logits at every prompt position,
  - router logits per MoE layer (x · W_routerᵀ in f32, captured at each router's input),
  - a 16-token greedy continuation.
Routing is made decisive (router weights scaled up) and configs set non-trivial values (multipliers,
norm_topk_prob, dense layers between sparse ones, shared experts, groups).

Run where torch + transformers are installed (the GPU machine; CPU is enough):
    python3 tools/make_fixtures.py --out test/fixtures/hf
"""
import argparse
import json
import os
import traceback

import torch
import transformers
from hf_reference import reference_record, router_modules
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoConfig, AutoModelForCausalLM, PreTrainedTokenizerFast

CORPUS = [
    "The router sends every token to a few experts, layer by layer.",
    "def forward(self, x):\n    return self.down(silu(self.gate(x)) * self.up(x))",
    "Mixture-of-Experts models scale parameters without scaling compute per token.",
    "1, 2, 3, 5, 8, 13, 21, 34, 55, 89",
    "Les experts se spécialisent: le code, la prose, les nombres.",
]
STRINGS = ["Hello MoE world", "def f(x): return x", "Les experts", "  spaces\tand\nnewlines", "ünïcödé 🙂"]
PROMPT = "The router sends every token"
COMMON = dict(hidden_size=64, num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
              max_position_embeddings=128, rms_norm_eps=1e-6, tie_word_embeddings=False)

ARCHITECTURES = {
    "MixtralForCausalLM": dict(model_type="mixtral", intermediate_size=96, num_local_experts=8, num_experts_per_tok=2),
    "Qwen2MoeForCausalLM": dict(model_type="qwen2_moe", intermediate_size=128, moe_intermediate_size=48, num_experts=8,
                                num_experts_per_tok=2, shared_expert_intermediate_size=64, decoder_sparse_step=1,
                                mlp_only_layers=[1], norm_topk_prob=False),
    "Qwen3MoeForCausalLM": dict(model_type="qwen3_moe", intermediate_size=128, moe_intermediate_size=48, num_experts=8,
                                num_experts_per_tok=2, norm_topk_prob=True, decoder_sparse_step=1, mlp_only_layers=[]),
    "OlmoeForCausalLM": dict(model_type="olmoe", intermediate_size=48, num_experts=8, num_experts_per_tok=2,
                             norm_topk_prob=False, clip_qkv=0.5),  # bites after the q/k norms (values ~1), not before (~0.16)
    "GraniteMoeForCausalLM": dict(model_type="granitemoe", intermediate_size=48, num_local_experts=8, num_experts_per_tok=2,
                                  embedding_multiplier=12.0, attention_multiplier=0.0625, residual_multiplier=0.22,
                                  logits_scaling=6.0, tie_word_embeddings=True),
    "PhimoeForCausalLM": dict(model_type="phimoe", intermediate_size=48, num_local_experts=8, num_experts_per_tok=2,
                              router_jitter_noise=0.01, attention_bias=True, lm_head_bias=True),
    "DeepseekV3ForCausalLM": dict(model_type="deepseek_v3", intermediate_size=128, moe_intermediate_size=32,
                                  n_routed_experts=8, n_shared_experts=1, num_experts_per_tok=2, n_group=4, topk_group=2,
                                  routed_scaling_factor=2.5, norm_topk_prob=True, first_k_dense_replace=1,
                                  q_lora_rank=32, kv_lora_rank=16, qk_nope_head_dim=16, qk_rope_head_dim=8, v_head_dim=16,
                                  head_dim=8, num_key_value_heads=4),  # transformers: rotary tables sized by head_dim = qk_rope_head_dim; MLA keeps every head
}

# RoPE variants whose frequencies depend on the sequence length, on an architecture that uses them. The
# pretraining length is set around the prompt's length n so that the recorded forward and generation cross
# it: longrope switches from short to long factors once a step's positions pass it, dynamic NTK grows its
# base with every step past it.
ROPE_VARIANTS = {
    "PhimoeForCausalLM-longrope": ("PhimoeForCausalLM", lambda n: dict(
        rope_parameters=dict(rope_type="longrope", rope_theta=10000.0, original_max_position_embeddings=n + 3,
                             short_mscale=1.1, long_mscale=1.35,
                             short_factor=[1.0, 1.1, 1.3, 1.6, 2.0, 2.5, 3.1, 3.8],
                             long_factor=[1.0, 1.5, 2.5, 4.0, 6.0, 9.0, 13.0, 18.0]),
        original_max_position_embeddings=n + 3, max_position_embeddings=4 * (n + 3))),
    "PhimoeForCausalLM-longrope-long-prompt": ("PhimoeForCausalLM", lambda n: dict(
        rope_parameters=dict(rope_type="longrope", rope_theta=10000.0, original_max_position_embeddings=n - 2,
                             short_mscale=1.1, long_mscale=1.35,
                             short_factor=[1.0, 1.1, 1.3, 1.6, 2.0, 2.5, 3.1, 3.8],
                             long_factor=[1.0, 1.5, 2.5, 4.0, 6.0, 9.0, 13.0, 18.0]),
        original_max_position_embeddings=n - 2, max_position_embeddings=4 * (n - 2))),
    "MixtralForCausalLM-dynamic": ("MixtralForCausalLM", lambda n: dict(
        rope_parameters=dict(rope_type="dynamic", rope_theta=10000.0, factor=4.0), max_position_embeddings=n - 2)),
}


def train_tokenizer(vocab_size=320):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS * 4, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>")


def make(arch, extra, tokenizer, out_dir, seed, out_name=None):
    torch.manual_seed(seed)
    cfg = dict(COMMON, **extra, architectures=[arch], vocab_size=len(tokenizer),
               bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    model_type = cfg.pop("model_type")
    config = AutoConfig.for_model(model_type, **cfg)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    num_experts = extra.get("num_experts") or extra.get("num_local_experts") or extra["n_routed_experts"]
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.08) if p.dim() > 1 else p.uniform_(0.8, 1.2)
        for _, router in router_modules(model, num_experts, COMMON["hidden_size"]):
            router.weight.mul_(8.0)  # decisive routing: top-k gaps well above f32/bf16 noise
        for name, p in model.named_parameters():
            if name.endswith("e_score_correction_bias"):
                p.uniform_(-0.5, 0.5)
    path = os.path.join(out_dir, out_name or arch)
    model.to(torch.bfloat16).save_pretrained(path)
    tokenizer.save_pretrained(path)

    reference = reference_record(path, tokenizer, PROMPT, STRINGS, num_experts, COMMON["hidden_size"])
    with open(os.path.join(path, "reference.json"), "w") as f:
        json.dump(reference, f)
    size = sum(os.path.getsize(os.path.join(path, n)) for n in os.listdir(path))
    print(f"{out_name or arch}: {size / 1e6:.2f} MB, MoE layers {sorted(reference['routerLogits'])}, greedy {reference['greedy']}, rope {reference['rope']}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="test/fixtures/hf")
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    tokenizer = train_tokenizer()
    print(f"transformers {transformers.__version__}, torch {torch.__version__}, vocab {len(tokenizer)}")
    for i, (arch, extra) in enumerate(ARCHITECTURES.items()):
        if args.only and arch not in args.only:
            continue
        try:  # one architecture failing must not cost the others
            make(arch, dict(extra), tokenizer, args.out, seed=1000 + i)
        except Exception:
            print(f"{arch}: FAILED")
            traceback.print_exc()
    n = len(tokenizer(PROMPT).input_ids)
    for i, (name, (arch, rope)) in enumerate(ROPE_VARIANTS.items()):
        if args.only and name not in args.only:
            continue
        try:
            make(arch, dict(ARCHITECTURES[arch], **rope(n)), tokenizer, args.out, seed=2000 + i, out_name=name)
        except Exception:
            print(f"{name}: FAILED")
            traceback.print_exc()


if __name__ == "__main__":
    main()
