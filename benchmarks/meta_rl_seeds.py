"""How much chapter 4.3's MAML-vs-pretrained result depends on the seed, and what ProMP's LVC changes.

For each seed: train the jointly pretrained policy and meta-train MAML-RL once per inner-surrogate
estimator (``--estimators``: REINFORCE, the chapter's, and ProMP's low-variance curvature ``lvc``),
exactly as the chapter does (100 iterations, 20 goals per iteration, 20 episodes per goal and step,
inner step 0.5, Adam 1e-2, one CPU thread); every MAML policy of a seed starts from the same
initial weights. Then adapt every policy to the same held-out goals with 40 episodes per
policy-gradient step and record the mean return after 0, 1, 2 steps and the per-goal difference
to the pretrained policy, with its standard error. The seeds start their own random streams, so
the numbers differ from the chapter's (whose generator also drew the chapter's earlier examples).
About one CPU-minute per seed and estimator.

    PYTHONPATH=. python benchmarks/meta_rl_seeds.py --seeds 0 1 2 --goals 300

The run writes ``benchmarks/results/meta_rl_seeds.json`` (``--name``): a table per seed and
learner, and in ``values`` the gaps per seed with their mean and standard deviation over seeds,
which chapter 4.3 and ``benchmarks/README.md`` render.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import torch

import metalearn_lite as mll
from metalearn_lite import rl


def spread(values: list[float]) -> dict[str, object]:
    """The values, their mean, standard deviation (unbiased; 0 for one value), minimum and maximum."""
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"values": values, "mean": statistics.fmean(values), "std": std, "min": min(values), "max": max(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--goals", type=int, default=300)
    parser.add_argument("--first-order", action="store_true")
    parser.add_argument("--estimators", nargs="+", choices=rl.ESTIMATORS, default=["reinforce", "lvc"])
    parser.add_argument("--name", default="meta_rl_seeds", help="results file name")
    args = parser.parse_args()
    torch.set_num_threads(1)
    run = mll.results.Run(seeds=args.seeds)
    env = rl.Navigation2D()
    rows, gaps = [], {}  # gaps[learner][step] = per-seed mean gap to the pretrained policy
    for seed in args.seeds:
        policies, cpu = {}, {}
        for estimator in args.estimators:
            mll.seed_everything(seed)  # the same initial weights for every estimator of this seed
            start = time.process_time()
            policies[f"MAML ({estimator})"] = policy = rl.GaussianMLPPolicy()
            maml = rl.policy_maml(policy, 0.5, first_order=args.first_order, estimator=estimator)
            rl.train_maml_rl(maml, env, args.iterations, torch.Generator().manual_seed(seed), outer_lr=1e-2,
                             progress=False)
            cpu[f"MAML ({estimator})"] = time.process_time() - start
        mll.seed_everything(seed)
        start = time.process_time()
        policies["pretrained"] = rl.GaussianMLPPolicy()
        rl.train_pretrained(policies["pretrained"], env, args.iterations, torch.Generator().manual_seed(seed),
                            outer_lr=1e-2, progress=False)
        cpu["pretrained"] = time.process_time() - start
        goals = env.sample_goals(args.goals, torch.Generator().manual_seed(10_000 + seed))
        returns = {name: rl.evaluate_adaptation(policy, env, goals, torch.Generator().manual_seed(20_000 + seed))
                   .returns for name, policy in policies.items()}
        for name, r in returns.items():
            diff = r - returns["pretrained"]  # (goals, steps): per goal, this learner minus the pretrained policy
            sem = diff.std(0) / math.sqrt(args.goals)
            means = r.mean(0).tolist()
            if name != "pretrained":
                for step, d in enumerate(diff.mean(0).tolist()):
                    gaps.setdefault(name, {}).setdefault(str(step), []).append(d)
            gap_cells = ["", "", ""] if name == "pretrained" else [
                f"{d:+.1f} ± {1.96 * s:.1f}" for d, s in zip(diff.mean(0).tolist(), sem.tolist(), strict=True)]
            rows.append([seed, name, *means, *gap_cells, round(cpu[name])])
            print(f"seed {seed} {name:18s} returns " + " / ".join(f"{m:.1f}" for m in means)
                  + f" | minus pretrained {' / '.join(gap_cells)} | {cpu[name]:.0f} CPU-s", flush=True)
    values = {name: {step: spread(v) for step, v in by_step.items()} for name, by_step in gaps.items()}
    if "MAML (reinforce)" in gaps and "MAML (lvc)" in gaps:  # LVC minus REINFORCE, per seed and step
        values["lvc_minus_reinforce"] = {
            step: spread([a - b for a, b in zip(gaps["MAML (lvc)"][step], gaps["MAML (reinforce)"][step], strict=True)])
            for step in gaps["MAML (lvc)"]}
    columns = ["seed", "learner", "return, 0 steps", "1 step", "2 steps", "minus pretrained, 0 steps", "1 step",
               "2 steps", "train CPU s"]
    caption = (f"Average return per episode on {args.goals} held-out goals after 0, 1 and 2 policy-gradient steps "
               f"(40 episodes each), and the per-goal difference to the pretrained policy of the same seed "
               f"± its 95 % interval over goals; {args.iterations} training iterations.")
    print(f"wrote {run.write(args.name, {'table': {'columns': columns, 'rows': rows, 'caption': caption}}, values)}")


if __name__ == "__main__":
    main()
