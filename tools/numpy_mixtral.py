"""A Mixtral forward pass in numpy (float64), for the dynamic-analysis fixtures.

Independent of MoEScope's TypeScript and WGSL: it reads the safetensors bytes itself and follows
transformers' modeling_mixtral.py. Its logits are checked against transformers' own (reference.json)
before anything it computes is written, so the MoE-block inputs it hands to the analyses are those of the
real model. Also runs every expert on every token (the paper's "all experts computed for analysis").
"""
import json
import struct

import numpy as np


def load_safetensors(path):
    """name -> float64 array, for BF16/F16/F32 tensors."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        raw = data[a:b]
        if e["dtype"] == "BF16":
            arr = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        elif e["dtype"] == "F16":
            arr = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        elif e["dtype"] == "F32":
            arr = np.frombuffer(raw, dtype="<f4")
        else:
            raise ValueError(f"{name}: dtype {e['dtype']} not handled")
        out[name] = arr.reshape(e["shape"]).astype(np.float64)
    return out


def rms_norm(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def rope(x, positions, theta):
    """x [T, heads, d]; rotate_half convention (first half with second half)."""
    d = x.shape[-1]
    inv = 1.0 / theta ** (np.arange(0, d, 2, dtype=np.float64) / d)
    ang = positions[:, None] * inv[None, :]
    cos = np.concatenate([np.cos(ang)] * 2, -1)[:, None, :]
    sin = np.concatenate([np.sin(ang)] * 2, -1)[:, None, :]
    rot = np.concatenate([-x[..., d // 2:], x[..., : d // 2]], -1)
    return x * cos + rot * sin


def silu(x):
    return x / (1.0 + np.exp(-x))


class Mixtral:
    def __init__(self, folder):
        self.config = json.load(open(f"{folder}/config.json"))
        self.w = load_safetensors(f"{folder}/model.safetensors")

    def experts(self, layer):
        """Per expert (gate [I,H], up [I,H], down [H,I])."""
        c = self.config
        p = f"model.layers.{layer}.mlp.experts"
        if f"{p}.gate_up_proj" in self.w:  # fused, transformers 5 in memory layout
            gu, dn = self.w[f"{p}.gate_up_proj"], self.w[f"{p}.down_proj"]
            I = c["intermediate_size"]
            return [(gu[e, :I], gu[e, I:], dn[e]) for e in range(c["num_local_experts"])]
        p = f"model.layers.{layer}.block_sparse_moe.experts"
        return [(self.w[f"{p}.{e}.w1.weight"], self.w[f"{p}.{e}.w3.weight"], self.w[f"{p}.{e}.w2.weight"])
                for e in range(c["num_local_experts"])]

    def router(self, layer):
        for name in (f"model.layers.{layer}.block_sparse_moe.gate.weight", f"model.layers.{layer}.mlp.gate.weight"):
            if name in self.w:
                return self.w[name]
        raise KeyError(f"router of layer {layer}")

    def forward(self, ids):
        """logits [T, V] and, per layer, the MoE input h [T, H] and router logits [T, E]."""
        c, w = self.config, self.w
        T = len(ids)
        H, nh, nkv = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
        d = c.get("head_dim") or H // nh
        theta = (c.get("rope_parameters") or {}).get("rope_theta", c.get("rope_theta", 10000.0))
        eps, k = c["rms_norm_eps"], c["num_experts_per_tok"]
        pos = np.arange(T, dtype=np.float64)
        x = w["model.embed_tokens.weight"][ids]
        moe_inputs, router_logits = [], []
        mask = np.triu(np.full((T, T), -np.inf), 1)
        for l in range(c["num_hidden_layers"]):
            p = f"model.layers.{l}"
            h = rms_norm(x, w[f"{p}.input_layernorm.weight"], eps)
            q = (h @ w[f"{p}.self_attn.q_proj.weight"].T).reshape(T, nh, d)
            kk = (h @ w[f"{p}.self_attn.k_proj.weight"].T).reshape(T, nkv, d)
            v = (h @ w[f"{p}.self_attn.v_proj.weight"].T).reshape(T, nkv, d)
            q, kk = rope(q, pos, theta), rope(kk, pos, theta)
            rep = nh // nkv
            kk, v = np.repeat(kk, rep, axis=1), np.repeat(v, rep, axis=1)
            scores = np.einsum("thd,shd->hts", q, kk) / np.sqrt(d) + mask
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            attn = np.einsum("hts,shd->thd", scores, v).reshape(T, nh * d)
            x = x + attn @ w[f"{p}.self_attn.o_proj.weight"].T
            h = rms_norm(x, w[f"{p}.post_attention_layernorm.weight"], eps)
            logits = h @ self.router(l).T
            moe_inputs.append(h)
            router_logits.append(logits)
            probs = np.exp(logits - logits.max(-1, keepdims=True))
            probs /= probs.sum(-1, keepdims=True)
            out = np.zeros_like(h)
            experts = self.experts(l)
            for t in range(T):
                top = np.argsort(-probs[t], kind="stable")[:k]
                weights = probs[t, top] / probs[t, top].sum()
                for e, wt in zip(top, weights):
                    g, u, dn = experts[e]
                    out[t] += wt * ((silu(g @ h[t]) * (u @ h[t])) @ dn.T)
            x = x + out
        x = rms_norm(x, w["model.norm.weight"], eps)
        return x @ w["lm_head.weight"].T, moe_inputs, router_logits

    def all_experts(self, layer, h):
        """Every expert on every token: outputs [T, E, H] and silu(W_gate h) [T, E, I]."""
        outs, states = [], []
        for g, u, dn in self.experts(layer):
            gate = silu(h @ g.T)
            states.append(gate)
            outs.append((gate * (h @ u.T)) @ dn.T)
        return np.stack(outs, 1), np.stack(states, 1)
