"""How much chapter 4.3's MAML-vs-pretrained result depends on the seed.

For each seed: meta-train MAML-RL and train the jointly pretrained policy exactly as the chapter
does (100 iterations, 20 goals per iteration, Adam 1e-2, one CPU thread), then adapt both to the
same held-out goals with 40 episodes per policy-gradient step, and print the mean return after
0, 1, 2 steps and the per-goal difference MAML − pretrained with its standard error. The seeds
start their own random streams, so the numbers differ from the chapter's (whose generator also
drew the chapter's earlier examples); about 70 CPU-seconds per seed.

    PYTHONPATH=. python benchmarks/meta_rl_seeds.py --seeds 0 1 2 --goals 300
"""

from __future__ import annotations

import argparse
import math
import time

import torch

import metalearn_lite as mll
from metalearn_lite import rl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--goals", type=int, default=300)
    parser.add_argument("--first-order", action="store_true")
    parser.add_argument("--estimator", choices=rl.ESTIMATORS, default="reinforce")
    args = parser.parse_args()
    torch.set_num_threads(1)
    env = rl.Navigation2D()
    for seed in args.seeds:
        generator = mll.seed_everything(seed)
        start = time.process_time()
        maml_policy = rl.GaussianMLPPolicy()
        maml = rl.policy_maml(maml_policy, 0.5, first_order=args.first_order, estimator=args.estimator)
        rl.train_maml_rl(maml, env, args.iterations, generator, outer_lr=1e-2, progress=False)
        pretrained = rl.GaussianMLPPolicy()
        rl.train_pretrained(pretrained, env, args.iterations, generator, outer_lr=1e-2, progress=False)
        goals = env.sample_goals(args.goals, generator)
        returns = {name: rl.evaluate_adaptation(policy, env, goals, generator).returns
                   for name, policy in (("MAML", maml_policy), ("pretrained", pretrained))}
        diff = returns["MAML"] - returns["pretrained"]
        sem = diff.std(0) / math.sqrt(args.goals)
        cells = [f"{name} " + " / ".join(f"{v:.1f}" for v in r.mean(0)) for name, r in returns.items()]
        gaps = " / ".join(f"{d:+.2f}±{s:.2f}" for d, s in zip(diff.mean(0), sem, strict=True))
        print(f"seed {seed}: {' | '.join(cells)} | MAML − pretrained {gaps} "
              f"| {time.process_time() - start:.0f} CPU-s", flush=True)


if __name__ == "__main__":
    main()
