#!/usr/bin/env python3
"""The `ref` suite: `grpo logprobs` against an independent plain-PyTorch Qwen2 (float64).

Reads the test models of tests/model/data (config.json + model.safetensors, parsed here without
the safetensors package), draws token sequences of many lengths, and compares per-token
log-probabilities and entropies. Exits 77 (skipped) when torch is missing.

usage: ref_torch.py GRPO_EXE DATA_DIR
"""
import json
import os
import random
import struct
import subprocess
import sys

try:
    import torch
except ImportError:
    print("torch not available: skipped")
    sys.exit(77)

# fp32 C model vs float64 reference; printed with 9 digits (see test_model_golden.c)
TOL = 1e-4


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        assert t["dtype"] == "F32", t["dtype"]
        b, e = t["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[b:e]), dtype=torch.float32).reshape(
            t["shape"]).double()
    return out


def rms(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def forward(p, c, ids):
    C, H, Hkv = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
    D, T, eps = C // H, len(ids), c["rms_norm_eps"]
    inv = 1.0 / (c["rope_theta"] ** (torch.arange(0, D, 2, dtype=torch.float64) / D))
    ang = torch.arange(T, dtype=torch.float64)[:, None] * inv[None]
    cos, sin = torch.cat([ang, ang], -1).cos(), torch.cat([ang, ang], -1).sin()

    def rope(x):  # (heads, T, D)
        h = D // 2
        return x * cos + torch.cat([-x[..., h:], x[..., :h]], -1) * sin

    x = p["model.embed_tokens.weight"][torch.tensor(ids)]
    mask = torch.ones(T, T, dtype=torch.bool).tril()
    for l in range(c["num_hidden_layers"]):
        g = lambda n: p[f"model.layers.{l}.{n}"]
        h = rms(x, g("input_layernorm.weight"), eps)
        q = (h @ g("self_attn.q_proj.weight").T + g("self_attn.q_proj.bias")).view(T, H, D)
        k = (h @ g("self_attn.k_proj.weight").T + g("self_attn.k_proj.bias")).view(T, Hkv, D)
        v = (h @ g("self_attn.v_proj.weight").T + g("self_attn.v_proj.bias")).view(T, Hkv, D)
        q, k, v = rope(q.transpose(0, 1)), rope(k.transpose(0, 1)), v.transpose(0, 1)
        k, v = k.repeat_interleave(H // Hkv, 0), v.repeat_interleave(H // Hkv, 0)
        a = (q @ k.transpose(1, 2)) / D ** 0.5
        a = a.masked_fill(~mask, float("-inf")).softmax(-1)
        x = x + (a @ v).transpose(0, 1).reshape(T, C) @ g("self_attn.o_proj.weight").T
        h = rms(x, g("post_attention_layernorm.weight"), eps)
        gate = h @ g("mlp.gate_proj.weight").T
        x = x + (torch.nn.functional.silu(gate) * (h @ g("mlp.up_proj.weight").T)) @ g(
            "mlp.down_proj.weight").T
    head = p.get("lm_head.weight", p["model.embed_tokens.weight"])
    return rms(x, p["model.norm.weight"], eps) @ head.T


def main():
    exe, data = sys.argv[1], sys.argv[2]
    rng = random.Random(5)
    worst = 0.0
    for name in ("qwen2_untied", "qwen2_tied"):
        d = os.path.join(data, name)
        c = json.load(open(os.path.join(d, "config.json")))
        p = load_safetensors(os.path.join(d, "model.safetensors"))
        seqs = [[rng.randrange(c["vocab_size"]) for _ in range(n)] for n in (2, 5, 17, 33, 64)]
        inp = "".join(json.dumps({"ids": s}) + "\n" for s in seqs)
        out = subprocess.run([exe, "logprobs", "--model", d], input=inp, capture_output=True,
                             text=True, check=True).stdout.splitlines()
        assert len(out) == len(seqs), out
        for s, line in zip(seqs, out):
            got = json.loads(line)
            logp = torch.log_softmax(forward(p, c, s), -1)
            lp = logp[:-1].gather(1, torch.tensor(s[1:])[:, None])[:, 0]
            ent = -(logp.exp() * logp).sum(-1)[:-1]
            for ref, val in ((lp, got["logprobs"]), (ent, got["entropy"])):
                assert len(val) == len(s) - 1
                err = (torch.tensor(val, dtype=torch.float64) - ref).abs().max().item()
                rel = err / max(1.0, ref.abs().max().item())
                worst = max(worst, rel)
                if not rel < TOL:
                    print(f"{name}: length {len(s)}: relative error {rel:.3e}")
                    sys.exit(1)
    print(f"grpo logprobs vs plain PyTorch: worst relative error {worst:.2e}")


if __name__ == "__main__":
    main()
