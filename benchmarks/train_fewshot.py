"""Train the book's few-shot learners on Omniglot longer than a chapter can, and ship the checkpoints.

Every learner trains on the six training alphabets of chapters 1 and 4.2 (rotations as extra
classes) and is judged on characters of the two held-out alphabets (Japanese (katakana), Sanskrit).
The recipes come from an ablation of this package on that split (the chapter reports it): the
decisive change for MAML and first-order MAML is a smaller inner step (0.1 instead of the
paper's 0.4, whose inner step overshoots on this small network), and a zero-initialised head for
the learners that adapt it; Reptile keeps its head at zero throughout. Proto-MAML (Triantafillou
et al. 2020) builds its head from each task's prototypes instead; a relation network (Sung et al.
2018) learns its comparison; and two controls learn no
episodes at all: an encoder pretrained over every training class, then a new linear or cosine head
fitted on each task's support set (Chen et al. 2019's Baseline and Baseline++).

For each recipe the script logs a learning curve (held-out 5-way 1-shot accuracy on 200 fixed
episodes against training CPU seconds, evaluation excluded), evaluates the final learner on 1,000
episodes each of 5-way 1-shot and 5-way 5-shot (95 % intervals), and writes

* ``metalearn_lite/checkpoints/<name>.pt`` (the weights) and ``<name>.json`` (the manifest: command,
  commit, seed, split, steps, CPU and wall seconds, curve, metrics, SHA-256, how to rebuild it);
* ``benchmarks/results/fewshot_checkpoints.json``: the reproduction table and the time to 80 / 90 %.

    python benchmarks/train_fewshot.py                   # every recipe, about an hour of CPU
    python benchmarks/train_fewshot.py --learners maml protonet
    python benchmarks/train_fewshot.py --device cuda     # on a GPU (untested here)
    python benchmarks/train_fewshot.py --ablation        # inner step and head, 500 steps each, ~8 CPU-minutes
    python benchmarks/train_fewshot.py --diagnose        # shipped weights: seen characters, 20 ways, official runs
    python benchmarks/train_fewshot.py --data --learners protonet maml    # fewer characters; a character split
    python benchmarks/train_fewshot.py --official --learners protonet --seeds 0 1 2   # all eight alphabets
    python benchmarks/train_fewshot.py --wide --learners maml fomaml anil              # 20-way training
    python benchmarks/train_fewshot.py --replicate --learners protonet --widths 32 64 --seeds 0 1 2
    python benchmarks/train_fewshot.py --test-steps   # shipped weights after 1, 2, 3, 5 and 10 test-time inner steps

``--diagnose`` evaluates the shipped checkpoints without training (``fewshot_diagnosis.json``): on
characters of the training alphabets (the generalisation gap), with the head's rows tied to their
mean (``pretrained.load(name, n_way=...)``), at 20 ways with that tied head, and on Lake et al.'s
official runs. ``--data`` trains the recipes again on a quarter and a half of the training
characters and on a split like the papers' (held-out characters of every alphabet instead of
held-out alphabets), to measure what the split and its size cost (``fewshot_data.json``).
``--official`` trains the recipes on all eight alphabets and scores them on Lake et al.'s 20
official runs, the test the papers' Omniglot protocol started from (``fewshot_official.json``).
``--wide`` trains the gradient-based recipes on 20-way episodes for the 20-way column
(``fewshot_wide.json``). ``--replicate`` trains recipes again with other seeds and at other widths
(``fewshot_replicate.json``): the seed-to-seed spread, and what the papers' 64 channels add.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import metalearn_lite as mll  # noqa: E402
from metalearn_lite import pretrained, results  # noqa: E402
from metalearn_lite.data import EpisodeSampler, omniglot  # noqa: E402
from metalearn_lite.results import Run  # noqa: E402

HELD_OUT = ("Japanese_(katakana)", "Sanskrit")


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How one learner is trained; ``kwargs`` go to the learner's class."""

    learner: str  # MAML, ANIL, ProtoMAML, Reptile, PrototypicalNetwork, RelationNetwork, TransferBaseline
    steps: int
    kwargs: dict = dataclasses.field(default_factory=dict)
    zero_head: bool = False  # zero-initialised head
    keep_head_zero: bool = False  # Reptile: reset the head to zero after every meta-step
    meta_batch_size: int = 8
    train_way: int = 5
    train_shot: int = 1
    n_query: int = 5
    outer_lr: float = 1e-3
    test_inner_steps: int = 3
    batch_size: int = 0  # TransferBaseline: images per pretraining mini-batch (it trains on no episodes)


RECIPES = {
    "maml": Recipe("MAML", 2000, {"inner_lr": 0.1}, zero_head=True, test_inner_steps=3),
    "fomaml": Recipe("MAML", 2500, {"inner_lr": 0.1, "first_order": True}, test_inner_steps=10),
    "anil": Recipe("ANIL", 2500, {"inner_lr": 0.4, "inner_steps": 5}, zero_head=True, test_inner_steps=10),
    "metasgd": Recipe("MAML", 1500, {"inner_lr": 0.1, "learn_inner_lr": True}, zero_head=True, test_inner_steps=1),
    "reptile": Recipe("Reptile", 1500, {"inner_lr": 0.1, "inner_steps": 5, "outer_lr": 1.0}, keep_head_zero=True,
                      meta_batch_size=4, train_shot=5, test_inner_steps=10),
    "protonet": Recipe("PrototypicalNetwork", 1700, train_way=60, n_query=1, outer_lr=3e-3, meta_batch_size=1),
    "relation": Recipe("RelationNetwork", 3000, train_way=5, n_query=15, meta_batch_size=1),
    "protomaml": Recipe("ProtoMAML", 2000, {"inner_lr": 0.1}, test_inner_steps=3),
    "baseline": Recipe("TransferBaseline", 4000, {"head": "linear"}, batch_size=64, outer_lr=3e-3),
    "baseline_cosine": Recipe("TransferBaseline", 4000, {"head": "cosine"}, batch_size=64, outer_lr=3e-3),
}


def build_spec(recipe: Recipe, hidden: int, n_classes: int) -> dict:
    if recipe.learner in ("PrototypicalNetwork", "RelationNetwork", "TransferBaseline"):
        net = {"kind": "ConvEncoder", "hidden_channels": hidden, "ceil_mode": True}
    else:
        net = {"kind": "ConvNet4", "n_way": recipe.train_way, "hidden_channels": hidden}
    kwargs = dict(recipe.kwargs)
    if recipe.learner in ("MAML", "ANIL"):
        kwargs["path"] = "loop"
    dim = mll.nets.ConvEncoder(1, hidden, ceil_mode=True).output_dim(28)  # the encoder's output for 28 x 28 images
    if recipe.learner == "TransferBaseline":  # a classifier over every training class
        kwargs.update(n_classes=n_classes, feature_dim=dim)
    if recipe.learner == "RelationNetwork":
        kwargs.update(embedding_dim=dim)
    return {"learner": recipe.learner, "net": net, "kwargs": kwargs}


def episodes(data, n_way: int, k_shot: int, n: int, seed: int) -> list[mll.Task]:
    sampler = EpisodeSampler(data.images, data.labels, n_way, k_shot, 5, generator=torch.Generator().manual_seed(seed))
    return [sampler.sample() for _ in range(n)]


def held_out(recipe: Recipe, tasks: list[mll.Task], device: torch.device) -> Callable[[nn.Module], float]:
    """The learning curve's score: accuracy on ``tasks``."""
    return lambda learner: accuracy(learner, recipe, tasks, device).mean


def accuracy(learner: nn.Module, recipe: Recipe, tasks: list[mll.Task], device: torch.device) -> mll.Accuracy:
    was_training = learner.training
    learner.eval()
    result = mll.evaluate_episodes(pretrained.predictor(learner, {"test_inner_steps": recipe.test_inner_steps}), tasks)
    learner.train(was_training)
    return result


def train(name: str, recipe: Recipe, args, meta_train, score: Callable[[nn.Module], float], device,
          seed: int | None = None, measure: str = "accuracy") -> tuple[nn.Module, dict]:
    """Train one recipe; returns the learner and its log (curve, CPU and wall seconds).

    ``score(learner)`` is logged as ``measure`` every ``args.eval_every`` steps (evaluation time
    excluded from the CPU seconds); ``seed`` defaults to ``args.seed``.
    """
    seed = args.seed if seed is None else seed
    mll.seed_everything(seed)
    n_classes = int(meta_train.labels.max()) + 1
    learner = pretrained.build(build_spec(recipe, args.hidden, n_classes)).to(device)
    net = learner if recipe.learner in ("PrototypicalNetwork", "RelationNetwork", "TransferBaseline") else learner.model
    if recipe.zero_head or recipe.keep_head_zero:
        with torch.no_grad():
            net.head.weight.zero_(), net.head.bias.zero_()
    sampler = EpisodeSampler(meta_train.images, meta_train.labels, recipe.train_way, recipe.train_shot,
                             recipe.n_query, generator=torch.Generator().manual_seed(seed))
    batches = torch.Generator().manual_seed(seed)
    optimizer = None
    if recipe.learner != "Reptile":
        optimizer = torch.optim.Adam(learner.parameters(), lr=recipe.outer_lr)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, recipe.steps)
    curve, cpu, wall = [], 0.0, 0.0
    curve.append({"step": 0, "cpu_seconds": 0.0, measure: score(learner)})
    for step in range(1, recipe.steps + 1):
        c0, w0 = time.process_time(), time.perf_counter()
        if recipe.learner == "Reptile":
            learner.outer_lr = 1.0 - (step - 1) / recipe.steps
            learner.meta_step([sampler.sample().to(device) for _ in range(recipe.meta_batch_size)])
            if recipe.keep_head_zero:
                with torch.no_grad():
                    net.head.weight.zero_(), net.head.bias.zero_()
        else:
            if recipe.learner == "TransferBaseline":  # a mini-batch of images of every training class, no episodes
                idx = torch.randint(len(meta_train.labels), (recipe.batch_size,), generator=batches)
                loss = learner.loss(meta_train.images[idx].to(device), meta_train.labels[idx].to(device))
            elif recipe.learner in ("PrototypicalNetwork", "RelationNetwork"):
                loss = learner.loss(sampler.sample().to(device))
            else:
                loss = learner.meta_loss([sampler.sample().to(device) for _ in range(recipe.meta_batch_size)])
            mll.training.optimizer_step(optimizer, loss, f"{name} at step {step}")
            schedule.step()
        cpu += time.process_time() - c0
        wall += time.perf_counter() - w0
        if step % args.eval_every == 0 or step == recipe.steps:
            value = score(learner)
            curve.append({"step": step, "cpu_seconds": round(cpu, 1), measure: value})
            print(f"{name:9s} step {step:5d}  {cpu:7.0f} CPU-s  {measure} {100 * value:.1f} %", flush=True)
    return learner, {"curve": curve, "cpu_seconds": round(cpu, 1), "wall_seconds": round(wall, 1)}


# What the recipes changed, one thing at a time, at a short budget (`--ablation`): the MAML paper's
# inner step 0.4 against 0.1, and a zero-initialised head, for second- and first-order MAML.
ABLATION = {
    "MAML, inner lr 0.4": Recipe("MAML", 500, {"inner_lr": 0.4}),
    "MAML, inner lr 0.4, zero head": Recipe("MAML", 500, {"inner_lr": 0.4}, zero_head=True),
    "MAML, inner lr 0.1, zero head": Recipe("MAML", 500, {"inner_lr": 0.1}, zero_head=True),
    "first-order MAML, inner lr 0.4": Recipe("MAML", 500, {"inner_lr": 0.4, "first_order": True}),
    "first-order MAML, inner lr 0.1": Recipe("MAML", 500, {"inner_lr": 0.1, "first_order": True}),
}


def run_ablation(run: Run, args, meta_train, meta_test, device) -> None:
    """Train every ABLATION variant (seed ``args.seed``) and write ``fewshot_ablation`` (see ABLATION)."""
    curve_tasks = episodes(meta_test, 5, 1, 200, seed=1000)
    rows = []
    for name, recipe in ABLATION.items():
        _, log = train(name, recipe, args, meta_train, held_out(recipe, curve_tasks, device), device)
        at = {p["step"]: p["accuracy"] for p in log["curve"]}
        rows.append([name, f"{100 * at[250]:.1f}", f"{100 * at[500]:.1f}", log["cpu_seconds"]])
    caption = ("Held-out 5-way 1-shot accuracy (%) on 200 fixed episodes after 250 and 500 meta-steps (meta-batch "
               "8, 5 queries per class, one inner step in training and three at test time, Adam 1e-3 with cosine "
               "decay over 500 steps, 32 channels), one seed per row; at 200 episodes the 95 % interval is about "
               "±2.5 points.")
    columns = ["variant", "250 steps", "500 steps", "train CPU s"]
    print(run.write("fewshot_ablation", {"ablation": {"columns": columns, "rows": rows, "caption": caption}}))


# What stands between the shipped learners and the papers (`--diagnose`), measured on the shipped weights.
WIDE_INNER_STEPS = 10  # inner steps at 20 ways: the trained 3 leave MAML's tied head far from fitted (see the caption)


def wide_predictor(learner: nn.Module, spec: dict, recipe: Recipe, device: torch.device, n_way: int = 20):
    """``task -> labels`` at ``n_way`` ways: a fixed 5-way head is tied and widened (``pretrained.tied_head``)
    and adapted with WIDE_INNER_STEPS; learners without one predict as they are tested at 5 ways."""
    has_head = spec["net"]["kind"] == "ConvNet4"
    wide = pretrained.tied_head(learner, spec, n_way).to(device).eval() if has_head else learner.eval()
    return pretrained.predictor(wide, {"test_inner_steps": WIDE_INNER_STEPS if has_head else recipe.test_inner_steps})


def run_diagnosis(run: Run, args, meta_train_plain, meta_test, device) -> None:
    """Evaluate every shipped few-shot checkpoint (``args.learners``) and write ``fewshot_diagnosis``.

    Columns: held-out 5-way 1-shot from the manifest; the same on characters of the training
    alphabets (every one seen in training); 5-way 1-shot with the head's rows tied to their mean
    (``pretrained.load(n_way=...)``, the way a 5-way model is widened); 20-way 1-shot on the held-out
    alphabets with that tied head; error on Lake et al.'s 20 official runs.
    """
    n = args.diagnose_episodes
    seen = episodes(meta_train_plain, 5, 1, n, seed=2001)
    tied5 = episodes(meta_test, 5, 1, n, seed=1001)
    wide = episodes(meta_test, 20, 1, args.final_episodes, seed=1003)
    runs = omniglot.load_runs(size=28)
    rows, values = [], {}
    for name in args.learners:
        learner, record = pretrained.load(name, device)
        recipe = Recipe(**record["recipe"])
        c0 = time.process_time()
        held = record["metrics"]["5w1s"]
        train_acc = accuracy(learner, recipe, seen, device)
        has_head = record["build"]["net"]["kind"] == "ConvNet4"
        wide_steps = WIDE_INNER_STEPS if has_head else recipe.test_inner_steps
        tied_acc = accuracy(pretrained.load(name, device, n_way=5)[0], recipe, tied5, device) if has_head else None
        predict20 = wide_predictor(learner, record["build"], recipe, device)
        wide_acc = mll.evaluate_episodes(predict20, wide)
        official = mll.evaluation.score_runs(predict20, runs)
        values[name] = {"heldout_5w1s": held["mean"], "train_5w1s": train_acc.mean, "train_5w1s_ci95": train_acc.ci95,
                        "tied_5w1s": tied_acc.mean if tied_acc else None, "20w1s": wide_acc.mean,
                        "20w1s_ci95": wide_acc.ci95, "official_error": official, "20w_inner_steps": wide_steps}
        rows.append([name, table_row(record)[1], f"{100 * held['mean']:.1f}",
                     f"{100 * train_acc.mean:.1f} ± {100 * train_acc.ci95:.1f}",
                     f"{100 * (train_acc.mean - held['mean']):.1f}",
                     f"{100 * tied_acc.mean:.1f} ± {100 * tied_acc.ci95:.1f}" if tied_acc else "-",
                     f"{100 * wide_acc.mean:.1f} ± {100 * wide_acc.ci95:.1f}", f"{100 * official:.1f}"])
        print(*rows[-1], f"({time.process_time() - c0:.0f} CPU-s)", sep="  |  ", flush=True)
    columns = ["checkpoint", "learner", "held-out 5w1s (%)", "training characters 5w1s (%)", "gap (points)",
               "held-out 5w1s, tied head (%)", "held-out 20w1s (%)", "official runs (error %)"]
    caption = (f"The shipped 5-way learners (trained on the six training alphabets), evaluated as they are: held-out "
               f"5-way 1-shot from each manifest (1,000 episodes); 5-way 1-shot on {n} episodes of characters of "
               f"the training alphabets, all seen in training (the gap is training minus held-out); 5-way 1-shot "
               f"on {n} held-out episodes with the head's rows replaced by their mean (Ye & Chao 2022's tied head; "
               f"'-' for learners without a head); 20-way 1-shot on {args.final_episodes} held-out episodes with "
               f"that tied head widened to 20 rows and {WIDE_INNER_STEPS} inner steps for every learner that "
               f"adapts (on a 40-episode probe of other episodes, MAML's 3 trained steps reached about 51 %, 10 "
               f"about 69 %); error (%) on Lake et al.'s 20 official within-alphabet runs (400 answers), same "
               f"20-way setting. 95 % intervals. No learner here was trained on 20-way episodes except the "
               f"prototypical network's 60-way training episodes.")
    print(run.write("fewshot_diagnosis", {"diagnosis": {"columns": columns, "rows": rows, "caption": caption}},
                    values=values, directory=args.out))


# How much the data split holds the learners back (`--data`): the same recipe on fewer training
# characters, and on as many characters drawn from every alphabet (new characters, not new alphabets).
DATA_ROWS = (("alphabets", 0.25), ("alphabets", 0.5), ("alphabets", 1.0), ("characters", 1.0))


def run_data(run: Run, args, background, device) -> None:
    """Train ``args.learners`` on each of DATA_ROWS and write ``fewshot_data`` (no checkpoints)."""
    plain_train, plain_test = background.split(HELD_OUT)
    n_train = len(plain_train.characters)
    rows, values = [], {}
    for name in args.learners:
        for split, fraction in (DATA_ROWS[i] for i in args.rows):
            gen = torch.Generator().manual_seed(args.seed)
            if split == "alphabets":
                train_chars, test_chars = plain_train, plain_test
                if fraction < 1:
                    train_chars = plain_train.split_characters(1 - fraction, gen)[0]
            else:  # the same number of training characters, drawn from all eight alphabets
                train_chars, test_chars = background.split_characters(1 - n_train / len(background.characters), gen)
            recipe = dataclasses.replace(RECIPES[name], steps=max(1, round(RECIPES[name].steps * args.scale)))
            curve_tasks = episodes(test_chars, 5, 1, 200, seed=1000)
            learner, log = train(f"{name}/{split}/{fraction}", recipe, args, train_chars.with_rotations(),
                                 held_out(recipe, curve_tasks, device), device)
            result = accuracy(learner, recipe, episodes(test_chars, 5, 1, args.final_episodes, seed=1001), device)
            label = "two held-out alphabets" if split == "alphabets" else "held-out characters of all eight alphabets"
            rows.append([name, label, len(train_chars.characters), len(test_chars.characters),
                         f"{100 * result.mean:.1f} ± {100 * result.ci95:.1f}", log["cpu_seconds"]])
            values[f"{name}/{split}/{fraction}"] = {"accuracy": result.mean, "ci95": result.ci95,
                                                    "train_characters": len(train_chars.characters)}
            print(*rows[-1], sep="  |  ", flush=True)
    columns = ["learner", "tested on", "training characters", "test characters", "5-way 1-shot (%)", "train CPU s"]
    caption = (f"Each learner's shipped recipe, trained on the characters in the third column (each with its four "
               f"rotations) and tested on {args.final_episodes} 5-way 1-shot episodes of the test characters, 95 % "
               f"intervals, seed {args.seed}. Fewer characters are a random subset of the six training alphabets'; "
               f"the last row of each learner draws its training characters at random from all eight alphabets "
               f"and tests on the other characters of those alphabets, as the papers' split of Omniglot does "
               f"(1,200 training characters there).")
    print(run.write(args.name or "fewshot_data", {"data": {"columns": columns, "rows": rows, "caption": caption}},
                    values=values, directory=args.out))


# Item 1's last part and the stretch of issue #12 (`--official`): the recipes trained on all eight
# small-background alphabets, judged on Lake et al.'s 20 official within-alphabet runs.
OFFICIAL_REFERENCE = ("Lake et al. 2015: Bayesian program learning 3.3 % error, people 4.5 %. For scale only: Koch "
                      "et al. 2015 report 92 % accuracy for a Siamese network on 400 within-alphabet 20-way trials "
                      "of their own design, trained on 30 alphabets of a 40-alphabet background set.")


def run_official(run: Run, args, background, device) -> None:
    """Train ``args.learners`` for each of ``args.seeds`` on all eight alphabets; write ``fewshot_official``.

    The learning curve logs the official-runs error every ``args.eval_every`` steps (it is the only
    test set: the curve is for looking at, and the table reports the last point, not the best).
    """
    data = background.with_rotations()
    runs = omniglot.load_runs(size=28)
    n_classes = int(data.labels.max()) + 1
    shipped = results.load("fewshot_diagnosis")["values"]
    rows, values = [], {}
    for name in args.learners:
        recipe = dataclasses.replace(RECIPES[name], steps=max(1, round(RECIPES[name].steps * args.scale)))
        spec = build_spec(recipe, args.hidden, n_classes)

        def official(learner: nn.Module, recipe=recipe, spec=spec) -> float:
            was_training = learner.training
            error = mll.evaluation.score_runs(wide_predictor(learner, spec, recipe, device), runs)
            learner.train(was_training)
            return error

        for seed in args.seeds:
            _, log = train(f"{name}/seed {seed}", recipe, args, data, official, device, seed=seed,
                           measure="official error")
            error = log["curve"][-1]["official error"]
            six = shipped.get(name, {}).get("official_error") if seed == 0 else None
            rows.append([name, learner_label(dataclasses.asdict(recipe)), seed, recipe.steps, log["cpu_seconds"],
                         f"{100 * error:.1f}", "-" if six is None else f"{100 * six:.1f}"])
            values[f"{name}/{seed}"] = {"official_error": error, "six_alphabets_official_error": six,
                                        "cpu_seconds": log["cpu_seconds"], "curve": log["curve"]}
            print(*rows[-1], sep="  |  ", flush=True)
    columns = ["learner", "kind", "seed", "steps", "train CPU s", "official error, eight alphabets (%)",
               "official error, six alphabets (%)"]
    caption = (f"Each learner's shipped recipe (same steps, test-time inner steps and seed convention), trained on "
               f"all eight small-background alphabets ({n_classes} classes with rotations) instead of six, then "
               f"scored on Lake et al.'s 20 official within-alphabet 20-way 1-shot runs (400 answers; the binomial "
               f"standard error is about 2 points at 20 % error). 5-way heads are tied and widened to 20 rows and "
               f"adapted with {WIDE_INNER_STEPS} inner steps, as in fewshot_diagnosis. Last column: the shipped "
               f"seed-0 checkpoint trained on six alphabets, from fewshot_diagnosis. Published: " + OFFICIAL_REFERENCE)
    print(run.write(args.name or "fewshot_official", {"official": {"columns": columns, "rows": rows,
                                                                   "caption": caption}},
                    values=values, directory=args.out))


# The 20-way target of issue #12 (`--wide`): recipes trained on 20-way episodes, as the papers' 20-way
# models were. The meta-batch shrinks so that a meta-step sees as many images as the 5-way recipe's.
WIDE_RECIPES = {
    "maml": dataclasses.replace(RECIPES["maml"], train_way=20, meta_batch_size=2),
    "fomaml": dataclasses.replace(RECIPES["fomaml"], train_way=20, meta_batch_size=2),
    "anil": dataclasses.replace(RECIPES["anil"], train_way=20, meta_batch_size=2),
    # a head row's inner gradient shrinks with the number of classes (the loss averages over all the support
    # examples, one in 20 of them of its class): 0.4 at 20 ways gives a row about the step 0.1 gives at 5
    "maml_inner04": dataclasses.replace(RECIPES["maml"], kwargs={"inner_lr": 0.4}, train_way=20, meta_batch_size=2),
    # the MAML paper trains and tests its 20-way Omniglot model with five inner steps of 0.1 (Finn et al. 2017)
    "maml_steps5": dataclasses.replace(RECIPES["maml"], kwargs={"inner_lr": 0.1, "inner_steps": 5}, train_way=20,
                                       meta_batch_size=2, test_inner_steps=5),
}


def run_wide(run: Run, args, meta_train, meta_test, device) -> None:
    """Train ``args.learners`` (of WIDE_RECIPES) on 20-way episodes; write ``fewshot_wide`` (no checkpoints)."""
    curve_tasks = episodes(meta_test, 20, 1, 100, seed=1000)
    wide = episodes(meta_test, 20, 1, args.final_episodes, seed=1003)  # the episodes of fewshot_diagnosis
    runs = omniglot.load_runs(size=28)
    shipped = results.load("fewshot_diagnosis")["values"]
    rows, values = [], {}
    for name in args.learners:
        if name not in WIDE_RECIPES:
            raise ValueError(f"--wide trains {sorted(WIDE_RECIPES)}, not {name!r}")
        base = name.split("_")[0]  # the shipped 5-way checkpoint it is compared with
        recipe = dataclasses.replace(WIDE_RECIPES[name], steps=max(1, round(WIDE_RECIPES[name].steps * args.scale)))
        learner, log = train(f"{name}/20-way", recipe, args, meta_train, held_out(recipe, curve_tasks, device),
                             device, measure="held-out 20w1s")
        result = accuracy(learner, recipe, wide, device)
        learner.eval()
        error = mll.evaluation.score_runs(pretrained.predictor(learner, {"test_inner_steps": recipe.test_inner_steps}),
                                          runs)
        five = shipped[base]
        kind = (learner_label(dataclasses.asdict(recipe)) + f", inner lr {recipe.kwargs['inner_lr']:g} x "
                f"{recipe.kwargs.get('inner_steps', 1)} in training, {recipe.test_inner_steps} at test")
        rows.append([name, kind, recipe.meta_batch_size, recipe.steps,
                     log["cpu_seconds"], f"{100 * result.mean:.1f} ± {100 * result.ci95:.1f}", f"{100 * error:.1f}",
                     f"{100 * five['20w1s']:.1f} ± {100 * five['20w1s_ci95']:.1f}",
                     f"{100 * five['official_error']:.1f}"])
        values[name] = {"20w1s": result.mean, "20w1s_ci95": result.ci95, "official_error": error,
                        "cpu_seconds": log["cpu_seconds"], "curve": log["curve"],
                        "five_way_20w1s": five["20w1s"], "five_way_official_error": five["official_error"]}
        print(*rows[-1], sep="  |  ", flush=True)
    columns = ["learner", "kind", "meta-batch", "steps", "train CPU s", "held-out 20w1s (%)", "official runs (error %)",
               "5-way model, tied head: 20w1s (%)", "5-way model: official error (%)"]
    caption = (f"The shipped recipes trained on 20-way 1-shot episodes (20 outputs, meta-batch 2 so that a meta-step "
               f"sees as many images as the 5-way recipe's meta-batch of 8, as many meta-steps; the inner step "
               f"and the inner steps in training and at test in the kind column), seed {args.seed}, six training "
               f"alphabets. 20-way 1-shot on the {args.final_episodes} held-out episodes of fewshot_diagnosis "
               f"(95 % intervals) and error on Lake et al.'s 20 official runs (400 answers). Last two columns: "
               f"the shipped 5-way models widened with a tied head and {WIDE_INNER_STEPS} inner steps, from "
               f"fewshot_diagnosis. The MAML paper reports 95.8 % at 20-way 1-shot on its own split (Finn et "
               f"al. 2017, Table 1).")
    print(run.write(args.name or "fewshot_wide", {"wide": {"columns": columns, "rows": rows, "caption": caption}},
                    values=values, directory=args.out))


# Seed-to-seed spread and network width (`--replicate`): a shipped recipe trained again, unchanged but for
# the seed and the channels of its conv blocks (the papers' ConvNet has 64; the shipped checkpoints 32).
def run_replicate(run: Run, args, meta_train, meta_test, device) -> None:
    """Train ``args.learners`` at each of ``args.widths`` channels for each of ``args.seeds``; write
    ``fewshot_replicate`` (no checkpoints): held-out 5w1s, 5w5s and 20w1s and the times to 90 / 95 %."""
    curve_tasks = episodes(meta_test, 5, 1, 200, seed=1000)
    finals = {"5w1s": episodes(meta_test, 5, 1, args.final_episodes, seed=1001),
              "5w5s": episodes(meta_test, 5, 5, args.final_episodes, seed=1002),
              "20w1s": episodes(meta_test, 20, 1, args.final_episodes, seed=1003)}
    n_classes = int(meta_train.labels.max()) + 1
    rows, values = [], {}
    for name in args.learners:
        recipe = dataclasses.replace(RECIPES[name], steps=max(1, round(RECIPES[name].steps * args.scale)))
        for width in args.widths:
            spec = build_spec(recipe, width, n_classes)
            for seed in args.seeds:
                at_width = argparse.Namespace(**{**vars(args), "hidden": width})
                learner, log = train(f"{name}/{width}ch/seed {seed}", recipe, at_width, meta_train,
                                     held_out(recipe, curve_tasks, device), device, seed=seed)
                scores = {setting: accuracy(learner, recipe, tasks, device) for setting, tasks in finals.items()
                          if setting != "20w1s"}
                scores["20w1s"] = mll.evaluate_episodes(wide_predictor(learner, spec, recipe, device), finals["20w1s"])
                values[f"{name}/{width}/{seed}"] = {
                    "learner": name, "channels": width, "seed": seed, "cpu_seconds": log["cpu_seconds"],
                    "curve": log["curve"], **{k: r.mean for k, r in scores.items()},
                    **{f"{k}_ci95": r.ci95 for k, r in scores.items()},
                    "cpu_to_90": time_to(log["curve"], 0.9), "cpu_to_95": time_to(log["curve"], 0.95)}
                rows.append([name, width, seed, recipe.steps, log["cpu_seconds"],
                             *(f"{100 * r.mean:.1f} ± {100 * r.ci95:.1f}" for r in scores.values()),
                             time_to(log["curve"], 0.9), time_to(log["curve"], 0.95)])
                print(*rows[-1], sep="  |  ", flush=True)
    summary = []
    for name in args.learners:
        for width in args.widths:
            group = [v for v in values.values() if v["learner"] == name and v["channels"] == width]
            cells = []
            for setting in finals:
                scores = torch.tensor([v[setting] for v in group], dtype=torch.float64)
                spread = f" ± {100 * scores.std().item():.1f}" if len(group) > 1 else ""
                cells.append(f"{100 * scores.mean().item():.1f}{spread}")
            summary.append([name, width, len(group), *cells,
                            round(sum(v["cpu_seconds"] for v in group) / len(group), 1)])
    columns = ["learner", "channels", "seed", "steps", "train CPU s", "held-out 5w1s (%)", "held-out 5w5s (%)",
               "held-out 20w1s (%)", "CPU s to 90 %", "CPU s to 95 %"]
    caption = (f"Shipped recipes trained again on the six training alphabets, unchanged but for the seed and the "
               f"channels of the conv blocks (the papers' ConvNet has 64, the shipped checkpoints 32). Held-out "
               f"alphabets, {args.final_episodes} episodes per column (the episodes of fewshot_checkpoints and, at "
               f"20 ways, of fewshot_diagnosis), 95 % intervals; times to accuracy from 200-episode evaluations "
               f"every {args.eval_every} steps (upper bounds; '-' never). A learner with a 5-way head is scored "
               f"at 20 ways with it tied and widened ({WIDE_INNER_STEPS} inner steps), as in fewshot_diagnosis. "
               f"Targets of issue #12: 5w1s 95 %, 5w5s 98.5 %, 20w1s 85 %.")
    summary_columns = ["learner", "channels", "seeds", "5w1s (%)", "5w5s (%)", "20w1s (%)", "mean train CPU s"]
    summary_caption = ("Mean ± standard deviation over the seeds of the rows above (the spread between seeds, not "
                       "an interval for the mean).")
    print(run.write(args.name or "fewshot_replicate",
                    {"replicate": {"columns": columns, "rows": rows, "caption": caption},
                     "replicate_summary": {"columns": summary_columns, "rows": summary, "caption": summary_caption}},
                    values=values, directory=args.out))


# How many inner steps at test time (`--test-steps`): the shipped recipes fixed them at 32 channels from a few
# probes; this sweep scores the shipped weights at several, on the manifests' own episodes.
def run_test_steps(run: Run, args, meta_test, device) -> None:
    """Score every shipped checkpoint that adapts (of ``args.learners``) after each of ``args.inner_steps``
    test-time inner steps, at 5-way 1-shot and 5-way 5-shot; write ``fewshot_test_steps`` (no training).

    One inner step at a time from the learner's own start, so that a sweep costs the largest step count
    per episode, not their sum (SGD steps chain: ``adapt(params=fast)`` continues where ``fast`` stopped).
    """
    steps = sorted({mll.checks.positive_int("--inner-steps", s) for s in args.inner_steps})
    n = args.sweep_episodes
    settings = {"5w1s": episodes(meta_test, 5, 1, n, seed=1001), "5w5s": episodes(meta_test, 5, 5, n, seed=1002)}
    rows, values = [], {}
    for name in args.learners:
        learner, record = pretrained.load(name, device)
        if not hasattr(learner, "adapt"):
            continue
        learner.eval()
        c0 = time.process_time()
        scores = {}
        for setting, tasks in settings.items():
            right = {s: [] for s in steps}
            for task in tasks:
                task = task.to(device)
                fast, done = None, 0
                with torch.no_grad():
                    for s in steps:
                        fast = learner.adapt(task.x_support, task.y_support, params=fast, inner_steps=s - done)
                        done = s
                        predicted = learner(task.x_query, fast).argmax(dim=1)
                        right[s].append((predicted == task.y_query).float().mean().item())
            scores[setting] = {s: mll.evaluation.accuracy_ci(r) for s, r in right.items()}
        trained = record["test_inner_steps"]
        values[name] = {"test_inner_steps": trained, "episodes": n}
        for setting, by_step in scores.items():
            for s, result in by_step.items():
                values[name] |= {f"{setting}_{s}": result.mean, f"{setting}_{s}_ci95": result.ci95}
        rows.append([name, learner_label(record["recipe"]), trained,
                     *(f"{100 * scores[setting][s].mean:.1f}" + (" *" if s == trained else "")
                       for setting in settings for s in steps)])
        print(*rows[-1], f"({time.process_time() - c0:.0f} CPU-s)", sep="  |  ", flush=True)
    columns = ["checkpoint", "learner", "recipe's test steps",
               *(f"{setting} after {s}" for setting in settings for s in steps)]
    half = max(row[f"5w1s_{s}_ci95"] for row in values.values() for s in steps)
    caption = (f"Held-out accuracy (%) of the shipped 32-channel checkpoints after 1 to {steps[-1]} test-time inner "
               f"steps (each learner's own step size), on the first {n} episodes of each manifest's 1,000 (the "
               f"same episodes for every column; 95 % intervals up to ±{100 * half:.1f} points at 5-way 1-shot). "
               f"* marks the step count each recipe is tested with (its manifest's). Adjacent columns share "
               f"episodes, so a gap between them is measured with less noise than the intervals suggest.")
    print(run.write(args.name or "fewshot_test_steps", {"test_steps": {"columns": columns, "rows": rows,
                                                                       "caption": caption}},
                    values=values, directory=args.out))


# The papers' Omniglot 5-way accuracies, for side-by-side reading (different data split, see the caption).
PAPER = {"maml": "98.7 / 99.9", "fomaml": "98.3 / 99.2", "metasgd": "99.53 / 99.93", "reptile": "97.68 / 99.48",
         "protonet": "98.8 / 99.7", "relation": "99.6 / 99.8"}
PAPER_SOURCES = ("MAML and first-order MAML, Finn et al. 2017, Table 1; Meta-SGD, Li et al. 2017, Table 1; Reptile "
                 "(transductive), Nichol et al. 2018, Table 1; prototypical networks, Snell et al. 2017, Table 1. "
                 "Relation network, Sung et al. 2018, Table 1. No paper figure on Omniglot is quoted for ANIL, "
                 "Proto-MAML or the pretrain + fine-tune baselines (Chen et al. 2019).")

CHECK = {"n_way": 5, "k_shot": 1, "n": 50, "seed": 1000}  # what tests/test_pretrained.py reproduces


def record_check(name: str, meta_test, device: torch.device) -> float:
    """Load checkpoint ``name``, measure it on the check episodes and record that in its manifest."""
    learner, record = pretrained.load(name, device)
    recipe = Recipe(**record["recipe"])
    tasks = episodes(meta_test, CHECK["n_way"], CHECK["k_shot"], CHECK["n"], CHECK["seed"])
    record["check_episodes"] = {**CHECK, "accuracy": accuracy(learner, recipe, tasks, device).mean}
    (pretrained.CHECKPOINTS / f"{name}.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return record["check_episodes"]["accuracy"]


def time_to(curve: list[dict], level: float) -> float | None:
    """Training CPU seconds at the first evaluation with accuracy >= ``level`` (None if never)."""
    return next((p["cpu_seconds"] for p in curve if p["accuracy"] >= level), None)


def learner_label(recipe: dict) -> str:
    """What a recipe (``dataclasses.asdict(Recipe)``) trains, in the tables' words."""
    kwargs = recipe["kwargs"]
    return ("Meta-SGD" if kwargs.get("learn_inner_lr") else "first-order MAML" if kwargs.get("first_order")
            else f"pretrain + fine-tune ({kwargs['head']} head)" if recipe["learner"] == "TransferBaseline"
            else recipe["learner"])


def table_row(record: dict) -> list:
    """One row of the reproduction table, from a checkpoint's manifest (so a partial rerun keeps the others)."""
    metrics, curve = record["metrics"], record["curve"]
    return [record["name"], learner_label(record["recipe"]), record["steps"], record["cpu_seconds"],
            f"{100 * metrics['5w1s']['mean']:.1f} ± {100 * metrics['5w1s']['ci95']:.1f}",
            f"{100 * metrics['5w5s']['mean']:.1f} ± {100 * metrics['5w5s']['ci95']:.1f}",
            time_to(curve, 0.8), time_to(curve, 0.9), time_to(curve, 0.95)]


def write_table(run: Run, args) -> None:
    """The reproduction table, one row per manifest in the checkpoints folder."""
    folder = args.out or pretrained.CHECKPOINTS
    records = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.json"))]
    rows = [table_row(r) for r in records if r.get("kind", "fewshot") == "fewshot" and "metrics" in r]
    columns = ["checkpoint", "learner", "steps", "train CPU s", "5-way 1-shot (%)", "5-way 5-shot (%)",
               "CPU s to 80 %", "CPU s to 90 %", "CPU s to 95 %", "paper: 5w1s / 5w5s (%)"]
    for row in rows:
        row.append(PAPER.get(row[0], "-"))
    caption = ("Held-out alphabets, 1,000 episodes per column, 95 % intervals; times to accuracy from 200-episode "
               f"evaluations every {args.eval_every} steps (upper bounds). Each row comes from its checkpoint's "
               "manifest, which records its own command, commit and CPU time. The papers' numbers are on "
               "Omniglot's usual split (1,200 training characters with rotations, the other characters for "
               "testing), not on these six small-background alphabets: " + PAPER_SOURCES)
    path = run.write("fewshot_checkpoints", {"checkpoints": {"columns": columns, "rows": rows, "caption": caption}},
                     directory=args.out)
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--learners", nargs="+", default=list(RECIPES),
                        choices=sorted(set(RECIPES) | set(WIDE_RECIPES)), help="recipes (--wide: of WIDE_RECIPES)")
    parser.add_argument("--hidden", type=int, default=32, help="channels of the conv blocks")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--final-episodes", type=int, default=1000)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every recipe's steps (smoke tests)")
    parser.add_argument("--recheck", action="store_true",
                        help="only measure the shipped checkpoints on the check episodes and record it")
    parser.add_argument("--ablation", action="store_true",
                        help="train the ABLATION variants for 500 steps and write fewshot_ablation (no checkpoints)")
    parser.add_argument("--diagnose", action="store_true",
                        help="evaluate the shipped checkpoints on training characters, with a tied head, at 20 ways "
                             "and on the official runs; write fewshot_diagnosis (no training)")
    parser.add_argument("--data", action="store_true",
                        help="train --learners on fewer characters and on a character split; write fewshot_data")
    parser.add_argument("--official", action="store_true",
                        help="train --learners on all eight alphabets for each of --seeds and score them on the "
                             "official runs; write fewshot_official (no checkpoints)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds for --official and --replicate")
    parser.add_argument("--replicate", action="store_true",
                        help="train --learners again at each of --widths channels for each of --seeds; write "
                             "fewshot_replicate (no checkpoints)")
    parser.add_argument("--widths", type=int, nargs="+", default=None,
                        help="channels for --replicate (default: --hidden)")
    parser.add_argument("--wide", action="store_true",
                        help="train --learners (of WIDE_RECIPES) on 20-way episodes; write fewshot_wide")
    parser.add_argument("--name", default=None,
                        help="results file name for --data, --official and --wide (default fewshot_data, "
                             "fewshot_official, fewshot_wide)")
    parser.add_argument("--rows", type=int, nargs="+", default=list(range(len(DATA_ROWS))),
                        help="which of DATA_ROWS --data trains (indices)")
    parser.add_argument("--diagnose-episodes", type=int, default=500)
    parser.add_argument("--test-steps", action="store_true",
                        help="score the shipped checkpoints that adapt after each of --inner-steps test-time inner "
                             "steps; write fewshot_test_steps (no training)")
    parser.add_argument("--inner-steps", type=int, nargs="+", default=[1, 2, 3, 5, 10],
                        help="test-time inner step counts for --test-steps")
    parser.add_argument("--sweep-episodes", type=int, default=500, help="episodes per setting for --test-steps")
    parser.add_argument("--table", action="store_true",
                        help="only rewrite the results table from the shipped manifests")
    parser.add_argument("--out", type=Path, default=None,
                        help="write checkpoints and the results file here instead (smoke tests)")
    args = parser.parse_args()
    if not args.wide and set(args.learners) - set(RECIPES):
        parser.error(f"{sorted(set(args.learners) - set(RECIPES))} are --wide recipes only")
    device = torch.device(args.device)
    if device.type == "cpu":
        torch.set_num_threads(1)
    run = Run(seeds=[args.seed], device=str(device))
    background = omniglot.load_background(size=28)
    if args.data:
        run_data(run, args, background, device)
        return
    if args.official:
        run_official(Run(seeds=args.seeds, device=str(device)), args, background, device)
        return
    meta_train_plain, meta_test = background.split(HELD_OUT)
    meta_train = meta_train_plain.with_rotations()
    if args.diagnose:
        run_diagnosis(run, args, meta_train_plain, meta_test, device)
        return
    if args.test_steps:
        run_test_steps(run, args, meta_test, device)
        return
    if args.wide:
        run_wide(run, args, meta_train, meta_test, device)
        return
    if args.replicate:
        args.widths = args.widths or [args.hidden]
        run_replicate(Run(seeds=args.seeds, device=str(device)), args, meta_train, meta_test, device)
        return
    if args.table:
        write_table(run, args)
        return
    if args.ablation:
        run_ablation(run, args, meta_train, meta_test, device)
        return
    if args.recheck:
        for name in args.learners:
            print(f"{name}: check accuracy {record_check(name, meta_test, device):.4f}")
        return
    curve_tasks = episodes(meta_test, 5, 1, 200, seed=1000)
    finals = {"5w1s": episodes(meta_test, 5, 1, args.final_episodes, seed=1001),
              "5w5s": episodes(meta_test, 5, 5, args.final_episodes, seed=1002)}
    provenance = run.provenance()
    for name in args.learners:
        recipe = dataclasses.replace(RECIPES[name], steps=max(1, round(RECIPES[name].steps * args.scale)))
        learner, log = train(name, recipe, args, meta_train, held_out(recipe, curve_tasks, device), device)
        metrics = {}
        for setting, tasks in finals.items():
            result = accuracy(learner, recipe, tasks, device)
            metrics[setting] = {"mean": result.mean, "ci95": result.ci95, "episodes": result.n}
        folder = args.out or pretrained.CHECKPOINTS
        path = folder / f"{name}.pt"
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({k: v.detach().cpu() for k, v in learner.state_dict().items()}, path)
        record = {
            "name": name, "command": provenance["command"], "commit": provenance["commit"],
            "dirty": provenance["dirty"], "torch": provenance["torch"], "device": str(device),
            "seed": args.seed, "split": {"train": "six background alphabets with rotations", "test": list(HELD_OUT)},
            "recipe": dataclasses.asdict(recipe),
            "build": build_spec(recipe, args.hidden, int(meta_train.labels.max()) + 1),
            "test_inner_steps": recipe.test_inner_steps, "steps": recipe.steps,
            "cpu_seconds": log["cpu_seconds"], "wall_seconds": log["wall_seconds"], "curve": log["curve"],
            "metrics": metrics,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        }
        (folder / f"{name}.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        if args.out is None:
            record_check(name, meta_test, device)
        print(f"{name}: 5w1s {metrics['5w1s']}, 5w5s {metrics['5w5s']}; wrote {path}", flush=True)
    write_table(run, args)


if __name__ == "__main__":
    main()
