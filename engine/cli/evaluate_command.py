"""``evaluate digits``: class accuracy and near-copy share of the digits model's samples."""

from __future__ import annotations

from engine.cli import add_command
from engine.cli.arguments import SEED_HELP, seed
from engine.digits.types import DEFAULT_GUIDANCE, SAMPLERS
from engine.samplers.names import argparse_type, digits_sampler


def register(subparsers) -> None:
    parser = add_command(subparsers, "evaluate", run,
                         "measure the digits model: class accuracy, memorisation")
    parser.add_argument("model", choices=["digits"])
    parser.add_argument("--samples-per-class", type=int, default=50, metavar="K")
    parser.add_argument("--sampler", type=argparse_type(digits_sampler), choices=list(SAMPLERS),
                        default="ddim")
    parser.add_argument("--steps", type=int, default=50, metavar="N")
    parser.add_argument("--guidance", type=float, default=DEFAULT_GUIDANCE, metavar="G")
    parser.add_argument("--seed", type=seed, default=1234, metavar="S",
                        help=f"seed, {SEED_HELP}")
    parser.add_argument("--model-dir", default=None, metavar="DIR",
                        help="a folder written by `train digits` (default: the shipped model)")
    parser.add_argument("--write-card", action="store_true",
                        help="store the result as 'evaluation' in the model's training.json")


def run(args) -> int:
    """Generates K samples per digit, classifies them with an SVM trained on the real digits only,
    and reports per-class and mean accuracy, the classifier's accuracy on held-out real digits
    and the share of near-copies of training images. Needs scikit-learn.
    """
    import json
    from pathlib import Path

    from engine.cli.console import console_reporter, fail
    from engine.digits.evaluation import evaluate_digits
    from engine.digits.model import CARD_FILE, shipped_model_dir
    from engine.digits.types import EvaluateRequest
    from engine.errors import UserFacingError
    from engine.png.saving import SaveError, write_bytes_as

    if args.samples_per_class < 1 or not 1 <= args.steps <= 1000:
        return fail("--samples-per-class must be at least 1 and --steps between 1 and 1000")
    if args.write_card:  # checked before minutes of sampling, like every written file
        from engine.cli.outputs import folder_problem

        problem = folder_problem(Path(args.model_dir or shipped_model_dir()))
        if problem:
            return fail(f"--write-card: {problem}")
    request = EvaluateRequest(samples_per_class=args.samples_per_class, sampler=args.sampler,
                              steps=args.steps, guidance=args.guidance, seed=args.seed,
                              model_dir=args.model_dir)
    try:
        report = evaluate_digits(request, console_reporter())
    except UserFacingError as exc:
        return fail(str(exc))
    print(f"{report.samples_per_class} samples per digit, {report.sampler} {report.steps} steps, "
          f"guidance {report.guidance:g}  ({report.seconds:.0f} s)")
    print("digit    " + " ".join(f"{d:>5}" for d in range(10)))
    print("accuracy " + " ".join(f"{a:>5.0%}" for a in report.per_class_accuracy))
    print(f"mean class accuracy: {report.mean_accuracy:.1%}")
    print(f"classifier ({report.classifier}) on held-out real digits: "
          f"{report.classifier_real_accuracy:.1%}")
    print(f"near-copies of training images: {report.memorised_share:.1%} of samples "
          f"(nearest training image closer than {report.memorisation_threshold:.3f}, the 1st "
          f"percentile for held-out real digits)")
    if args.write_card:
        card_path = Path(args.model_dir or shipped_model_dir()) / CARD_FILE
        try:
            card = json.loads(card_path.read_text(encoding="utf-8")) if card_path.is_file() else {}
            if "evaluation" in card:  # keep earlier numbers (other settings) for the record
                card.setdefault("earlier_evaluations", []).append(card["evaluation"])
            card["evaluation"] = report.as_dict()
            # Replaced in one step: an interrupted write never leaves half a card.
            write_bytes_as(card_path, json.dumps(card, indent=2).encode("utf-8"), overwrite=True)
        except SaveError as exc:
            return fail(f"cannot update {card_path}: {exc.reason}")
        except (OSError, ValueError) as exc:
            return fail(f"cannot update {card_path}: {exc}")
        print(f"updated {card_path}")
    return 0
