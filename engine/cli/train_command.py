"""``train digits``: train the embedded digits model from scratch."""

from __future__ import annotations

from engine.cli import add_command
from engine.cli.arguments import SEED_HELP, seed


def register(subparsers) -> None:
    parser = add_command(subparsers, "train", run,
                         "train the embedded digits diffusion model from scratch")
    parser.add_argument("model", choices=["digits"], help="which model to train")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--minutes", type=float, default=None, metavar="M",
                        help="train for this long (default: 20 minutes)")
    budget.add_argument("--steps", type=int, default=None, metavar="N",
                        help="train for this many optimiser steps")
    parser.add_argument("--out", default="out/digits", metavar="DIR",
                        help="output folder (default: out/digits); its model.safetensors, "
                             "config.json, training.json and examples.npz must not exist yet")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a model already in --out (default: refuse before training)")
    parser.add_argument("--seed", type=seed, default=0, metavar="S",
                        help=f"seed, {SEED_HELP}")
    parser.add_argument("--batch-size", type=int, default=64, metavar="B")
    parser.add_argument("--no-evaluate", action="store_true",
                        help="skip the evaluation that normally follows training")


def run(args) -> int:
    """Trains a class-conditional DDPM on scikit-learn's handwritten digits (needs scikit-learn:
    pip install "diffusion-playground[train]"). Writes model.safetensors, config.json,
    training.json and examples.npz to --out.
    """
    from pathlib import Path

    from engine.cli.console import console_reporter, fail
    from engine.cli.interrupt import cancelled
    from engine.cli.outputs import FILE, check_targets
    from engine.digits.model import CARD_FILE, CONFIG_FILE, EXAMPLES_FILE, WEIGHTS_FILE
    from engine.digits.training import train_digits
    from engine.digits.types import TrainDigitsRequest
    from engine.errors import Cancelled, UserFacingError

    minutes = args.minutes if args.minutes is not None or args.steps is not None else 20.0
    try:
        request = TrainDigitsRequest(out_dir=args.out, steps=args.steps, minutes=minutes,
                                     seed=args.seed, batch_size=args.batch_size,
                                     evaluate_after=not args.no_evaluate)
    except ValueError as exc:
        return fail(str(exc))
    if not args.out.strip():
        return fail("--out needs a folder name (it was empty)")
    folder = Path(args.out)
    if folder.exists() and not folder.is_dir():
        return fail(f"--out {folder} is a file; training writes a folder of files")
    names = (WEIGHTS_FILE, CONFIG_FILE, CARD_FILE, EXAMPLES_FILE)
    problem = check_targets([folder / name for name in names], args.overwrite, "--out", kind=FILE)
    if problem:
        return fail(problem)
    weights = folder / WEIGHTS_FILE
    before = weights.stat().st_mtime_ns if weights.is_file() else None
    reporter = console_reporter()
    log_lines = []

    def print_loss(payload) -> None:
        if hasattr(payload, "loss"):
            line = f"step {payload.step:>6}  loss {payload.loss:.5f}  {payload.seconds:7.1f} s"
            log_lines.append(line)
            if payload.step % 250 == 0 or payload.step == 1:
                print(line, flush=True)

    reporter._on_partial = print_loss
    try:
        result = train_digits(request, reporter)
    except UserFacingError as exc:
        return fail(str(exc))
    except (Cancelled, KeyboardInterrupt):
        if weights.is_file() and weights.stat().st_mtime_ns != before:
            return cancelled(f"training stopped; the last checkpoint is in {folder}")
        return cancelled("training stopped before its first checkpoint")
    print(f"trained {result.steps} steps in {result.seconds:.0f} s, final loss "
          f"{result.final_loss:.5f}; wrote {result.out_dir}")
    evaluation = result.card.get("evaluation")
    if evaluation and "mean_accuracy" in evaluation:
        print(f"evaluation: mean class accuracy {evaluation['mean_accuracy']:.1%} "
              f"({evaluation['sampler']} {evaluation['steps']} steps, guidance "
              f"{evaluation['guidance']}); near-copies {evaluation['memorised_share']:.1%}")
    elif evaluation:
        print(f"evaluation failed: {evaluation.get('error')}")
    return 0
