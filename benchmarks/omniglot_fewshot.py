"""Omniglot few-shot benchmark: chapter 4.2's comparison at a larger budget, and an ablation.

Everything is trained only on the two small background splits of Omniglot (8 alphabets, 242
characters; Lake et al., 2015) and judged on characters never seen in training.

``table``    Pixel nearest neighbour, Siamese, Matching and Prototypical networks, MAML,
             first-order MAML and Reptile, trained on 6 of the 8 alphabets; accuracy (95 %
             interval) on 5-way 1-shot, 5-way 5-shot and 20-way 1-shot episodes of the 2 held-out
             alphabets (the same episodes for every learner), and the error on the 20 official
             within-alphabet 20-way one-shot runs. The gradient-based learners are trained twice,
             for 5 and for 20 outputs (5-way and 20-way 1-shot tasks), and judged two ways: with
             batch normalisation over the queries of an episode (transductive, as in MAML's code)
             and with every query normalised by the support set's statistics alone, the way the
             metric learners' running statistics judge each query on its own.
``ablation`` A prototypical network trained on all 8 alphabets, one ingredient added per row
             (more ways per episode, affine augmentation, longer training, larger input), scored
             on the 20 official runs (humans 4.5 %, BPL 3.3 %, Lake et al. 2015).

Each row prints its training CPU time (``time.process_time``) and wall time, and the run writes
its table with provenance to ``benchmarks/results/<name>.json`` (``--name``; default
``omniglot_table`` or ``omniglot_ablation``), which chapter 4.2 and ``benchmarks/README.md`` render.

    python benchmarks/omniglot_fewshot.py table
    python benchmarks/omniglot_fewshot.py ablation --rows 1 2 3
    python benchmarks/omniglot_fewshot.py ablation --device cuda --scale 4 --name omniglot_ablation_long

``--threads 1`` (the default on CPU) makes CPU times comparable on a shared machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

import metalearn_lite as mll
from metalearn_lite.data import EpisodeSampler, omniglot
from metalearn_lite.data.augment import augment_task, random_affine
from metalearn_lite.metric import (
    MatchingNetwork,
    NearestNeighbour,
    PrototypicalNetwork,
    SiameseNetwork,
    evaluate_embedded,
    train_metric_learner,
)
from metalearn_lite.nets import ConvEncoder, ConvNet4
from metalearn_lite.training import meta_loss_step, meta_train

HELD_OUT = ("Japanese_(katakana)", "Sanskrit")  # the split of chapters 1, 3.1 and 4.2
SETTINGS = ((5, 1), (5, 5), (20, 1))  # (n_way, k_shot) of the held-out columns


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How one learner is trained. ``steps`` is multiplied by ``--scale``."""

    hidden: int = 64
    size: int = 28
    n_way: int = 20
    k_shot: int = 1
    n_query: int = 5
    steps: int = 1000
    lr: float = 1e-3
    augment: str = ""  # "koch": Koch et al.'s affine ranges; "mild": chapter 4.2's smaller ones
    decay: bool = False  # cosine learning-rate decay to 0 over the run
    alphabet_blocks: int = 0  # > 0: episodes of this many within-alphabet blocks (like the official runs)
    ceil_mode: bool = False  # ConvEncoder pooling that keeps the whole last feature map


class AlphabetEpisodes:
    """Episodes made of ``blocks`` groups of ``n_way // blocks`` characters, each from one alphabet.

    The official runs ask for 20-way discrimination *inside* one alphabet, where the characters
    look alike; random episodes mostly mix alphabets. This sampler matches training to that test
    condition. With rotations as classes, an (alphabet, rotation) pair counts as an alphabet.
    """

    def __init__(self, data: omniglot.CharacterImages, n_way: int, k_shot: int, n_query: int, blocks: int,
                 generator: torch.Generator) -> None:
        if n_way % blocks:
            raise ValueError(f"n_way={n_way} must be a multiple of blocks={blocks}")
        self.per_block, self.k_shot, self.n_query, self.generator = n_way // blocks, k_shot, n_query, generator
        self.images, self.blocks = data.images, blocks
        groups: dict[tuple[str, str], list[int]] = {}
        for c, (alphabet, character) in enumerate(data.characters):
            rotation = character.rsplit("_rot", 1)[1] if "_rot" in character else "0"
            groups.setdefault((alphabet, rotation), []).append(c)
        self.groups = [torch.tensor(v) for v in groups.values() if len(v) >= self.per_block]
        order = torch.argsort(data.labels, stable=True)
        self.by_class = list(torch.split(order, torch.bincount(data.labels).tolist()))

    def __iter__(self):
        return self

    def __next__(self) -> mll.Task:
        g, need = self.generator, self.k_shot + self.n_query
        chosen = []
        for group in torch.randperm(len(self.groups), generator=g)[: self.blocks].tolist():
            members = self.groups[group]
            chosen += members[torch.randperm(len(members), generator=g)[: self.per_block]].tolist()
        chosen = [chosen[i] for i in torch.randperm(len(chosen), generator=g).tolist()]  # random labels
        idx = torch.stack([self.by_class[c][torch.randperm(len(self.by_class[c]), generator=g)[:need]] for c in chosen])
        labels = torch.arange(len(chosen))
        return mll.Task(self.images[idx[:, : self.k_shot].reshape(-1)], labels.repeat_interleave(self.k_shot),
                        self.images[idx[:, self.k_shot :].reshape(-1)], labels.repeat_interleave(self.n_query))


class Bfloat16(nn.Module):
    """Runs ``module`` under bfloat16 autocast and returns float32 (distances stay in float32).

    About 2x faster convolutions on CPUs with AMX or AVX512-BF16 (and on recent GPUs); much slower
    on CPUs without them. Off unless ``--bf16``.
    """

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(x.device.type, dtype=torch.bfloat16):
            return self.module(x).float()


def build(kind: str, recipe: Recipe, bf16: bool = False) -> nn.Module:
    conv = ConvEncoder(hidden_channels=recipe.hidden, ceil_mode=recipe.ceil_mode)
    dim = conv.output_dim(recipe.size)
    encoder = Bfloat16(conv) if bf16 else conv
    if kind == "siamese":
        return SiameseNetwork(encoder, embedding_dim=dim)
    if kind == "matching":
        return MatchingNetwork(encoder)
    if kind == "matching, learned scale":  # the cosines times a learned factor, starting at 10 (see §3.1)
        return MatchingNetwork(encoder, scale=10.0, learn_scale=True)
    if kind == "prototypical":
        return PrototypicalNetwork(encoder)
    raise ValueError(f"unknown learner {kind!r}")


AUGMENT = {
    "koch": {},  # random_affine's defaults: rotation 10 degrees, shear 0.3, scale 0.8-1.2, shift 0.04
    "mild": dict(max_rotation=10.0, max_shear=0.2, scale=(0.9, 1.1), max_shift=0.05),
}


def train(model: nn.Module, data: omniglot.CharacterImages, recipe: Recipe, scale: float, device: torch.device,
          seed: int) -> tuple[float, float]:
    """Train ``model`` on episodes of ``data``; returns (CPU seconds, wall seconds)."""
    generator = torch.Generator().manual_seed(seed)
    steps = max(1, round(recipe.steps * scale))
    if recipe.alphabet_blocks:
        episodes = AlphabetEpisodes(data, recipe.n_way, recipe.k_shot, recipe.n_query, recipe.alphabet_blocks,
                                    generator)
    else:
        episodes = EpisodeSampler(data.images, data.labels, recipe.n_way, recipe.k_shot, recipe.n_query,
                                  generator=generator)
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps) if recipe.decay else None
    transform: Callable | None = None
    if recipe.augment:
        ranges = AUGMENT[recipe.augment]

        def transform(task: mll.Task) -> mll.Task:
            return augment_task(task, generator, **ranges)

    cpu, wall = time.process_time(), time.perf_counter()
    train_metric_learner(model.to(device), episodes, steps, optimizer=optimizer, scheduler=scheduler,
                   transform=transform, device=device, progress=False)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.process_time() - cpu, time.perf_counter() - wall


@dataclasses.dataclass(frozen=True)
class GradientRecipe:
    """A gradient-based learner: ``algorithm`` in {"maml", "fomaml", "reptile"}; steps scale with --scale."""

    algorithm: str
    hidden: int = 32  # the paper (5-way): 64 channels, 32 tasks per meta-batch, 60,000 meta-steps
    meta_batch_size: int = 4
    steps: int = 300
    inner_lr: float = 0.4
    inner_steps: int = 1
    test_inner_steps: int = 3
    outer_lr: float = 1e-3  # Adam's for MAML; Reptile's interpolation step starts at 1 and decays to 0


GRADIENT = {
    "MAML": GradientRecipe("maml"),
    "first-order MAML": GradientRecipe("fomaml"),
    "Reptile": GradientRecipe("reptile", inner_lr=0.1, inner_steps=5, test_inner_steps=5),
}


def train_gradient(recipe: GradientRecipe, n_way: int, data: omniglot.CharacterImages, scale: float,
                   device: torch.device, seed: int) -> tuple[nn.Module, float, float]:
    """Meta-train a 4-block ConvNet with ``n_way`` outputs; returns (learner, CPU s, wall s)."""
    net = ConvNet4(n_way=n_way, hidden_channels=recipe.hidden)
    steps = max(1, round(recipe.steps * scale))
    if recipe.algorithm == "reptile":
        learner = mll.Reptile(net, F.cross_entropy, recipe.inner_lr, recipe.inner_steps, outer_lr=1.0)
        counter = iter(range(steps))

        def step(tasks):
            learner.outer_lr = 1.0 - next(counter) / steps
            return learner.meta_step(tasks)
    else:
        learner = mll.MAML(net, F.cross_entropy, recipe.inner_lr, recipe.inner_steps,
                           first_order=recipe.algorithm == "fomaml")
        step = meta_loss_step(learner, torch.optim.Adam(learner.parameters(), lr=recipe.outer_lr))
    learner.to(device)
    sampler = EpisodeSampler(data.images, data.labels, n_way, 1, 5, generator=torch.Generator().manual_seed(seed))
    cpu, wall = time.process_time(), time.perf_counter()
    meta_train(step, lambda: [sampler.sample().to(device) for _ in range(recipe.meta_batch_size)], steps,
               progress=False)
    return learner, time.process_time() - cpu, time.perf_counter() - wall


def support_stat_logits(params: dict[str, torch.Tensor], x_support: torch.Tensor, x_query: torch.Tensor,
                        num_blocks: int = 4, eps: float = 1e-5) -> torch.Tensor:
    """ConvNet4's logits for ``x_query`` with every normalisation using the support set's statistics.

    Each query is then judged on its own (no query changes another's prediction), as with the
    metric learners' running statistics; Bronskill et al. (2020) call this choice MetaBN.
    ``support_stat_logits(p, x, x)`` equals ``ConvNet4`` with ``p`` applied to ``x``.
    """
    s, q = x_support, x_query
    for i in range(num_blocks):
        p = f"features.blocks.{i}."
        s, q = (F.conv2d(x, params[p + "conv.weight"], params[p + "conv.bias"], padding=1) for x in (s, q))
        mean, var = s.mean(dim=(0, 2, 3)), s.var(dim=(0, 2, 3), unbiased=False)
        s, q = (F.relu(F.max_pool2d(F.batch_norm(x, mean, var, params[p + "norm.weight"], params[p + "norm.bias"],
                                                 eps=eps), 2)) for x in (s, q))
    return F.linear(q.flatten(1), params["head.weight"], params["head.bias"])


NORMALISATIONS = ("query batch", "support statistics")


def adapted_predictions(learner: nn.Module, inner_steps: int, task: mll.Task,
                        device: torch.device) -> dict[str, torch.Tensor]:
    """Adapt once to ``task``'s support set; the query predictions under both normalisations."""
    task = task.to(device)
    with torch.enable_grad():
        fast = learner.adapt(task.x_support, task.y_support, inner_steps=inner_steps)
    with torch.no_grad():
        return {"query batch": learner(task.x_query, fast).argmax(dim=1).cpu(),
                "support statistics": support_stat_logits(fast, task.x_support, task.x_query).argmax(dim=1).cpu()}


def evaluate_gradient(learner: nn.Module, inner_steps: int, episodes, num_episodes: int,
                      device: torch.device) -> dict[str, mll.Accuracy]:
    """Accuracy over ``num_episodes`` episodes under both normalisations (one adaptation each)."""
    correct: dict[str, list[float]] = {k: [] for k in NORMALISATIONS}
    for _, task in zip(range(num_episodes), episodes, strict=False):
        for key, predicted in adapted_predictions(learner, inner_steps, task, device).items():
            correct[key].append((predicted == task.y_query).float().mean().item())
    return {k: mll.evaluation.accuracy_ci(v) for k, v in correct.items()}


def gradient_official_error(learner: nn.Module, inner_steps: int, device: torch.device) -> dict[str, float]:
    """Error on the 20 official runs under both normalisations."""
    runs = omniglot.load_runs(size=28)
    return {k: mll.evaluation.score_runs(lambda task, k=k: adapted_predictions(learner, inner_steps, task, device)[k],
                                         runs) for k in NORMALISATIONS}


def official_error(model: nn.Module, size: int, device: torch.device, tta: int = 0, seed: int = 0) -> float:
    """Error on the 20 official runs; ``tta > 0`` averages each embedding over the image and ``tta``
    mildly distorted copies of it (test-time augmentation; metric learners only)."""
    runs = omniglot.load_runs(size=size)
    model.eval()
    generator = torch.Generator().manual_seed(seed)

    def embed(x: torch.Tensor) -> torch.Tensor:
        views = [x] + [random_affine(x, generator, **AUGMENT["mild"]) for _ in range(tta)]
        return torch.stack([model.embed(v.to(device)) for v in views]).mean(dim=0)

    @torch.no_grad()
    def predict(task: mll.Task) -> torch.Tensor:
        if tta == 0:
            return model.predict(task.to(device)).cpu()
        logits = model.logits_from_embeddings(embed(task.x_support), task.y_support.to(device), embed(task.x_query))
        return logits.argmax(dim=1).cpu()

    return mll.evaluation.score_runs(predict, runs)


# Chapter 4.2's recipes, all trained equally long (the chapter gives the prototypical network 2,000
# episodes and the two others 400): each learner on episodes shaped as in its paper, mild affine augmentation,
# ceil-mode pooling, Adam 3e-3 with cosine decay.
_CHAPTER = dict(ceil_mode=True, augment="mild", decay=True, lr=3e-3, steps=2000)
TABLE = {
    "pixel nearest neighbour": None,
    "siamese": Recipe(n_way=20, n_query=5, **_CHAPTER),
    "matching": Recipe(n_way=20, n_query=5, **_CHAPTER),
    "matching, learned scale": Recipe(n_way=20, n_query=5, **_CHAPTER),  # only when named in --learners
    "prototypical": Recipe(n_way=60, n_query=1, **_CHAPTER),
}


def with_hidden(recipe: Recipe, hidden: int | None) -> Recipe:
    """``recipe`` with the encoder's channel count replaced by ``--hidden`` when given."""
    return recipe if hidden is None else dataclasses.replace(recipe, hidden=hidden)


def _cell(accuracy: mll.Accuracy) -> str:
    return f"{100 * accuracy.mean:.1f} ± {100 * accuracy.ci95:.1f}"


def _values(accuracies: list[mll.Accuracy], error: float, cpu: float) -> dict[str, float]:
    names = [f"{w}w{k}s" for w, k in SETTINGS]
    out = {name: a.mean for name, a in zip(names, accuracies, strict=True)}
    out |= {f"{name}_ci95": a.ci95 for name, a in zip(names, accuracies, strict=True)}
    return out | {"official_error": error, "train_cpu_s": cpu}


def run_table(args: argparse.Namespace, device: torch.device, run: mll.results.Run) -> None:
    base, recipes = Recipe(), TABLE
    rows, values = [], {}
    meta_train, meta_test = omniglot.load_background(size=base.size).split(HELD_OUT)
    meta_train = meta_train.with_rotations()
    header = "".join(f"{f'{w}-way {k}-shot':>16s}" for w, k in SETTINGS)
    print(f"{'learner':26s}{header}{'official runs':>15s}{'train CPU s':>13s}{'wall s':>9s}")
    for name, recipe in recipes.items():
        if name not in args.learners:
            continue
        mll.seed_everything(args.seed)
        if recipe is None:
            model, cpu, wall = NearestNeighbour(), 0.0, 0.0
        else:
            recipe = with_hidden(recipe, args.hidden)
            model = build(name, recipe, args.bf16)
            cpu, wall = train(model, meta_train, recipe, args.scale, device, args.seed)
        accuracies = [evaluate_embedded(model, meta_test.images, meta_test.labels, w, k, n_query=5,
                                        num_episodes=args.episodes, seed=1000 + i)
                      for i, (w, k) in enumerate(SETTINGS)]
        error = official_error(model, base.size, device)
        cells = "".join(f"{100 * a.mean:9.1f} ± {100 * a.ci95:3.1f}" for a in accuracies)
        print(f"{name:26s}{cells}{100 * error:13.1f} %{cpu:13.0f}{wall:9.0f}", flush=True)
        label = name if recipe is None else name[0].upper() + name[1:]
        rows.append([label, *(_cell(a) for a in accuracies), 100 * error, round(cpu), round(wall)])
        values[label] = _values(accuracies, error, cpu)
    for name, recipe in GRADIENT.items():
        if name not in args.learners:
            continue
        accuracies: dict[str, dict[int, mll.Accuracy]] = {k: {} for k in NORMALISATIONS}
        cpu, wall = 0.0, 0.0
        for n_way in (5, 20):  # one model per number of outputs
            mll.seed_everything(args.seed)
            learner, c, w = train_gradient(recipe, n_way, meta_train, args.scale, device, args.seed)
            cpu, wall = cpu + c, wall + w
            for i, (w_, k) in enumerate(SETTINGS):
                if w_ == n_way:
                    episodes = EpisodeSampler(meta_test.images, meta_test.labels, w_, k, 5,
                                              generator=torch.Generator().manual_seed(1000 + i))
                    both = evaluate_gradient(learner, recipe.test_inner_steps, episodes, args.gradient_episodes,
                                             device)
                    for key in NORMALISATIONS:
                        accuracies[key][i] = both[key]
            if n_way == 20:
                errors = gradient_official_error(learner, recipe.test_inner_steps, device)
        for key in NORMALISATIONS:
            ordered = [accuracies[key][i] for i in range(len(SETTINGS))]
            cells = "".join(f"{100 * a.mean:9.1f} ± {100 * a.ci95:3.1f}" for a in ordered)
            label = f"{name}, {key}"
            print(f"{label:26s}{cells}{100 * errors[key]:13.1f} %{cpu:13.0f}{wall:9.0f}", flush=True)
            first = key == NORMALISATIONS[0]  # one model, judged twice: its training time once
            rows.append([label, *(_cell(a) for a in ordered), 100 * errors[key], round(cpu) if first else None,
                         round(wall) if first else None])
            values[label] = _values(ordered, errors[key], cpu)
    columns = ["learner", *(f"{w}-way {k}-shot" for w, k in SETTINGS), "official runs (error %)", "train CPU s",
               "wall s"]
    caption = (f"Accuracy (%) ± 95 % interval on {args.episodes} held-out episodes per column "
               f"({args.gradient_episodes} for the gradient-based learners, which adapt to each), and the error "
               f"on the 20 official runs. Gradient-based rows: 5- and 20-output models trained separately (their "
               f"CPU time adds both), judged with the queries' batch statistics and with the support set's.")
    path = run.write(args.name or "omniglot_table", {"table": {"columns": columns, "rows": rows, "caption": caption}},
                     values=values)
    print(f"wrote {path}")


_BEST = dict(n_way=60, n_query=1, augment="koch", alphabet_blocks=3)
ABLATION = {
    1: ("baseline: 20-way 1-shot, 5 queries, 28 px", Recipe()),
    2: ("+ 60-way episodes (1 query, same images/step)", Recipe(n_way=60, n_query=1)),
    3: ("+ affine augmentation", Recipe(n_way=60, n_query=1, augment="koch")),
    4: ("+ within-alphabet episodes (3 x 20-way)", Recipe(**_BEST)),
    5: ("+ 3x longer, cosine decay", Recipe(**_BEST, steps=3000, decay=True)),
    6: ("+ 42 px input", Recipe(**_BEST, steps=3000, decay=True, size=42)),
    7: ("row 4 at 42 px (same short budget)", Recipe(**_BEST, size=42)),
}


def run_ablation(args: argparse.Namespace, device: torch.device, run: mll.results.Run) -> None:
    rows, values = [], {}
    print(f"{'row':4s}{'recipe':50s}{'steps':>7s}{'official error':>16s}{f'with TTA x{args.tta}':>16s}"
          f"{'train CPU s':>13s}{'wall s':>9s}")
    for row in args.rows:
        label, recipe = ABLATION[row]
        recipe = with_hidden(recipe, args.hidden)
        data = omniglot.load_background(size=recipe.size).with_rotations()  # all 8 alphabets
        mll.seed_everything(args.seed)
        model = build("prototypical", recipe, args.bf16)
        cpu, wall = train(model, data, recipe, args.scale, device, args.seed)
        error = official_error(model, recipe.size, device)
        tta_error = official_error(model, recipe.size, device, tta=args.tta, seed=args.seed) if args.tta else error
        steps = max(1, round(recipe.steps * args.scale))
        print(f"{row:<4d}{label:50s}{steps:7d}{100 * error:14.1f} %{100 * tta_error:14.1f} %{cpu:13.0f}{wall:9.0f}",
              flush=True)
        rows.append([row, label, steps, 100 * error, 100 * tta_error, round(cpu)])
        values[str(row)] = {"steps": steps, "official_error": error, "tta_error": tta_error, "train_cpu_s": cpu}
    columns = ["row", "recipe", "episodes", "official error (%)", f"with TTA x{args.tta} (%)", "train CPU s"]
    caption = (f"Prototypical network trained on all 8 background alphabets, one ingredient added per row, "
               f"--scale {args.scale:g}, {args.hidden or Recipe.hidden} channels; error on the 20 official runs "
               f"(400 answers), plain and with test-time augmentation.")
    path = run.write(args.name or "omniglot_ablation",
                     {"table": {"columns": columns, "rows": rows, "caption": caption}}, values=values)
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("part", choices=["table", "ablation"])
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every number of training steps")
    parser.add_argument("--episodes", type=int, default=1000, help="held-out episodes per column")
    parser.add_argument("--gradient-episodes", type=int, default=300,
                        help="held-out episodes per column for the gradient-based learners (each adapts)")
    parser.add_argument("--learners", nargs="+", default=["pixel nearest neighbour", "siamese", "matching",
                        "prototypical", *GRADIENT], help="table rows to run")
    parser.add_argument("--rows", type=int, nargs="+", default=sorted(ABLATION), help="ablation rows to run")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: 1 on CPU)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hidden", type=int, default=None,
                        help="channels of the metric learners' encoder (default: 64 as in the papers; chapter 4.2: 32)")
    parser.add_argument("--tta", type=int, default=8, help="distorted copies per image for test-time augmentation")
    parser.add_argument("--bf16", action="store_true", help="metric learners' encoders under bfloat16 autocast")
    parser.add_argument("--name", default=None,
                        help="results file name (default: omniglot_table or omniglot_ablation)")
    args = parser.parse_args()
    run = mll.results.Run(seeds=[args.seed], device=args.device)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda but no CUDA device is visible")
    torch.set_num_threads(args.threads or (1 if device.type == "cpu" else torch.get_num_threads()))
    print(f"device {device}, torch threads {torch.get_num_threads()}, scale {args.scale}, bf16 {args.bf16}, "
          f"hidden {args.hidden or Recipe.hidden}")
    if args.part == "table":
        run_table(args, device, run)
    else:
        run_ablation(args, device, run)


if __name__ == "__main__":
    main()
