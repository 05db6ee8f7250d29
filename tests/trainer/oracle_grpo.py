#!/usr/bin/env python3
"""One GRPO update through a tiny model against PyTorch autograd (float64), live.

A random tiny Qwen2 policy (tied and untied head, GQA, biases) and a reference model near it
are written as Hugging Face directories; groups of G prompt + response sequences of different
lengths get rewards (one group with zero variance) and rollout log-probabilities chosen so
that the clip is active on both sides. grpo_oracle runs the learner's update in C (packed
batch, advantages, reference log-probs, micro-batched forward, grpo_loss, backward); this
script writes the same objective independently in PyTorch on ref_torch.py's model:
  A_i = (r_i - mean_G r) / (std_G r + eps)        (sample std; or without the division)
  rho = exp(logp - logp_old);  pg = -min(rho A, clip(rho, 1 - eps_low, 1 + eps_high) A)
  k1 = logp - logp_ref, k2 = (logp - logp_ref)^2 / 2, k3 = exp(logp_ref - logp) - (logp_ref - logp) - 1
  l = pg + beta KL - c_H H, aggregated by seq-mean-token-mean, token-mean or
  seq-mean-token-sum-norm over the response tokens,
and checks, for every aggregation x KL estimator, the loss, every parameter gradient, the
advantages, the reference log-probs, the loss mask and the clip and KL statistics.
Exits 77 when torch is missing, 1 on the first mismatch.

usage: oracle_grpo.py GRPO_ORACLE_EXE
"""
import math
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "model"))
import ref_torch as R  # noqa: E402  (exits 77 without torch)
import torch  # noqa: E402

AGGS = ["seq-mean-token-mean", "token-mean", "seq-mean-token-sum-norm"]  # enum cfg_loss_agg
KLS = ["k1", "k2", "k3"]  # enum cfg_kl_estimator
G, N_GROUPS = 4, 3
# Sequences per micro-batch, by KL estimator: 5 and 3 cut through groups (the global counts
# matter), 12 is the whole batch at once.
MICRO = [5, 12, 3]
CLIP_LOW, CLIP_HIGH, BETA, ADV_EPS, T_NORM = 0.2, 0.28, 0.1, 1e-6, 16
ENTROPY_COEF = [0.0, 0.01, 0.003]  # by aggregation: with and without the entropy bonus
# No rollout ratio closer than this to a clip edge: the fp32 C log-probs (error ~1e-6) and the
# float64 ones then take the same branch of min and clip.
CLIP_MARGIN = 0.02
# fp32 model vs float64 reference (see tests/model/oracle_model.py); the loss sums O(1)
# terms, its error is relative to the sum of their magnitudes.
TOL_LOSS = 1e-4
TOL_LOGP = 1e-4
TOL_GRAD = 1e-3


def make_setup(tmp, name, tied, seed):
    gen = torch.Generator().manual_seed(seed)
    c = R.tiny_config(57, 32, 4, 2, 40, 2, tied)
    policy = R.random_params(c, gen)
    ref = {k: (v + 0.05 * torch.randn(v.shape, generator=gen, dtype=torch.float64)).float().double()
           for k, v in policy.items()}
    R.save_model(os.path.join(tmp, name, "policy"), c, policy)
    R.save_model(os.path.join(tmp, name, "ref"), c, ref)
    prompts, resps = [], []
    for g in range(N_GROUPS):
        prompt = torch.randint(0, 57, (2 + 2 * g,), generator=gen).tolist()
        for j in range(G):
            n = 1 if (g, j) == (0, 1) else int(torch.randint(2, 11, (1,), generator=gen))
            prompts.append(prompt)
            resps.append(torch.randint(0, 57, (n,), generator=gen).tolist())
    rewards = torch.tensor([1.0, 0.0, 1.0, 0.0,  # mixed
                            0.5, 0.5, 0.5, 0.5,  # zero variance: advantage 0
                            1.2, -0.3, 0.7, 0.1]).double()
    # Rollout log-probs: logp_old = logp - u, ratio e^u in about [0.55, 1.8], away from the edges.
    with torch.no_grad():
        lp_pol = [response_stats(policy, c, p, r)[0] for p, r in zip(prompts, resps)]
    old = []
    for lp in lp_pol:
        u = []
        while len(u) < len(lp):
            x = float(torch.rand(1, generator=gen)) * 1.2 - 0.6
            if min(abs(math.exp(x) - (1 - CLIP_LOW)), abs(math.exp(x) - (1 + CLIP_HIGH))) > CLIP_MARGIN:
                u.append(x)
        old.append((lp - torch.tensor(u, dtype=torch.float64)).float().double())
    d = os.path.join(tmp, name)
    R.save_safetensors(os.path.join(d, "in.safetensors"), {
        "prompt_ids": torch.tensor(sum(prompts, [])),
        "prompt_cu": torch.tensor([0] + [sum(map(len, prompts[:i + 1])) for i in range(len(prompts))]),
        "resp_ids": torch.tensor(sum(resps, [])),
        "resp_cu": torch.tensor([0] + [sum(map(len, resps[:i + 1])) for i in range(len(resps))]),
        "logp_old": torch.cat(old), "rewards": rewards})
    return dict(dir=d, c=c, policy=policy, ref=ref, prompts=prompts, resps=resps, old=old,
                rewards=rewards)


def response_stats(p, c, prompt, resp):
    """logp and entropy of the targets that are response tokens (k-th at position np - 1 + k)."""
    ids = prompt + resp
    lp, ent = R.token_stats(R.forward(p, c, ids), ids[1:] + [-1])
    np_ = len(prompt)
    return lp[np_ - 1:np_ - 1 + len(resp)], ent[np_ - 1:np_ - 1 + len(resp)]


def advantages(rewards, std_norm):
    r = rewards.view(N_GROUPS, G)
    a = r - r.mean(1, keepdim=True)
    if std_norm:
        a = a / (r.std(1, unbiased=True, keepdim=True) + ADV_EPS)
    return a.view(-1)


def reference_loss(s, agg, kl, c_h, std_norm):
    p, c = s["policy"], s["c"]
    for t in p.values():
        t.grad = None
        t.requires_grad_(True)
    adv = advantages(s["rewards"], std_norm)
    lo, hi = 1 - CLIP_LOW, 1 + CLIP_HIGH
    B = len(s["resps"])
    n_tok = sum(len(r) for r in s["resps"])
    per_seq, mags = [], []
    st = dict(kl=0.0, pg=0.0, clip_low=0, clip_high=0)
    lp_ref = []
    for i in range(B):
        lp, ent = response_stats(p, c, s["prompts"][i], s["resps"][i])
        with torch.no_grad():
            lr, _ = response_stats(s["ref"], c, s["prompts"][i], s["resps"][i])
        lp_ref.append(lr)
        A = adv[i]
        ratio = torch.exp(lp - s["old"][i])
        pg = -torch.min(ratio * A, torch.clamp(ratio, lo, hi) * A)
        dlt = lp - lr
        k = {"k1": dlt, "k2": 0.5 * dlt * dlt, "k3": torch.exp(-dlt) + dlt - 1}[kl]
        ell = pg + BETA * k - c_h * ent
        w = {"seq-mean-token-mean": 1.0 / (B * len(lp)), "token-mean": 1.0 / n_tok,
             "seq-mean-token-sum-norm": 1.0 / (B * T_NORM)}[agg]
        per_seq.append(ell.sum() * w)
        mags.append(ell.detach().abs().sum() * w)
        st["kl"] += k.sum().item()
        st["pg"] += pg.sum().item()
        st["clip_low"] += int(((A < 0) & (ratio < lo)).sum())
        st["clip_high"] += int(((A > 0) & (ratio > hi)).sum())
    loss = torch.stack(per_seq).sum()
    loss.backward()
    return loss.item(), sum(mags).item(), adv, lp_ref, st


def run_case(exe, s, name, agg, kl, std_norm=True):
    c_h = ENTROPY_COEF[agg]
    out = os.path.join(s["dir"], "out.safetensors")
    opts = [f"G={G}", f"micro={MICRO[kl]}", f"agg={agg}", f"kl={kl}", f"beta={BETA}",
            f"clip_low={CLIP_LOW}", f"clip_high={CLIP_HIGH}", f"entropy_coef={c_h}",
            f"token_sum_norm={T_NORM}", f"std_norm={int(std_norm)}", f"adv_eps={ADV_EPS}"]
    subprocess.run([exe, os.path.join(s["dir"], "policy"), os.path.join(s["dir"], "ref"),
                    os.path.join(s["dir"], "in.safetensors"), out] + opts, check=True)
    got = R.load_safetensors(out)
    case = f"{name} {AGGS[agg]} {KLS[kl]}" + ("" if std_norm else " (no std normalisation)")
    loss, scale, adv, lp_ref, st = reference_loss(s, AGGS[agg], KLS[kl], c_h, std_norm)
    if st["clip_low"] == 0 or st["clip_high"] == 0:
        R.fail(f"{case}: the clip is not active on both sides ({st})")

    # Layout of the packed batch: response targets at np - 1 .. np + nr - 2 of each sequence.
    mask, rows = [], []
    for pr, rs in zip(s["prompts"], s["resps"]):
        n0 = len(mask)
        mask += [0] * (len(pr) - 1) + [1] * len(rs) + [0]
        rows += range(n0 + len(pr) - 1, n0 + len(pr) - 1 + len(rs))
    if got["mask"].tolist() != mask:
        R.fail(f"{case}: loss mask differs")
    errs = {}
    errs["loss"] = abs(got["loss"].item() - loss) / scale
    if not errs["loss"] < TOL_LOSS:
        R.fail(f"{case}: loss {got['loss'].item():.9g}, PyTorch {loss:.9g}")
    errs["adv"] = R.rel_err(got["adv"], adv, 1.0)
    errs["logp_ref"] = R.rel_err(got["logp_ref"][rows], torch.cat(lp_ref), 1.0)
    for k in ("adv", "logp_ref"):
        if not errs[k] < TOL_LOGP:
            R.fail(f"{case}: {k} relative error {errs[k]:.3e}")
    pg, kl_sum, _, n_low, n_high, n_tok = got["stats"].tolist()
    if (n_low, n_high, n_tok) != (st["clip_low"], st["clip_high"], len(rows)):
        R.fail(f"{case}: clip counts / tokens {n_low, n_high, n_tok}, PyTorch "
             f"{st['clip_low'], st['clip_high'], len(rows)}")
    for k, v in (("kl", kl_sum), ("pg", pg)):
        if not abs(v - st[k]) <= TOL_LOSS * max(1.0, abs(st[k])):
            R.fail(f"{case}: {k} sum {v:.9g}, PyTorch {st[k]:.9g}")
    errs["grad"] = R.check_grads(case, got, s["policy"], TOL_GRAD)
    print(f"{case}: loss {loss:+.6f} clip {st['clip_low']}/{st['clip_high']} of {len(rows)} "
          "tokens; relative error " + ", ".join(f"{k} {v:.1e}" for k, v in errs.items()))


def main():
    exe = R.oracle_exe(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, tied) in enumerate((("untied", False), ("tied", True))):
            s = make_setup(tmp, name, tied, 200 + i)
            for agg in range(len(AGGS)):
                for kl in range(len(KLS)):
                    run_case(exe, s, name, agg, kl)
            run_case(exe, s, name, 2, 2, std_norm=False)  # Dr. GRPO
    print("GRPO loss and gradients vs PyTorch: all cases agree")


if __name__ == "__main__":
    main()
