#!/usr/bin/env python3
"""Writes a tiny random Qwen2ForRewardModel directory (config.json + model.safetensors)
with the byte tokenizer's vocabulary, for tests of reward-model scoring in grpo train
and grpo eval; with --lm a Qwen2ForCausalLM (tied embeddings) instead, a policy.
Pure Python (struct + random), so tests need no PyPI package.
Usage: make_tiny_rm.py DIR [--lm]"""
import json, os, random, struct, sys

V, C, F, L, H, HKV = 261, 16, 24, 1, 2, 1
D = C // H
out = sys.argv[1]
is_lm = sys.argv[2:] == ["--lm"]
os.makedirs(out, exist_ok=True)
rnd = random.Random(5)
shapes = {"model.embed_tokens.weight": [V, C], "model.norm.weight": [C]}
if not is_lm:
    shapes.update({"score.0.weight": [C, C], "score.0.bias": [C], "score.2.weight": [1, C],
                   "score.2.bias": [1]})
for l in range(L):
    p = f"model.layers.{l}."
    shapes.update({p + "input_layernorm.weight": [C], p + "post_attention_layernorm.weight": [C],
                   p + "self_attn.q_proj.weight": [H * D, C], p + "self_attn.q_proj.bias": [H * D],
                   p + "self_attn.k_proj.weight": [HKV * D, C], p + "self_attn.k_proj.bias": [HKV * D],
                   p + "self_attn.v_proj.weight": [HKV * D, C], p + "self_attn.v_proj.bias": [HKV * D],
                   p + "self_attn.o_proj.weight": [C, H * D], p + "mlp.gate_proj.weight": [F, C],
                   p + "mlp.up_proj.weight": [F, C], p + "mlp.down_proj.weight": [C, F]})
header, blobs, off = {}, [], 0
for name, shape in shapes.items():
    n = 1
    for s in shape: n *= s
    vals = [1.0] * n if name.endswith("norm.weight") else [rnd.gauss(0, 0.5) for _ in range(n)]
    b = struct.pack("<%df" % n, *vals)
    header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [off, off + len(b)]}
    blobs.append(b)
    off += len(b)
h = json.dumps(header).encode()
h += b" " * ((8 - len(h) % 8) % 8)
with open(os.path.join(out, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
cfg = {"architectures": ["Qwen2ForCausalLM" if is_lm else "Qwen2ForRewardModel"], "model_type": "qwen2", "hidden_size": C,
       "intermediate_size": F, "num_hidden_layers": L, "num_attention_heads": H,
       "num_key_value_heads": HKV, "vocab_size": V, "max_position_embeddings": 64,
       "rope_theta": 10000.0, "rms_norm_eps": 1e-6, "tie_word_embeddings": is_lm, "hidden_act": "silu"}
with open(os.path.join(out, "config.json"), "w") as f:
    json.dump(cfg, f)
