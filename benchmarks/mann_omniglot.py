"""MANN vs LSTM on Omniglot sequence episodes: a longer run than chapter 3.2, as a table.

Santoro et al. (2016, Table 1) report, for 5 classes x 10 instances per episode after 100,000
episodes, MANN accuracies of 36.4 / 82.8 / 94.9 / 98.1 % on the 1st / 2nd / 5th / 10th
presentation of a class. This script trains MANN and an LSTM of the same width on the same
episodes and evaluates both every ``--eval-every`` steps on held-out characters, then prints the
per-instance table next to the paper's. As in chapter 3.2, a random quarter of the 242 characters
of the two small Omniglot background splits is held out (the paper holds out 423 of 1,623
characters); the other characters, with rotations as extra classes, are for training.
``--split alphabets`` holds out two whole alphabets instead (Japanese katakana and Sanskrit), which
is harder.

    METALEARN_DATA=/work/shared/data .venv/bin/python benchmarks/mann_omniglot.py --steps 4000

Defaults are the chapter's CPU model (one read head, a 32 x 20 memory, 128 units, 32 episodes per
step); ``--paper-size`` uses four read heads, a 128 x 40 memory and 200 units. Timings are CPU time on one thread
(``time.process_time``), which is robust to other processes sharing the machine. The run writes
its table (every evaluation of both models, and the paper's row) with provenance to
``benchmarks/results/mann_omniglot.json`` (``--name``), which chapter 3.2 and
``benchmarks/README.md`` render.
"""

from __future__ import annotations

import argparse
import time

import torch

import metalearn_lite as mll
from metalearn_lite.data import omniglot, sequences

PAPER = {1: 36.4, 2: 82.8, 5: 94.9, 10: 98.1}
TEST_ALPHABETS = ["Japanese_(katakana)", "Sanskrit"]


def samplers(seed: int, n_way: int, n_instances: int, split: str):
    characters = omniglot.load_background(size=20)
    if split == "alphabets":
        meta_train, meta_test = characters.split(TEST_ALPHABETS)
    else:
        meta_train, meta_test = characters.split_characters(0.25, generator=torch.Generator().manual_seed(seed))
    meta_train = meta_train.with_rotations()
    mean, std = meta_train.images.mean(0, keepdim=True), meta_train.images.std()
    train = sequences.SequenceEpisodeSampler((meta_train.images - mean) / std, meta_train.labels, n_way, n_instances,
                                             generator=torch.Generator().manual_seed(seed))
    test = sequences.SequenceEpisodeSampler((meta_test.images - mean) / std, meta_test.labels, n_way, n_instances,
                                            generator=torch.Generator().manual_seed(seed + 1))
    return train, test


def row(name: str, accuracy: torch.Tensor) -> str:
    return f"| {name} | " + " | ".join(f"{100 * accuracy[k - 1]:.1f}" for k in PAPER) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3000, help="training steps per model")
    parser.add_argument("--batch-size", type=int, default=32, help="episodes per step")
    parser.add_argument("--split", choices=["characters", "alphabets"], default="characters",
                        help="hold out a random quarter of the characters, or two whole alphabets")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--eval-episodes", type=int, default=1000)
    parser.add_argument("--paper-size", action="store_true", help="4 read heads, 128 x 40 memory, 200 units")
    parser.add_argument("--paper-mann", action="store_true",
                        help="write the key and read without a key strength, as in the paper")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--name", default="mann_omniglot", help="results file name")
    args = parser.parse_args()
    run = mll.results.Run(seeds=[args.seed], device=str(mll.default_device()))

    torch.set_num_threads(args.threads)
    mll.seed_everything(args.seed)
    device = mll.default_device()
    train, test = samplers(args.seed, 5, 10, args.split)
    hidden = 200 if args.paper_size else 128
    models = {
        "MANN": mll.memory.MANN(
            train.input_size, 5, hidden_size=hidden,
            memory_slots=128 if args.paper_size else 32, memory_width=40 if args.paper_size else 20,
            num_reads=4 if args.paper_size else 1,
            key_strength=not args.paper_mann, write_key=args.paper_mann,
        ).to(device),
        "LSTM": mll.memory.SequenceLSTM(train.input_size, 5, hidden_size=hidden).to(device),
    }
    print(f"device {device}, {args.batch_size} episodes per step, {args.steps} steps, "
          f"{'paper' if args.paper_size else 'chapter CPU'} sizes, "
          f"{'paper MANN' if args.paper_mann else 'MANN with key strength and a separate value'}, "
          f"held out: {args.split}")
    results, rows, values = {}, [], {}
    for name, model in models.items():
        optimizer, optimizer_steps, cpu = torch.optim.Adam(model.parameters(), lr=args.lr), 0, 0.0
        print(f"\n{name}: {sum(p.numel() for p in model.parameters()):,} parameters")
        print("| steps | episodes | CPU s | 1st | 2nd | 5th | 10th |\n|---|---|---|---|---|---|---|")
        while optimizer_steps < args.steps:
            chunk = min(args.eval_every, args.steps - optimizer_steps)
            start = time.process_time()
            mll.memory.train_sequence_model(model, train, chunk, batch_size=args.batch_size, optimizer=optimizer,
                                      progress=False)
            cpu += time.process_time() - start
            optimizer_steps += chunk
            accuracy = mll.memory.evaluate_per_instance(model, test, args.eval_episodes)
            cells = " | ".join(f"{100 * accuracy[k - 1]:.1f}" for k in PAPER)
            print(f"| {optimizer_steps} | {optimizer_steps * args.batch_size:,} | {cpu:.0f} | {cells} |", flush=True)
            rows.append([f"{name}, {optimizer_steps:,} ({optimizer_steps * args.batch_size:,})", round(cpu),
                         *(100 * accuracy[k - 1].item() for k in PAPER)])
            values.setdefault(name, {})[str(optimizer_steps)] = {"cpu_s": cpu, "accuracy": accuracy.tolist()}
        results[name] = accuracy
    held_out = f"alphabets {TEST_ALPHABETS}" if args.split == "alphabets" else "characters (a random quarter)"
    print(f"\nTest accuracy (%) by presentation, {args.eval_episodes} episodes of held-out {held_out}, "
          f"after {args.steps * args.batch_size:,} training episodes:")
    print("| model | 1st | 2nd | 5th | 10th |\n|---|---|---|---|---|")
    for name, accuracy in results.items():
        print(row(name, accuracy))
    print("| MANN, Santoro et al. 2016 (100,000 episodes) | " + " | ".join(f"{v:.1f}" for v in PAPER.values()) + " |")
    rows.append(["MANN, Santoro et al. 2016, Table 1 (100,000 episodes)", None, *PAPER.values()])
    table = {"columns": ["model, steps (episodes)", "train CPU s", "1st", "2nd", "5th", "10th"], "rows": rows,
             "caption": f"Test accuracy (%) on the 1st, 2nd, 5th and 10th presentation of a character, "
                        f"{args.eval_episodes} episodes of held-out {held_out}; {args.batch_size} episodes per step."}
    print(f"wrote {run.write(args.name, {'table': table}, values=values)}")


if __name__ == "__main__":
    main()
