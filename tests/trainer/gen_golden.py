#!/usr/bin/python3
"""Golden values for the GRPO loss, from PyTorch autograd (float64).

Run once with Debian's python3-torch:  /usr/bin/python3 tests/trainer/gen_golden.py
Writes tests/trainer/data/grpo_loss_golden.json: inputs, and for each aggregation mode x KL
estimator x option set the loss and d loss / d logp (and / d entropy).
"""
import json, os
import torch

torch.manual_seed(0)
G, n_groups = 4, 3
rewards = torch.tensor([1.0, 0.0, 1.0, 0.0,   # mixed
                        0.5, 0.5, 0.5, 0.5,   # zero variance
                        1.2, -0.3, 0.7, 0.1], dtype=torch.float64)
lens = [5, 3, 7, 4, 6, 2, 5, 8, 3, 4, 6, 5]
prompt = [2, 1, 0, 3, 1, 2, 2, 1, 0, 1, 3, 2]  # leading prompt tokens (masked out)
n_tok = sum(l + p for l, p in zip(lens, prompt))
offsets = [0]
mask = []
for l, p in zip(lens, prompt):
    offsets.append(offsets[-1] + l + p)
    mask += [0] * p + [1] * l
mask_t = torch.tensor(mask, dtype=torch.float64)
logp = (-torch.rand(n_tok, dtype=torch.float64) * 3).float().double()
old = (logp + torch.randn(n_tok, dtype=torch.float64) * 0.3).float().double()  # ratios in and out of the clip range
ref = (logp + torch.randn(n_tok, dtype=torch.float64) * 0.2).float().double()
ent = (torch.rand(n_tok, dtype=torch.float64) * 2).float().double()


def advantages(std_norm, sample, eps):
    r = rewards.view(n_groups, G)
    mean = r.mean(1, keepdim=True)
    std = r.std(1, unbiased=sample, keepdim=True)
    a = r - mean
    if std_norm:
        a = a / (std + eps)
    return a.reshape(-1)


def loss(adv, o):
    lp = logp.clone().requires_grad_(True)
    en = ent.clone().requires_grad_(True)
    a_tok = torch.cat([adv[i].expand(offsets[i + 1] - offsets[i]) for i in range(len(lens))])
    ratio = torch.exp(lp - old)
    pg = -torch.min(ratio * a_tok, torch.clamp(ratio, 1 - o["clip_low"], 1 + o["clip_high"]) * a_tok)
    d = lp - ref
    kl = {"k1": d, "k2": 0.5 * d * d, "k3": torch.exp(-d) + d - 1}[o["kl"]]
    ell = (pg + o["kl_coef"] * kl - o["entropy_coef"] * en) * mask_t
    n_seqs = len(lens)
    if o["agg"] == "token-mean":
        L = ell.sum() / mask_t.sum()
    elif o["agg"] == "seq-mean-token-sum-norm":
        L = ell.sum() / (n_seqs * o["token_sum_norm"])
    else:
        per_seq = torch.stack([ell[offsets[i]:offsets[i + 1]].sum() / lens[i] for i in range(n_seqs)])
        L = per_seq.mean()
    L.backward()
    return L.item(), lp.grad.tolist(), en.grad.tolist()


cases = []
for agg in ["seq-mean-token-mean", "token-mean", "seq-mean-token-sum-norm"]:
    for kl in ["k1", "k2", "k3"]:
        for std_norm, sample in [(True, True), (True, False), (False, True)]:
            o = dict(agg=agg, kl=kl, std_norm=std_norm, sample=sample, eps=1e-4, clip_low=0.2,
                     clip_high=0.28 if kl == "k2" else 0.2, kl_coef=0.04 if kl != "k3" else 1e-3,
                     entropy_coef=0.01 if agg == "token-mean" else 0.0, token_sum_norm=10.0)
            adv = advantages(std_norm, sample, o["eps"])
            L, g, ge = loss(adv, o)
            cases.append(dict(opts=o, adv=adv.tolist(), loss=L, dlogp=g, dentropy=ge))

out = dict(G=G, n_groups=n_groups, rewards=rewards.tolist(), offsets=offsets, mask=mask,
           logp=logp.tolist(), logp_old=old.tolist(), logp_ref=ref.tolist(), entropy=ent.tolist(),
           torch_version=torch.__version__, cases=cases)
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "grpo_loss_golden.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", path, len(cases), "cases")
