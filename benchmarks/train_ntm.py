"""Train the Neural Turing Machine of chapter 3.2 on the copy task for longer; ship it as a checkpoint.

Chapter 3.2 trains an NTM (64 controller units, a 32 x 8 memory) and an LSTM with more parameters
on copies of 1 to 10 random 8-bit vectors, for 1,000 steps of 16 sequences, and whether the NTM
learns to copy in that budget depends on the seed. This script trains the same two models on the
same batches for ``--steps`` steps (default 4,000) with seeds 0, 1 and 2 (the seed sets the initial
weights and the training batches) and measures the wrong bits per sequence at lengths up to four
times the longest training length, on 100 fresh sequences per length: the paper's "error against
sequence length" (Graves et al. 2014, figures 4 and 5 show the copies). The seed-0 NTM and LSTM
ship as ``ntm_copy`` and ``lstm_copy`` (kind ``"memory"``) with manifests; the table goes to
``benchmarks/results/ntm_copy.json``; chapter 3.2 evaluates the checkpoints live.

    python benchmarks/train_ntm.py             # about 10 CPU-minutes
    python benchmarks/train_ntm.py --diagnose  # where the shipped NTM errs at twice the training length, seconds

``--diagnose`` traces the shipped NTM (seed 0) on the test sequences of twice the longest training
length and writes, per recall position, the wrong bits, the read weighting's largest weight and how
often the read head's best slot is the slot the write head used for that vector
(``benchmarks/results/ntm_diagnosis.json``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import time

import torch

from metalearn_lite import pretrained
from metalearn_lite.data.copy_task import copy_batch
from metalearn_lite.memory import copy_errors, train_copy
from metalearn_lite.results import Run

SEEDS = (0, 1, 2)
MAX_TRAIN_LENGTH = 10
LENGTHS = (5, 10, 15, 20, 25, 30, 40)
TEST_SEED, TEST_SEQUENCES = 2, 100
BUILD = {
    "NTM": {"learner": "NTM", "kwargs": {"input_size": 9, "output_size": 8, "hidden_size": 64, "memory_slots": 32,
                                         "memory_width": 8}},
    "LSTM": {"learner": "SequenceLSTM", "kwargs": {"input_size": 9, "output_size": 8, "hidden_size": 128}},
}
RECIPE = {"batch_size": 16, "lr": 3e-3, "min_length": 1, "max_length": MAX_TRAIN_LENGTH}


def test_errors(model: torch.nn.Module) -> dict[str, float]:
    """Mean wrong bits per sequence at each of LENGTHS, 100 sequences each drawn with seed TEST_SEED."""
    with torch.no_grad():
        errors = copy_errors(model, LENGTHS, num_sequences=TEST_SEQUENCES,
                             generator=torch.Generator().manual_seed(TEST_SEED))
    return {str(n): e for n, e in errors.items()}


def train(name: str, seed: int, steps: int) -> tuple[torch.nn.Module, dict]:
    torch.manual_seed(seed)
    model = pretrained.build(BUILD[name])
    start_cpu, start_wall = time.process_time(), time.perf_counter()
    history = train_copy(model, steps, batch_size=RECIPE["batch_size"], lr=RECIPE["lr"],
                         min_length=RECIPE["min_length"], max_length=RECIPE["max_length"],
                         generator=torch.Generator().manual_seed(seed), progress=False)
    every = 50
    curve = [{"step": i + every, "bit_errors": statistics.mean(history["bit_errors"][i: i + every])}
             for i in range(0, steps, every)]
    return model, {"cpu_seconds": round(time.process_time() - start_cpu, 1),
                   "wall_seconds": round(time.perf_counter() - start_wall, 1), "curve": curve,
                   "errors": test_errors(model)}


def diagnose(run: Run, length: int = 2 * MAX_TRAIN_LENGTH) -> None:
    """Per recall position of the shipped NTM at ``length``: wrong bits, read sharpness, read on the written slot."""
    model, _ = pretrained.load("ntm_copy")
    batch = copy_batch(TEST_SEQUENCES, length, generator=torch.Generator().manual_seed(TEST_SEED))
    with torch.no_grad():
        trace = model.trace(batch.inputs)
    wrong = ((trace.logits[:, -length:] > 0).float() != batch.targets).sum(dim=2).float().mean(0)  # (length,)
    written, read = trace.write_weights[:, :length], trace.read_weights[:, -length:]  # (B, length, N) each
    sharpness = read.max(dim=-1).values.mean(0)
    on_slot = (read.argmax(-1) == written.argmax(-1)).float().mean(0)
    write_sharpness = written.max(dim=-1).values.mean(0)
    rows = [[i + 1, wrong[i].item(), sharpness[i].item(), 100 * on_slot[i].item(), write_sharpness[i].item()]
            for i in range(length)]
    table = {"columns": ["recall position", "wrong bits (of 8)", "read: largest weight", "read on the written slot (%)",
                         "write: largest weight"], "rows": rows,
             "caption": f"The shipped NTM (`ntm_copy`, seed 0, trained on lengths 1-{MAX_TRAIN_LENGTH}) on "
                        f"{TEST_SEQUENCES} test sequences of length {length} (seed {TEST_SEED}): per recall position, "
                        "the mean wrong bits, the mean largest weight of the read weighting, how often the read "
                        "head's best slot is the one the write head used for that vector, and the write "
                        "weighting's largest weight when that vector was stored."}
    print(run.write("ntm_diagnosis", {"table": table},
                    values={"length": length, "wrong_bits": wrong.tolist(), "read_sharpness": sharpness.tolist(),
                            "read_on_written_slot": on_slot.tolist(), "write_sharpness": write_sharpness.tolist()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--diagnose", action="store_true", help="trace the shipped NTM at twice the training length")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.diagnose:
        diagnose(Run(seeds=[0]))
        return
    run = Run(seeds=list(SEEDS))
    provenance = run.provenance()
    rows, logs = [], {name: [] for name in BUILD}
    for seed in SEEDS:
        for name in BUILD:
            model, log = train(name, seed, args.steps)
            logs[name].append(log)
            rows.append([name, seed, *(log["errors"][str(n)] for n in LENGTHS), log["cpu_seconds"]])
            print(f"{name} seed {seed}: " + ", ".join(f"{n}: {log['errors'][str(n)]:.2f}" for n in LENGTHS)
                  + f" wrong bits; {log['cpu_seconds']} CPU-s", flush=True)
            if seed != SEEDS[0]:
                continue
            checkpoint = f"{name.lower()}_copy"
            path = pretrained.CHECKPOINTS / f"{checkpoint}.pt"
            torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, path)
            record = {
                "name": checkpoint, "kind": "memory", "command": provenance["command"],
                "commit": provenance["commit"], "dirty": provenance["dirty"], "torch": provenance["torch"],
                "device": "cpu", "seed": seed,
                "split": {"train": f"copies of 1-{MAX_TRAIN_LENGTH} random 8-bit vectors, batches drawn with "
                                   f"seed {seed}",
                          "test": f"{TEST_SEQUENCES} fresh sequences per length, drawn with seed {TEST_SEED}"},
                "recipe": {**RECIPE, "steps": args.steps}, "build": BUILD[name], "steps": args.steps,
                "cpu_seconds": log["cpu_seconds"], "wall_seconds": log["wall_seconds"], "curve": log["curve"],
                "metrics": {"wrong_bits_per_sequence": log["errors"]},
                "check_episodes": {"task": "copy", "lengths": list(LENGTHS), "n": TEST_SEQUENCES, "seed": TEST_SEED,
                                   "wrong_bits_per_sequence": log["errors"]},
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            }
            (pretrained.CHECKPOINTS / f"{checkpoint}.json").write_text(json.dumps(record, indent=1) + "\n",
                                                                      encoding="utf-8")
    table = {"columns": ["model", "seed", *(f"length {n}" for n in LENGTHS), "train CPU s"], "rows": rows,
             "caption": f"Wrong bits per sequence (of 8 per vector) on {TEST_SEQUENCES} fresh sequences per length, "
                        f"after {args.steps} steps of {RECIPE['batch_size']} copies of lengths 1-{MAX_TRAIN_LENGTH}; "
                        "NTM: 64 controller units and a 32 x 8 memory (lengths above 32 do not fit in it), "
                        "LSTM: 128 units."}
    print(f"wrote {run.write('ntm_copy', {'table': table}, values={'lengths': list(LENGTHS), 'logs': logs})}")


if __name__ == "__main__":
    main()
