#!/usr/bin/env python3
"""Creates the golden files of tests/model/data from Hugging Face transformers (run once, by hand).

Tiny random Qwen2 models (GQA, q/k/v biases, odd vocabulary, tied and untied heads, and a
Qwen2.5-Math-RM-style reward head) are saved as Hugging Face directories (config.json +
model.safetensors). golden.safetensors next to them holds, for one packed batch of sequences
of different lengths (each run through HF on its own, in float64):
  tokens, targets (-1 at the last token of a sequence), cu_seqlens,
  logprob, entropy           per token (fp64 reference rounded to fp32)
  w_logprob, w_entropy       fixed weights of the loss  sum(w_lp*logprob) + sum(w_ent*entropy)
  grad.<name>                dLoss/dparam for every parameter
  logits_last                (B, V) logits at each sequence's last token
  adamw.<name>               parameters after two torch.optim.AdamW steps (grad-norm clipping)
  (reward models) score      (B) the score at each sequence's last token (Qwen2.5-Math-RM head,
                             and Qwen2ForSequenceClassification with one label)

Usage: python3 tests/model/gen_golden.py   (needs torch and transformers==4.40.x)
"""
import json
import os

import torch
from safetensors.torch import save_file
from transformers import (Qwen2Config, Qwen2ForCausalLM, Qwen2ForSequenceClassification,
                          Qwen2Model)

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
LENGTHS = [7, 12, 5]
ADAMW = dict(lr=1e-2, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)


def randomize(model, gen):
    """Random weights everywhere (HF's init leaves biases at 0 and norms at 1)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=gen, dtype=torch.float64))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen, dtype=torch.float64))
            else:
                p.copy_(0.25 * torch.randn(p.shape, generator=gen, dtype=torch.float64))
            # exact in fp32, so the C model reads the same numbers
            p.copy_(p.float().double())


def batch(vocab, gen):
    seqs = [torch.randint(0, vocab, (n,), generator=gen) for n in LENGTHS]
    tokens = torch.cat(seqs)
    targets = torch.cat([torch.cat([s[1:], torch.tensor([-1])]) for s in seqs])
    cu = torch.tensor([0] + list(torch.cumsum(torch.tensor(LENGTHS), 0)))
    return seqs, tokens, targets, cu


def state_f32(model):
    return {k: v.detach().float().contiguous() for k, v in model.state_dict().items()}


def make_lm(name, tied, vocab, hidden, heads, kv_heads, ffn, theta, seed):
    gen = torch.Generator().manual_seed(seed)
    cfg = Qwen2Config(vocab_size=vocab, hidden_size=hidden, intermediate_size=ffn,
                      num_hidden_layers=2, num_attention_heads=heads,
                      num_key_value_heads=kv_heads, max_position_embeddings=64,
                      rope_theta=theta, rms_norm_eps=1e-6, tie_word_embeddings=tied,
                      attn_implementation="eager", torch_dtype="float32")
    model = Qwen2ForCausalLM(cfg).double()
    randomize(model, gen)
    out = os.path.join(HERE, name)
    os.makedirs(out, exist_ok=True)
    model.float().save_pretrained(out, safe_serialization=True)
    model.double()

    seqs, tokens, targets, cu = batch(vocab, gen)
    w_lp = torch.randn(len(tokens), generator=gen, dtype=torch.float64)
    w_ent = torch.randn(len(tokens), generator=gen, dtype=torch.float64)
    lps, ents, last = [], [], []
    for s in seqs:
        logits = model(s[None]).logits[0]  # (T, V)
        logp = torch.log_softmax(logits, -1)
        tgt = torch.cat([s[1:], torch.tensor([0])])
        lp = logp.gather(1, tgt[:, None])[:, 0]
        lp = torch.cat([lp[:-1], torch.zeros(1, dtype=lp.dtype)])
        ent = -(logp.exp() * logp).sum(-1)
        lps.append(lp)
        ents.append(ent)
        last.append(logits[-1])
    lp, ent = torch.cat(lps), torch.cat(ents)
    loss = (w_lp * lp).sum() + (w_ent * ent).sum()
    model.zero_grad()
    loss.backward()
    g = {"tokens": tokens.float(), "targets": targets.float(), "cu_seqlens": cu.float(),
         "logprob": lp.detach().float(), "entropy": ent.detach().float(),
         "w_logprob": w_lp.float(), "w_entropy": w_ent.float(),
         "logits_last": torch.stack(last).detach().float()}
    names = [n for n, _ in model.named_parameters()]
    for n, p in model.named_parameters():
        g["grad." + n] = p.grad.detach().float().clone()

    # AdamW: decay on matrices only; step 1 with the gradient clipped to half its norm,
    # step 2 with half the gradient (unclipped).
    params = dict(model.named_parameters())
    decay = [p for n, p in params.items() if p.dim() == 2]
    no_decay = [p for n, p in params.items() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay}, {"params": no_decay, "weight_decay": 0.0}],
                            **ADAMW)
    grads = {n: p.grad.detach().clone() for n, p in params.items()}
    norm = torch.sqrt(sum((v ** 2).sum() for v in grads.values()))
    g["grad_norm"] = norm.float().reshape(1)
    for step, scale in ((1, 0.5), (2, 0.5)):
        for n, p in params.items():
            p.grad = grads[n] * scale
        if step == 1:
            torch.nn.utils.clip_grad_norm_(list(params.values()), max_norm=float(norm) * 0.5 * 0.5)
        opt.step()
    for n in names:
        g["adamw." + n] = params[n].detach().float().clone()
    save_file({k: v.contiguous() for k, v in g.items()}, os.path.join(out, "golden.safetensors"))
    print(name, "params", sum(p.numel() for p in model.parameters()))


def make_rm(name, vocab, hidden, heads, kv_heads, ffn, seed):
    """Qwen2.5-Math-RM head: score.0 Linear(C,C)+bias, ReLU, score.2 Linear(C,1)+bias."""
    gen = torch.Generator().manual_seed(seed)
    cfg = Qwen2Config(vocab_size=vocab, hidden_size=hidden, intermediate_size=ffn,
                      num_hidden_layers=2, num_attention_heads=heads,
                      num_key_value_heads=kv_heads, max_position_embeddings=64,
                      rope_theta=10000.0, rms_norm_eps=1e-6, attn_implementation="eager")
    body = Qwen2Model(cfg).double()
    randomize(body, gen)
    head = torch.nn.Sequential(torch.nn.Linear(hidden, hidden), torch.nn.ReLU(),
                               torch.nn.Linear(hidden, 1)).double()
    randomize(head, gen)
    out = os.path.join(HERE, name)
    os.makedirs(out, exist_ok=True)
    tensors = {"model." + k: v.detach().float().contiguous() for k, v in body.state_dict().items()}
    tensors.update({"score." + k: v.detach().float().contiguous()
                    for k, v in head.state_dict().items()})
    save_file(tensors, os.path.join(out, "model.safetensors"), metadata={"format": "pt"})
    c = cfg.to_dict()
    c["architectures"] = ["Qwen2ForRewardModel"]
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump({k: c[k] for k in ("architectures", "model_type", "hidden_size",
                                     "intermediate_size", "num_hidden_layers",
                                     "num_attention_heads", "num_key_value_heads", "vocab_size",
                                     "max_position_embeddings", "rope_theta", "rms_norm_eps",
                                     "tie_word_embeddings", "hidden_act")}, f, indent=2)
    seqs, tokens, targets, cu = batch(vocab, gen)
    scores = [head(body(s[None]).last_hidden_state[0, -1])[0] for s in seqs]
    g = {"tokens": tokens.float(), "cu_seqlens": cu.float(),
         "score": torch.stack(scores).detach().float()}
    save_file(g, os.path.join(out, "golden.safetensors"))
    print(name, "ok")


def make_score(name, vocab, hidden, heads, kv_heads, ffn, seed):
    """Qwen2ForSequenceClassification with one label: score.weight (1, C), last token."""
    gen = torch.Generator().manual_seed(seed)
    cfg = Qwen2Config(vocab_size=vocab, hidden_size=hidden, intermediate_size=ffn,
                      num_hidden_layers=2, num_attention_heads=heads,
                      num_key_value_heads=kv_heads, max_position_embeddings=64,
                      rope_theta=10000.0, rms_norm_eps=1e-6, num_labels=1,
                      pad_token_id=None, attn_implementation="eager")
    model = Qwen2ForSequenceClassification(cfg).double()
    randomize(model, gen)
    out = os.path.join(HERE, name)
    os.makedirs(out, exist_ok=True)
    model.float().save_pretrained(out, safe_serialization=True)
    model.double()
    seqs, tokens, targets, cu = batch(vocab, gen)
    # batch size 1 and no pad token: HF pools the last token
    scores = [model(s[None]).logits[0, 0] for s in seqs]
    g = {"tokens": tokens.float(), "cu_seqlens": cu.float(),
         "score": torch.stack(scores).detach().float()}
    save_file(g, os.path.join(out, "golden.safetensors"))
    print(name, "ok")


if __name__ == "__main__":
    torch.manual_seed(0)
    torch.set_default_dtype(torch.float64)  # HF builds its masks in the default dtype
    make_lm("qwen2_untied", False, 97, 32, 4, 2, 48, 10000.0, 1)
    make_lm("qwen2_tied", True, 80, 48, 6, 2, 72, 1000000.0, 2)
    make_rm("qwen2_rm", 64, 32, 4, 2, 40, 3)
    make_score("qwen2_score", 64, 32, 4, 2, 40, 4)
