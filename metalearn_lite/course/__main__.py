"""``python -m metalearn_lite.course``: the instructor's commands.

    student SRC_DIR OUT_DIR          write student versions (solutions stubbed, checks kept)
    retarget REPO_URL [--branch B]   point _config.yml, Colab badges and install cells at a fork
    check NOTEBOOK [NOTEBOOK ...]    run notebooks and report each exercise's check: pass or fail
          [--reference DIR] [--gradebook CSV] [--manual MD] [--points JSON]
    colab OUT_DIR [--executed CACHE] write the chapters' Colab edition (plain Markdown, run outputs)

See ``book/for-instructors.md``. Needs the ``course`` extra: ``pip install "metalearn-lite[course]"``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def _student(args: argparse.Namespace) -> int:
    from .student import write_student_versions

    written = write_student_versions(args.src_dir, args.out_dir, force=args.force)
    for path in written:
        print(f"wrote {path}")
    print(f"{len(written)} student notebook(s) in {args.out_dir}")
    return 0


def _retarget(args: argparse.Namespace) -> int:
    from .retarget import retarget

    result = retarget(args.root, args.repo_url, args.branch)
    print(f"repository: {result.config.repo_url} (branch {result.config.branch})")
    for path in result.changed:
        print(f"  updated {path}")
    if not result.changed:
        print("  nothing to change: _config.yml and every notebook already agree")
    if result.other_mentions:
        names = ", ".join(str(p) for p in result.other_mentions)
        print(f"left as they are (they name the original repository; edit them by hand if needed): {names}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from .gradebook import load_points, write_gradebook, write_manual_sheet
    from .grading import grade_notebooks

    points = load_points(args.points)  # before the (long) grading: a bad file fails at once
    for option in ("gradebook", "manual"):
        target = getattr(args, option)
        if target is not None and target.exists() and not args.force:
            raise ValueError(f"--{option} {target} exists; refusing to overwrite it (pass --force)")
    reports = grade_notebooks(args.notebooks, timeout=args.timeout, jobs=args.jobs, reference_dir=args.reference)
    if args.json:
        print("[" + ",\n".join(r.to_json() for r in reports) + "]")
    else:
        print("\n\n".join(r.format() for r in reports))
    if args.gradebook is not None:
        print(f"gradebook: {write_gradebook(reports, args.gradebook, points, force=args.force)}")
    if args.manual is not None:
        print(f"prose answers: {write_manual_sheet(reports, args.manual, force=args.force)}")
    return 0 if all(r.ok for r in reports) else 1


def _colab(args: argparse.Namespace) -> int:
    from .colab import write_colab_edition

    written = write_colab_edition(args.root, args.out_dir, args.executed, force=args.force)
    source = "with the outputs of " + str(args.executed) if args.executed else "without outputs"
    print(f"{len(written)} Colab-edition notebook(s) in {Path(args.out_dir) / 'notebooks'}, {source}")
    return 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m metalearn_lite.course",
        description="Tools for instructors: student versions, retargeting a fork, grading.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    student = commands.add_parser("student", help="write student versions of the notebooks of a folder")
    student.add_argument("src_dir", metavar="SRC_DIR", help="folder with the chapter notebooks (e.g. notebooks)")
    student.add_argument("out_dir", metavar="OUT_DIR", help="folder for the student versions (created)")
    student.add_argument("--force", action="store_true",
                         help="overwrite notebooks in OUT_DIR even when they hold solutions")
    student.set_defaults(run=_student)

    retarget = commands.add_parser("retarget", help="point the book's repository, badges and install cells at a fork")
    retarget.add_argument("repo_url", metavar="REPO_URL", help="https://github.com/OWNER/REPO")
    retarget.add_argument("--branch", help="branch or tag Colab opens and installs from (default: unchanged)")
    retarget.add_argument("--root", default=".", type=Path, help="the book's root folder (default: .)")
    retarget.set_defaults(run=_retarget)

    check = commands.add_parser("check", help="run notebooks and report each exercise's check")
    check.add_argument("notebooks", metavar="NOTEBOOK", nargs="+", type=Path, help="student notebook(s) to grade")
    check.add_argument("--timeout", type=_positive_int, default=900, help="seconds per cell (default: 900)")
    check.add_argument("--jobs", type=_positive_int, default=1, help="notebooks graded at once (default: 1)")
    check.add_argument("--json", action="store_true", help="print the reports as JSON")
    check.add_argument("--reference", type=Path, default=None,
                       help="folder of the instructor's chapters (e.g. notebooks): run their checks, with only "
                            "the submissions' solution cells put in, so an edited check changes nothing")
    check.add_argument("--gradebook", type=Path, default=None, help="write a CSV gradebook here")
    check.add_argument("--manual", type=Path, default=None,
                       help="write the answers to the prose exercises here (Markdown), for grading by hand")
    check.add_argument("--points", type=Path, default=None,
                       help='JSON file of points per exercise, e.g. {"ex-01-class-means": 2} (default: 1 each)')
    check.add_argument("--force", action="store_true", help="overwrite an existing gradebook or answer sheet")
    check.set_defaults(run=_check)

    colab = commands.add_parser("colab", help="write the chapters' Colab edition (plain Jupyter Markdown)")
    colab.add_argument("out_dir", metavar="OUT_DIR", help="folder for the edition (notebooks/ is created in it)")
    colab.add_argument("--executed", type=Path, default=None,
                       help="the book's execution cache, whose outputs and glued numbers to use "
                            "(e.g. _build/.jupyter_cache after `make notebooks`)")
    colab.add_argument("--root", default=".", type=Path, help="the book's root folder (default: .)")
    colab.add_argument("--force", action="store_true", help="overwrite an earlier edition in OUT_DIR")
    colab.set_defaults(run=_colab)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except ModuleNotFoundError as error:
        parser.exit(2, f"error: {error.name} is missing: pip install \"metalearn-lite[course]\"\n")
    except (ValueError, OSError) as error:
        parser.exit(2, "error: " + " ".join(str(error).split()) + "\n")


if __name__ == "__main__":
    sys.exit(main())
