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

    METALEARN_DATA=/work/shared/data python benchmarks/mann_ablation.py     # about 9 CPU-minutes

``--models`` picks other rows of ``MODELS`` (variants of MANN that probe what blocks one-shot binding:
more read heads, the paper's sizes, writing the key as the paper does, a smaller step) and ``--name``
the results file, e.g. ``--models "MANN, 4 read heads" --seeds 0 --name mann_variants``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import metalearn_lite as mll
from metalearn_lite.data import omniglot, sequences

PRESENTATIONS = (1, 2, 5, 10)


def samplers(seed: int):
    """The chapter's split (seed 0) and test episodes; training episodes drawn with ``seed``."""
    characters = omniglot.load_background(size=20)
    meta_train, meta_test = characters.split_characters(0.25, generator=torch.Generator().manual_seed(0))
    meta_train = meta_train.with_rotations()
    mean, std = meta_train.images.mean(0, keepdim=True), meta_train.images.std()
    train = sequences.SequenceEpisodeSampler((meta_train.images - mean) / std, meta_train.labels, 5, 10,
                                             generator=torch.Generator().manual_seed(seed))
    test = sequences.SequenceEpisodeSampler((meta_test.images - mean) / std, meta_test.labels, 5, 10,
                                            generator=torch.Generator().manual_seed(4))
    return train, test


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


def build(name: str, input_size: int) -> torch.nn.Module:
    kwargs = MODELS[name][0]
    if kwargs is None:
        return mll.memory.SequenceLSTM(input_size, 5, hidden_size=128)
    return mll.memory.MANN(input_size, 5, **kwargs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=900, help="training steps per model (the chapter's 900)")
    parser.add_argument("--batch-size", type=int, default=32, help="episodes per step")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--eval-episodes", type=int, default=1000)
    parser.add_argument("--models", nargs="+", default=["MANN", "MANN, memory reads zeroed", "LSTM"],
                        choices=list(MODELS))
    parser.add_argument("--name", default="mann_ablation", help="results file name")
    args = parser.parse_args()
    torch.set_num_threads(1)
    run = mll.results.Run(seeds=args.seeds)
    names = tuple(args.models)
    rows, values = [], {name: [] for name in names}
    for seed in args.seeds:
        for name in names:
            mll.seed_everything(seed)
            train, test = samplers(seed)
            model = build(name, train.input_size)
            start = time.process_time()
            mll.memory.train_sequence_model(model, train, args.steps, batch_size=args.batch_size,
                                            lr=MODELS[name][1], progress=False)
            cpu = time.process_time() - start
            accuracy = mll.memory.evaluate_per_instance(model, test, args.eval_episodes)
            at = [accuracy[k - 1].item() for k in PRESENTATIONS]
            gain = at[1] - at[0]
            values[name].append({"seed": seed, "accuracy": accuracy.tolist(), "second_gain": gain, "cpu_s": cpu,
                                 "parameters": sum(p.numel() for p in model.parameters())})
            rows.append([name, seed, *(100 * a for a in at), 100 * gain, round(cpu)])
            print(f"{name}, seed {seed}: " + ", ".join(f"{k}: {100 * a:.1f}" for k, a in zip(PRESENTATIONS, at,
                                                                                               strict=True))
                  + f"; 2nd - 1st {100 * gain:.1f} points; {cpu:.0f} CPU-s", flush=True)
    summary = {name: {"second_gain_mean": statistics.mean(v["second_gain"] for v in values[name]),
                      "second_gain_std": statistics.stdev(v["second_gain"] for v in values[name])
                      if len(values[name]) > 1 else 0.0} for name in names}
    off = "MANN, memory reads zeroed"
    memory_gain = ([m["second_gain"] - o["second_gain"] for m, o in zip(values["MANN"], values[off], strict=True)]
                   if "MANN" in values and off in values else None)
    table = {"columns": ["model", "seed", *(f"{k}{'st' if k == 1 else 'nd' if k == 2 else 'th'} (%)"
                                            for k in PRESENTATIONS), "2nd - 1st (points)", "train CPU s"],
             "rows": rows,
             "caption": f"Test accuracy on the 1st, 2nd, 5th and 10th presentation of a held-out character, "
                        f"{args.eval_episodes} episodes, after {args.steps} steps of {args.batch_size} episodes "
                        "(chapter 3.2's budget and sizes: one read head, a 32 x 20 memory, 128 units). "
                        "'Memory reads zeroed': the same MANN whose read vectors are set to zero."}
    path = run.write(args.name, {"table": table},
                     values={"models": values, "summary": summary, "memory_second_gain": memory_gain,
                             "steps": args.steps, "batch_size": args.batch_size})
    if memory_gain is not None:
        print(f"MANN's 2nd-sight gain minus the memory-off gain, per seed (points): "
              f"{', '.join(f'{100 * g:.1f}' for g in memory_gain)}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
