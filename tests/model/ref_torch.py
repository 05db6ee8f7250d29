#!/usr/bin/env python3
"""A plain-PyTorch Qwen2 (float64), independent of the C model, and the oracle tests' helpers.

As a library (imported by tests/model/oracle_model.py and tests/trainer/oracle_grpo.py):
safetensors read/write without the safetensors package, random tiny Qwen2 models written as
Hugging Face directories, and forward(params, config, ids) -> logits. Every parameter is a
float64 tensor holding an fp32-exact value, so the C model reads the same numbers.

As a script (the `ref_torch_logprobs` test): `grpo logprobs` on the models of tests/model/data
against this reference, per-token log-probabilities and entropies of many lengths.
Scripts exit 77 (skipped) when torch is missing.

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
    """{name: float64 tensor} of an F32 safetensors file."""
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


def save_safetensors(path, tensors):
    """Writes {name: tensor} as F32 (integers too: ids below 2^24 are exact)."""
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        b = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def tiny_config(vocab, hidden, heads, kv_heads, ffn, layers, tied, theta=10000.0, max_pos=256):
    return {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_act": "silu",
            "vocab_size": vocab, "hidden_size": hidden, "intermediate_size": ffn,
            "num_hidden_layers": layers, "num_attention_heads": heads,
            "num_key_value_heads": kv_heads, "max_position_embeddings": max_pos,
            "rope_theta": theta, "rms_norm_eps": 1e-6, "tie_word_embeddings": tied,
            "use_sliding_window": False, "torch_dtype": "float32"}


def param_shapes(c):
    C, F, V = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    D = C // c["num_attention_heads"]
    Q, KV = c["num_attention_heads"] * D, c["num_key_value_heads"] * D
    s = {"model.embed_tokens.weight": (V, C), "model.norm.weight": (C,)}
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        s.update({p + "input_layernorm.weight": (C,), p + "post_attention_layernorm.weight": (C,),
                  p + "self_attn.q_proj.weight": (Q, C), p + "self_attn.q_proj.bias": (Q,),
                  p + "self_attn.k_proj.weight": (KV, C), p + "self_attn.k_proj.bias": (KV,),
                  p + "self_attn.v_proj.weight": (KV, C), p + "self_attn.v_proj.bias": (KV,),
                  p + "self_attn.o_proj.weight": (C, Q), p + "mlp.gate_proj.weight": (F, C),
                  p + "mlp.up_proj.weight": (F, C), p + "mlp.down_proj.weight": (C, F)})
    if not c["tie_word_embeddings"]:
        s["lm_head.weight"] = (V, C)
    return s


def random_params(c, gen, scale=0.25):
    """Random weights everywhere (norms near 1, biases non-zero), rounded to fp32."""
    p = {}
    for name, shape in param_shapes(c).items():
        x = torch.randn(shape, generator=gen, dtype=torch.float64)
        if name.endswith("norm.weight"):
            x = 1 + 0.1 * x
        elif name.endswith("bias"):
            x = 0.1 * x
        else:
            x = scale * x
        p[name] = x.float().double()
    return p


def save_model(d, c, p):
    """A Hugging Face directory: config.json + model.safetensors."""
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
    save_safetensors(os.path.join(d, "model.safetensors"), p)


def rms(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def forward(p, c, ids):
    """Logits (T, V) of one sequence of token ids, positions 0..T-1."""
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


def token_stats(logits, targets, temperature=1.0):
    """Per-token log p(target) (0 where target < 0) and entropy of softmax(logits / temperature)."""
    logp = torch.log_softmax(logits / temperature, -1)
    tgt = torch.tensor(targets)
    lp = logp.gather(1, tgt.clamp(min=0)[:, None])[:, 0] * (tgt >= 0)
    ent = -(logp.exp() * logp).sum(-1)
    return lp, ent


def rel_err(got, ref, floor):
    """max |got - ref| / max(max |ref|, floor): the error relative to the tensor's scale."""
    d = (got.double() - ref).abs().max().item()
    return d / max(ref.abs().max().item(), floor)


def fail(msg):
    print("FAIL " + msg)
    sys.exit(1)


def oracle_exe(doc):
    """The one argument of an oracle script, the C executable (else its usage); one thread."""
    if len(sys.argv) != 2:
        print(doc)
        sys.exit(1)
    torch.set_num_threads(1)
    return sys.argv[1]


def check_grads(case, got, params, tol):
    """got's "grad.<name>" against params[name].grad, every parameter; the worst error."""
    names = {k[5:] for k in got if k.startswith("grad.")}
    if names != set(params):
        fail(f"{case}: gradient names differ: {sorted(names ^ set(params))}")
    worst = 0.0
    for n, t in params.items():
        r = rel_err(got["grad." + n], t.grad, 1e-6)
        if not r < tol:
            fail(f"{case}: gradient of {n} relative error {r:.3e} >= {tol:g}")
        worst = max(worst, r)
    return worst


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
            lp, ent = token_stats(forward(p, c, s), s[1:] + [-1])
            for ref, val in ((lp[:-1], got["logprobs"]), (ent[:-1], got["entropy"])):
                assert len(val) == len(s) - 1
                rel = rel_err(torch.tensor(val, dtype=torch.float64), ref, 1.0)
                worst = max(worst, rel)
                if not rel < TOL:
                    print(f"{name}: length {len(s)}: relative error {rel:.3e}")
                    sys.exit(1)
    print(f"grpo logprobs vs plain PyTorch: worst relative error {worst:.2e}")


if __name__ == "__main__":
    main()
