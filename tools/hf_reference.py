"""What MoEScope's parity tests compare against: outputs of HF transformers for one saved checkpoint.

`reference_record` reloads a checkpoint written by `save_pretrained` in f32 and records, for one prompt:
logits at every position, router logits per MoE layer (x · W_routerᵀ in f32 at each router's input), a greedy
continuation, and token ids of a few strings from the same tokenizer. Used by tools/make_fixtures.py (tiny
fixtures of every architecture) and tools/demo/train_demo.py (the demo model).
"""
import torch
import transformers
from transformers import AutoModelForCausalLM


def router_modules(model, num_experts, hidden):
    """(layer index, module) for every router: a [E, H] weight under a name with gate/router."""
    found = []
    for name, module in model.named_modules():
        w = getattr(module, "weight", None)
        leaf = name.split(".")[-1]
        if w is None or tuple(w.shape) != (num_experts, hidden) or leaf in ("gate_proj", "shared_expert_gate"):
            continue
        if "gate" in leaf or "router" in name:
            found.append((int(name.split("layers.")[1].split(".")[0]), module))
    return sorted(found, key=lambda x: x[0])


def reference_record(path, tokenizer, prompt, strings, num_experts, hidden, greedy_tokens=16):
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    captured = {}
    hooks = []
    for layer, router in router_modules(model, num_experts, hidden):
        def hook(module, args, layer=layer):
            x = args[0].reshape(-1, args[0].shape[-1]).float()
            captured.setdefault(layer, x @ module.weight.float().T)
        hooks.append(router.register_forward_pre_hook(hook))
    ids = tokenizer(prompt, return_tensors="pt").input_ids
    with torch.no_grad():
        logits = model(ids).logits[0].float()
    for h in hooks:
        h.remove()
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=greedy_tokens, min_new_tokens=greedy_tokens, do_sample=False,
                             output_logits=True, return_dict_in_generate=True)
    generated = out.sequences[0, ids.shape[1]:]
    # the logits each generation step chose from: the last prompt position's, then each fed-back token's
    step_logits = [l[0].float().tolist() for l in out.logits]
    return {
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "architecture": model.config.architectures[0],
        "prompt": prompt,
        "promptIds": ids[0].tolist(),
        "logits": logits.tolist(),
        "routerLogits": {str(l): v.tolist() for l, v in sorted(captured.items())},
        "greedy": generated.tolist(),
        "stepLogits": step_logits,
        "rope": getattr(model.config, "rope_parameters", None) or getattr(model.config, "rope_scaling", None),
        "tokenizer": {s: tokenizer(s).input_ids for s in strings},
    }
