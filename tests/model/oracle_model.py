#!/usr/bin/env python3
"""The C model against the plain-PyTorch Qwen2 of ref_torch.py (float64 autograd), live.

For random tiny models (GQA, MQA and plain multi-head attention, q/k/v biases, tied and
untied heads) written as Hugging Face directories, and packed batches of sequences of
different lengths (1 token up to more than two 64-token attention tiles), model_oracle runs
the C model and this script checks:
  - the logits of every position (KV-cache inference, one token per call),
  - per-token log-probabilities and entropies (training forward; one case at temperature 0.7),
  - every parameter gradient of  sum(w_lp * logprob) + sum(w_ent * entropy)  with random
    weights w_lp, w_ent (so both backward paths, log-prob and entropy, are exercised),
with full-activation and recomputing backward and a chunked LM head. Exits 77 when torch is
missing, 1 on the first mismatch.

usage: oracle_model.py MODEL_ORACLE_EXE
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref_torch as R  # noqa: E402  (exits 77 without torch)
import torch  # noqa: E402

# fp32 C model vs float64 reference: a few hundred fp32 roundings per value, relative ~1e-6;
# the bound for logits and log-probabilities is 1e-4.
TOL_LOGITS = 1e-4
# Gradients sum over tokens and pass through more fp32 ops (softmax backward, rsqrt): 1e-3.
TOL_GRAD = 1e-3

# name, (V, C, H, Hkv, F, L), tied, rope theta, sequence lengths, model_oracle options
CASES = [
    ("untied_gqa", (61, 32, 4, 2, 44, 2), False, 10000.0, [1, 4, 9, 23, 70], []),
    ("tied_mqa_recompute", (53, 48, 6, 1, 40, 2), True, 1e6, [2, 130, 5],
     ["recompute=1", "lm_chunk=7", "block_size=5"]),
    ("untied_mha_temperature", (40, 24, 2, 2, 36, 1), False, 500.0, [3, 1, 17, 8],
     ["temperature=0.7", "lm_chunk=5", "block_size=16"]),
    ("tied_gqa_chunked", (77, 32, 8, 4, 24, 3), True, 10000.0, [12, 66, 2, 1],
     ["lm_chunk=13", "block_size=8"]),
]


def make_batch(V, lengths, gen):
    """Packed tokens, next-token targets (-1 at each end and at one position inside)."""
    tokens, targets, cu = [], [], [0]
    for n in lengths:
        s = torch.randint(0, V, (n,), generator=gen).tolist()
        t = s[1:] + [-1]
        if n > 3:
            t[n // 2] = -1  # "no target": logprob 0, entropy still counts
        tokens += s
        targets += t
        cu.append(cu[-1] + n)
    return tokens, targets, cu


def check(name, got, ref, floor, tol):
    r = R.rel_err(got, ref, floor)
    if not r < tol:
        R.fail(f"{name}: relative error {r:.3e} >= {tol:g}")
    return r


def run_case(exe, tmp, case, seed):
    name, (V, C, H, Hkv, F, L), tied, theta, lengths, opts = case
    gen = torch.Generator().manual_seed(seed)
    c = R.tiny_config(V, C, H, Hkv, F, L, tied, theta)
    p = R.random_params(c, gen)
    d = os.path.join(tmp, name)
    R.save_model(d, c, p)
    tokens, targets, cu = make_batch(V, lengths, gen)
    N = len(tokens)
    w_lp = torch.randn(N, generator=gen, dtype=torch.float64).float().double()
    w_ent = torch.randn(N, generator=gen, dtype=torch.float64).float().double()
    R.save_safetensors(os.path.join(d, "in.safetensors"), {
        "tokens": torch.tensor(tokens), "targets": torch.tensor(targets),
        "cu_seqlens": torch.tensor(cu), "w_logprob": w_lp, "w_entropy": w_ent})
    out = os.path.join(d, "out.safetensors")
    subprocess.run([exe, d, os.path.join(d, "in.safetensors"), out] + opts, check=True)
    got = R.load_safetensors(out)

    temperature = 1.0
    for o in opts:
        if o.startswith("temperature="):
            temperature = float(o.split("=")[1])
    for t in p.values():
        t.requires_grad_(True)
    logits, lps, ents = [], [], []
    for b in range(len(lengths)):
        lg = R.forward(p, c, tokens[cu[b]:cu[b + 1]])
        lp, ent = R.token_stats(lg, targets[cu[b]:cu[b + 1]], temperature)
        logits.append(lg)
        lps.append(lp)
        ents.append(ent)
    logits, lp, ent = torch.cat(logits), torch.cat(lps), torch.cat(ents)
    ((w_lp * lp).sum() + (w_ent * ent).sum()).backward()

    worst = {}
    worst["logits"] = check(f"{name} logits", got["logits"], logits.detach(), 1.0, TOL_LOGITS)
    worst["logprob"] = check(f"{name} logprob", got["logprob"], lp.detach(), 1.0, TOL_LOGITS)
    worst["entropy"] = check(f"{name} entropy", got["entropy"], ent.detach(), 1.0, TOL_LOGITS)
    worst["grad"] = R.check_grads(name, got, p, TOL_GRAD)
    print(f"{name}: N={N} params={sum(t.numel() for t in p.values())} worst relative error: " +
          ", ".join(f"{k} {v:.1e}" for k, v in worst.items()))


def main():
    exe = R.oracle_exe(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        for i, case in enumerate(CASES):
            run_case(exe, tmp, case, 100 + i)
    print("model vs plain PyTorch: all cases agree")


if __name__ == "__main__":
    main()
