"""What MANN's memory adds: MANN, the same MANN with its memory reads zeroed, and an LSTM, over seeds.

Chapter 3.2 compares MANN's second-sight gain with an LSTM's. An LSTM differs from MANN in more than
the memory (its width, its parameters, no read vector in its recurrence), so this script adds the
ablation that isolates the memory: ``MANN(memory_reads=False)``, the same network with the same
parameters and training, whose read vectors are zeroed, so that nothing written to the memory can
reach the controller or the output. All three train on the chapter's episodes (5 classes x 10
instances, labels shuffled per episode, the previous label as input, a random quarter of the
characters held out with seed 0, rotations as extra training classes), for the chapter's budget by
default, with seeds 0, 1 and 2 (the seed sets the initial weights and the order of the training
episodes; the split and the test episodes are the same for every seed). Each is tested on 1,000
episodes of the held-out characters. The table goes to ``benchmarks/results/mann_ablation.json``,
which chapter 3.2 renders.

    METALEARN_DATA=/work/shared/data python benchmarks/mann_ablation.py --save --train-eval    # about 11 CPU-minutes

``--save`` ships the first seed's models as checkpoints (kind ``"memory"``, with manifests and training
curves): ``mann_omniglot`` (MANN), ``mann_reads_off`` (the ablation) and ``lstm_omniglot`` (the LSTM), which
chapter 3.2 evaluates live and ``tests/test_pretrained.py`` reproduces.

``--models`` picks other rows of ``MODELS`` (variants of MANN that probe what blocks one-shot binding:
more read heads, the paper's sizes, writing the key as the paper does, a smaller step) and ``--name``
the results file, e.g. ``--models "MANN, 4 read heads" --seeds 0 --name mann_variants``.

Two probes separate the memory's mechanism from the images. ``--data patterns`` replaces the drawings
with random binary patterns (400 pixels, like a 20 x 20 drawing; each "character" a fixed pattern, each
"drawing" of it that pattern with 10 % of its pixels flipped), so the classes are easy to tell apart and
nothing about them is learned from pixels: a model that binds labels in one sight does so here.
``--train-eval`` also tests every model on episodes of its own training characters (seen in training,
labels still shuffled), so a gap to the held-out characters shows how much is overfitting.

    METALEARN_DATA=/work/shared/data python benchmarks/mann_ablation.py --models MANN "MANN, memory reads zeroed" \
        LSTM --seeds 0 --data patterns --name mann_probes
    METALEARN_DATA=/work/shared/data python benchmarks/mann_ablation.py --models MANN --seeds 0 --data patterns \
        --steps 2700 --name mann_probes_long
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import time

import torch

import metalearn_lite as mll
from metalearn_lite import pretrained
from metalearn_lite.data import omniglot, sequences

PRESENTATIONS = (1, 2, 5, 10)


def patterns(n_classes: int, per_class: int, flip: float, generator: torch.Generator) -> tuple[torch.Tensor, ...]:
    """``n_classes`` random +-1 patterns of 400 pixels, ``per_class`` noisy copies each (``flip`` of pixels flipped).

    Shapes: ``(n_classes * per_class, 1, 20, 20)`` images, ``(n_classes * per_class,)`` labels.
    """
    prototypes = torch.randint(0, 2, (n_classes, 1, 20, 20), generator=generator).float() * 2 - 1
    labels = torch.arange(n_classes).repeat_interleave(per_class)
    flips = torch.rand(len(labels), 1, 20, 20, generator=generator) < flip
    return torch.where(flips, -prototypes[labels], prototypes[labels]), labels


def samplers(seed: int, data: str = "omniglot"):
    """The chapter's split (seed 0) and test episodes; training episodes drawn with ``seed``.

    Returns ``(train, test, seen)``: ``seen`` draws test episodes from the training characters.
    ``data="patterns"``: random patterns instead of drawings (as many training and test classes, 20
    copies each), see the module docstring.
    """
    characters = omniglot.load_background(size=20)
    meta_train, meta_test = characters.split_characters(0.25, generator=torch.Generator().manual_seed(0))
    if data == "patterns":
        g = torch.Generator().manual_seed(0)
        train_x, train_y = patterns(4 * len(meta_train.characters), 20, 0.1, g)
        test_x, test_y = patterns(len(meta_test.characters), 20, 0.1, g)
        seen_x, seen_y = train_x, train_y
    else:
        rotated = meta_train.with_rotations()
        mean, std = rotated.images.mean(0, keepdim=True), rotated.images.std()
        train_x, train_y = (rotated.images - mean) / std, rotated.labels
        test_x, test_y = (meta_test.images - mean) / std, meta_test.labels
        seen_x, seen_y = (meta_train.images - mean) / std, meta_train.labels  # unrotated training characters
    train = sequences.SequenceEpisodeSampler(train_x, train_y, 5, 10, generator=torch.Generator().manual_seed(seed))
    test = sequences.SequenceEpisodeSampler(test_x, test_y, 5, 10, generator=torch.Generator().manual_seed(4))
    seen = sequences.SequenceEpisodeSampler(seen_x, seen_y, 5, 10, generator=torch.Generator().manual_seed(5))
    return train, test, seen


CHAPTER = {"hidden_size": 128, "memory_slots": 32, "memory_width": 20, "num_reads": 1, "key_strength": True,
           "write_key": False}
# name -> (MANN keyword arguments, or None for the LSTM; Adam's step)
MODELS = {
    "MANN": (CHAPTER, 3e-3),
    "MANN, memory reads zeroed": ({**CHAPTER, "memory_reads": False}, 3e-3),
    "LSTM": (None, 3e-3),
    "MANN, 4 read heads": ({**CHAPTER, "num_reads": 4}, 3e-3),
    "MANN, paper sizes": ({**CHAPTER, "hidden_size": 200, "memory_slots": 128, "memory_width": 40,
                           "num_reads": 4}, 3e-3),
    "MANN, writes its key (paper)": ({**CHAPTER, "key_strength": False, "write_key": True}, 3e-3),
    "MANN, Adam 1e-3": (CHAPTER, 1e-3),
}


CHECKPOINT_NAMES = {"MANN": "mann_omniglot", "MANN, memory reads zeroed": "mann_reads_off", "LSTM": "lstm_omniglot"}
CHECK_EPISODES = 200  # what tests/test_pretrained.py reproduces: the first episodes of the test sampler


def build_spec(name: str, input_size: int) -> dict:
    """What ``pretrained.build`` needs to rebuild model ``name``."""
    kwargs = MODELS[name][0]
    if kwargs is None:
        return {"learner": "SequenceLSTM", "kwargs": {"input_size": input_size, "output_size": 5, "hidden_size": 128}}
    return {"learner": "MANN", "kwargs": {"input_size": input_size, "output_size": 5, **kwargs}}


def build(name: str, input_size: int) -> torch.nn.Module:
    return pretrained.build(build_spec(name, input_size))


def check_accuracy(model: torch.nn.Module, seed: int = 0) -> list[float]:
    """Accuracy by presentation on the first CHECK_EPISODES test episodes (the split of ``samplers``)."""
    _, test, _ = samplers(seed)
    with torch.no_grad():
        return mll.memory.evaluate_per_instance(model, test, CHECK_EPISODES).tolist()


def save(name: str, model: torch.nn.Module, args, run, seed: int, input_size: int, history: dict, cpu: float,
         wall: float, accuracy: list[float]) -> None:
    """Write checkpoint CHECKPOINT_NAMES[name] and its manifest into the package."""
    checkpoint = CHECKPOINT_NAMES[name]
    path = pretrained.CHECKPOINTS / f"{checkpoint}.pt"
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, path)
    every = 50
    curve = [{"step": i + every, "loss": statistics.mean(history["loss"][i: i + every]),
              "first": statistics.mean(history["first"][i: i + every]),
              "second": statistics.mean(history["second"][i: i + every])} for i in range(0, args.steps, every)]
    provenance = run.provenance()
    record = {
        "name": checkpoint, "kind": "memory", "command": provenance["command"], "commit": provenance["commit"],
        "dirty": provenance["dirty"], "torch": provenance["torch"], "device": "cpu", "seed": seed,
        "split": {"train": "a random three quarters of the 242 background characters (split seed 0) with rotations, "
                           f"episodes drawn with seed {seed}",
                  "test": f"the other quarter, {args.eval_episodes} episodes drawn with seed 4"},
        "recipe": {"steps": args.steps, "batch_size": args.batch_size, "lr": MODELS[name][1],
                   "episode": "5 classes x 10 drawings, 20 x 20 pixels, labels shuffled, previous label as input"},
        "build": build_spec(name, input_size), "steps": args.steps, "cpu_seconds": round(cpu, 1),
        "wall_seconds": round(wall, 1), "curve": curve,
        "metrics": {"accuracy_by_presentation": accuracy, "episodes": args.eval_episodes},
        "check_episodes": {"task": "omniglot_sequences", "n": CHECK_EPISODES, "seed": 4,
                           "accuracy_by_presentation": check_accuracy(model)},
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }
    (pretrained.CHECKPOINTS / f"{checkpoint}.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=900, help="training steps per model (the chapter's 900)")
    parser.add_argument("--batch-size", type=int, default=32, help="episodes per step")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--eval-episodes", type=int, default=1000)
    parser.add_argument("--models", nargs="+", default=["MANN", "MANN, memory reads zeroed", "LSTM"],
                        choices=list(MODELS))
    parser.add_argument("--name", default="mann_ablation", help="results file name")
    parser.add_argument("--data", default="omniglot", choices=["omniglot", "patterns"],
                        help="Omniglot drawings (the chapter) or random binary patterns (a probe, see above)")
    parser.add_argument("--save", action="store_true",
                        help="ship the first seed's MANN, reads-zeroed MANN and LSTM as checkpoints (Omniglot only)")
    parser.add_argument("--train-eval", action="store_true",
                        help="also test on episodes of the training characters (columns 'seen')")
    args = parser.parse_args()
    if args.save and args.data != "omniglot":
        parser.error("--save ships Omniglot models only")
    torch.set_num_threads(1)
    run = mll.results.Run(seeds=args.seeds)
    names = tuple(args.models)
    rows, values = [], {name: [] for name in names}
    for seed in args.seeds:
        for name in names:
            mll.seed_everything(seed)
            train, test, seen = samplers(seed, args.data)
            model = build(name, train.input_size)
            start, wall = time.process_time(), time.perf_counter()
            history = mll.memory.train_sequence_model(model, train, args.steps, batch_size=args.batch_size,
                                                      lr=MODELS[name][1], progress=False)
            cpu, wall = time.process_time() - start, time.perf_counter() - wall
            accuracy = mll.memory.evaluate_per_instance(model, test, args.eval_episodes)
            at = [accuracy[k - 1].item() for k in PRESENTATIONS]
            gain = at[1] - at[0]
            values[name].append({"seed": seed, "accuracy": accuracy.tolist(), "second_gain": gain, "cpu_s": cpu,
                                 "parameters": sum(p.numel() for p in model.parameters())})
            rows.append([name, seed, *(100 * a for a in at), 100 * gain, round(cpu)])
            if args.save and seed == args.seeds[0] and name in CHECKPOINT_NAMES:
                save(name, model, args, run, seed, train.input_size, history, cpu, wall, accuracy.tolist())
            if args.train_eval:
                on_seen = mll.memory.evaluate_per_instance(model, seen, args.eval_episodes)
                values[name][-1]["seen_accuracy"] = on_seen.tolist()
                rows[-1][-1:-1] = [100 * on_seen[k - 1].item() for k in (2, 10)]
            print(f"{name}, seed {seed}: " + ", ".join(f"{k}: {100 * a:.1f}" for k, a in zip(PRESENTATIONS, at,
                                                                                               strict=True))
                  + f"; 2nd - 1st {100 * gain:.1f} points; {cpu:.0f} CPU-s", flush=True)
    summary = {name: {"second_gain_mean": statistics.mean(v["second_gain"] for v in values[name]),
                      "second_gain_std": statistics.stdev(v["second_gain"] for v in values[name])
                      if len(values[name]) > 1 else 0.0} for name in names}
    off = "MANN, memory reads zeroed"
    memory_gain = ([m["second_gain"] - o["second_gain"] for m, o in zip(values["MANN"], values[off], strict=True)]
                   if "MANN" in values and off in values else None)
    seen_columns = ["seen 2nd (%)", "seen 10th (%)"] if args.train_eval else []
    caption = (f"Test accuracy on the 1st, 2nd, 5th and 10th presentation of a held-out character, "
               f"{args.eval_episodes} episodes, after {args.steps} steps of {args.batch_size} episodes "
               f"(chapter 3.2's {'budget and sizes' if args.steps == 900 else 'sizes'}: one read head, a 32 x 20 "
               "memory, 128 units). "
               "'Memory reads zeroed': the same MANN whose read vectors are set to zero.")
    if args.data == "patterns":
        caption += (" Here the 'characters' are random binary patterns of 400 pixels (each drawing flips 10 % of "
                    "its pattern's pixels), as many classes as the Omniglot split has.")
    if args.train_eval:
        caption += (" 'Seen': the same test on episodes of the training classes (unrotated characters for "
                    "Omniglot), labels shuffled as always.")
    table = {"columns": ["model", "seed", *(f"{k}{'st' if k == 1 else 'nd' if k == 2 else 'th'} (%)"
                                            for k in PRESENTATIONS), "2nd - 1st (points)", *seen_columns,
                         "train CPU s"],
             "rows": rows, "caption": caption}
    path = run.write(args.name, {"table": table},
                     values={"models": values, "summary": summary, "memory_second_gain": memory_gain,
                             "steps": args.steps, "batch_size": args.batch_size, "data": args.data})
    if memory_gain is not None:
        print(f"MANN's 2nd-sight gain minus the memory-off gain, per seed (points): "
              f"{', '.join(f'{100 * g:.1f}' for g in memory_gain)}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
