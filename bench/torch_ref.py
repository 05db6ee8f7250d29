#!/usr/bin/env python3
"""Plain-PyTorch Qwen2 of the same shape as bench_model's, for its ratios (run by bench_model).

usage: torch_ref.py train C L H HKV F V B T STEPS THREADS
       torch_ref.py decode C L H HKV F V NSEQ PROMPT NEW THREADS   (greedy)
       torch_ref.py sample C L H HKV F V NSEQ PROMPT NEW THREADS   (temperature 1 sampling)
Prints "tokens_per_s <x>" (train: of the fastest step; decode and sample: the decode steps
with their argmax or sampling, prefill excluded), then "cpu_tokens_per_s <y>", the same by
the process's processor time. Run with the current PyPI torch (bench/setup-torch).
"""
import math
import sys
import time

import torch
import torch.nn.functional as Fn


class Block(torch.nn.Module):
    def __init__(s, C, H, Hkv, F):
        super().__init__()
        D = C // H
        s.H, s.Hkv, s.D = H, Hkv, D
        s.ln1 = torch.nn.Parameter(torch.ones(C))
        s.ln2 = torch.nn.Parameter(torch.ones(C))
        s.q = torch.nn.Linear(C, H * D)
        s.k = torch.nn.Linear(C, Hkv * D)
        s.v = torch.nn.Linear(C, Hkv * D)
        s.o = torch.nn.Linear(H * D, C, bias=False)
        s.g = torch.nn.Linear(C, F, bias=False)
        s.u = torch.nn.Linear(C, F, bias=False)
        s.d = torch.nn.Linear(F, C, bias=False)


def rms(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * w


def rope(x, cos, sin):
    h = x.shape[-1] // 2
    return x * cos + torch.cat([-x[..., h:], x[..., :h]], -1) * sin


class Model(torch.nn.Module):
    def __init__(s, C, L, H, Hkv, F, V):
        super().__init__()
        s.emb = torch.nn.Embedding(V, C)
        s.blocks = torch.nn.ModuleList([Block(C, H, Hkv, F) for _ in range(L)])
        s.norm = torch.nn.Parameter(torch.ones(C))
        D = C // H
        s.inv = 1.0 / (10000 ** (torch.arange(0, D, 2).float() / D))

    def angles(s, pos):
        f = pos[:, None].float() * s.inv[None]
        e = torch.cat([f, f], -1)
        return e.cos(), e.sin()

    def forward(s, ids, pos0=0, cache=None):
        B, T = ids.shape
        x = s.emb(ids)
        cos, sin = s.angles(torch.arange(pos0, pos0 + T))
        for i, b in enumerate(s.blocks):
            h = rms(x, b.ln1)
            q = b.q(h).view(B, T, b.H, b.D).transpose(1, 2)
            k = b.k(h).view(B, T, b.Hkv, b.D).transpose(1, 2)
            v = b.v(h).view(B, T, b.Hkv, b.D).transpose(1, 2)
            q, k = rope(q, cos, sin), rope(k, cos, sin)
            if cache is not None:
                if cache[i] is not None:
                    k = torch.cat([cache[i][0], k], 2)
                    v = torch.cat([cache[i][1], v], 2)
                cache[i] = (k, v)
            rep = b.H // b.Hkv
            k = k.repeat_interleave(rep, 1)
            v = v.repeat_interleave(rep, 1)
            S = k.shape[2]
            a = (q @ k.transpose(-1, -2)) / math.sqrt(b.D)
            mask = torch.ones(T, S, dtype=torch.bool).tril(S - T)
            a = a.masked_fill(~mask, float("-inf")).softmax(-1)
            x = x + b.o((a @ v).transpose(1, 2).reshape(B, T, -1))
            h = rms(x, b.ln2)
            x = x + b.d(Fn.silu(b.g(h)) * b.u(h))
        return rms(x, s.norm) @ s.emb.weight.t()  # tied head


def main():
    mode, a = sys.argv[1], [int(x) for x in sys.argv[2:]]
    torch.set_num_threads(a[-1])
    torch.manual_seed(0)
    C, L, H, Hkv, F, V = a[:6]
    m = Model(C, L, H, Hkv, F, V)
    if mode == "train":
        B, T, steps = a[6:9]
        opt = torch.optim.AdamW(m.parameters(), lr=1e-4)
        ids = torch.randint(0, V, (B, T + 1))
        def step():
            logits = m(ids[:, :-1])
            loss = Fn.cross_entropy(logits.reshape(-1, V), ids[:, 1:].reshape(-1))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
            opt.step()
        step()  # warm-up
        best = best_cpu = float("inf")
        for _ in range(steps):  # the fastest step, as bench_model
            t0, c0 = time.time(), time.process_time()
            step()
            best = min(best, time.time() - t0)
            best_cpu = min(best_cpu, time.process_time() - c0)
        print("tokens_per_s", B * T / best)
        print("cpu_tokens_per_s", B * T / best_cpu)
    else:
        nseq, prompt, new = a[6:9]
        with torch.inference_mode():
            cache = [None] * L
            ids = torch.randint(0, V, (nseq, prompt))
            logits = m(ids, 0, cache)
            t0, c0 = time.time(), time.process_time()
            for s in range(new):
                if mode == "sample":
                    p = torch.softmax(logits[:, -1], -1)
                    nxt = torch.multinomial(p, 1)
                else:
                    nxt = logits[:, -1].argmax(-1, keepdim=True)
                logits = m(nxt, prompt + s, cache)
            print("tokens_per_s", nseq * new / (time.time() - t0))
            print("cpu_tokens_per_s", nseq * new / (time.process_time() - c0))


if __name__ == "__main__":
    main()
