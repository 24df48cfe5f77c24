"""``toy2d``: train the 2D toy diffusion model, sample it, write generated and real points."""

from __future__ import annotations

from engine.cli import add_command
from engine.cli.arguments import SEED_HELP, seed
from engine.samplers.names import any_case, argparse_type
from engine.schedules.types import SCHEDULE_NAMES
from engine.toy2d.types import (
    DATASET_NAMES,
    DEFAULT_LANGEVIN_STEP_SIZE,
    DEFAULT_LANGEVIN_STEPS,
    OBJECTIVES,
    TOY_SAMPLERS,
)


def register(subparsers) -> None:
    parser = add_command(subparsers, "toy2d", run,
                         "train a 2D toy diffusion model and sample it (x,y CSVs + quality)")
    parser.add_argument("--dataset", required=True,
                        choices=[name for name in DATASET_NAMES if name != "custom"])
    parser.add_argument("--steps", type=int, default=10_000, metavar="N",
                        help="training steps (default 10000; batch 512)")
    parser.add_argument("--learning-rate", type=float, default=3e-3, metavar="LR",
                        help="Adam's learning rate (default 0.003)")
    parser.add_argument("--seed", type=seed, default=0, metavar="S",
                        help=f"seed, {SEED_HELP}")
    parser.add_argument("--samples", type=int, default=1000, metavar="K",
                        help="points to generate (default 1000)")
    parser.add_argument("--objective", choices=list(OBJECTIVES), default="eps",
                        help="what the network predicts: eps (default), x0, v, or flow "
                             "(flow matching: x_t = (1−t)·x₀ + t·ε, predict ε − x₀)")
    parser.add_argument("--sampler", type=argparse_type(any_case(TOY_SAMPLERS)),
                        choices=TOY_SAMPLERS, default=None,
                        help="ddpm (all T steps; the default), ddim, euler, heun, dpmpp_2m "
                             "(50 steps), langevin (annealed Langevin: up to 100 noise levels, "
                             "K steps each) or pc (predictor–corrector: 100 DDPM steps, each + K "
                             "Langevin steps); --objective flow: euler (the default) or heun")
    parser.add_argument("--sampling-steps", type=int, default=None, metavar="M",
                        help="reverse steps, or noise levels for langevin/pc (default: all T "
                             "for DDPM, 50 for DDIM/Euler/Heun/DPM-Solver++ 2M and flow, 100 "
                             "for langevin/pc)")
    parser.add_argument("--langevin-steps", type=int, default=DEFAULT_LANGEVIN_STEPS,
                        metavar="K", help="Langevin steps per noise level for langevin and pc "
                                          f"(default {DEFAULT_LANGEVIN_STEPS})")
    parser.add_argument("--langevin-step-size", type=float, default=DEFAULT_LANGEVIN_STEP_SIZE,
                        metavar="δ", help="Langevin step size relative to each level's noise "
                                          "variance: x ← x + (δ_t/2)·∇log p_t + √δ_t·z with "
                                          f"δ_t = δ·(1−ᾱ_t) (default {DEFAULT_LANGEVIN_STEP_SIZE})")
    parser.add_argument("--schedule", choices=list(SCHEDULE_NAMES), default="linear",
                        help="noise schedule with T=1000 (default linear)")
    parser.add_argument("--zero-snr", action="store_true",
                        help="rescale the schedule to zero terminal SNR (ᾱ = 0 at t = T−1; "
                             "an eps model then starts sampling at t = T−2, see the output; "
                             "x0 and v models start at T−1)")
    parser.add_argument("--save-model", default=None, metavar="FILE.safetensors")
    parser.add_argument("--out", required=True, metavar="GENERATED.csv")
    parser.add_argument("--real-out", required=True, metavar="REAL.csv")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace existing output files (default: refuse before training)")


def run(args) -> int:
    """Trains the small MLP noise predictor on a 2D data set, samples K points with the sampler,
    writes them and K fresh real points as CSV (columns x,y), and prints the MMD of generated vs
    real next to real vs real.
    """
    import time

    from engine.cli.console import console_reporter, fail
    from engine.cli.outputs import FILE, TABLE, OutputWriter, check_targets, write_produced_as
    from engine.errors import UserFacingError
    from engine.schedules.types import ScheduleSpec
    from engine.toy2d.objectives import check_combination
    from engine.toy2d.points_csv import write_points_csv
    from engine.toy2d.types import (
        LANGEVIN_SAMPLERS,
        DatasetSpec,
        SampleRequest,
        TrainRequest,
        default_sampler,
    )

    args.sampler = args.sampler or default_sampler(args.objective)
    problem = check_combination(args.objective, args.sampler, args.zero_snr)
    if problem:
        return fail(problem)
    try:
        train_request = TrainRequest(dataset=DatasetSpec(args.dataset),
                                     schedule=ScheduleSpec.preset(args.schedule, 1000,
                                                                  args.zero_snr),
                                     steps=args.steps, learning_rate=args.learning_rate,
                                     seed=args.seed, objective=args.objective)
        # Validated before training, so a typo does not cost a minute of training.
        sample_options = {"sampler": args.sampler, "num_points": args.samples,
                          "num_inference_steps": args.sampling_steps, "seed": args.seed,
                          "langevin_steps": args.langevin_steps,
                          "langevin_step_size": args.langevin_step_size}
        SampleRequest(model=None, objective=args.objective, **sample_options)
    except ValueError as exc:
        return fail(str(exc))
    problem = check_targets([args.out, args.real_out], args.overwrite, "--out/--real-out",
                            kind=TABLE)
    if not problem and args.save_model is not None:
        problem = check_targets([args.save_model], args.overwrite, "--save-model", kind=FILE)
    if problem:
        return fail(problem)

    from engine.toy2d.sampling import run_sample_job
    from engine.toy2d.training import run_train_job

    started = time.perf_counter()
    try:
        state = run_train_job(train_request, console_reporter())
    except UserFacingError as exc:
        return fail(str(exc))
    seconds = time.perf_counter() - started
    print(f"objective: {OBJECTIVES[args.objective]}")
    print("path: x_t = (1−t)·x₀ + t·ε (flow matching has no noise schedule)"
          if args.objective == "flow" else f"schedule: {train_request.schedule.label}")
    print(f"trained {args.steps} steps in {seconds:.1f} s ({args.steps / seconds:.0f} steps/s); "
          f"final loss (mean of last 500) {state.losses[-500:].mean():.4f}")
    writer = OutputWriter(overwrite=args.overwrite)
    if args.save_model:
        from engine.toy2d.storage import save_model

        writer.write(args.save_model, lambda target, overwrite: write_produced_as(
            target, lambda temp: save_model(state.model, temp), overwrite))
    result = run_sample_job(
        SampleRequest(model=state.model, **sample_options),
        console_reporter())
    written = [writer.write(path, lambda target, overwrite, points=points: write_produced_as(
                   target, lambda temp: write_points_csv(temp, points), overwrite))
               for path, points in ((args.out, result.samples), (args.real_out, result.real))]
    code = writer.report()
    if code:
        return code
    q = result.quality
    if result.start_note:
        print(result.start_note)
    print(f"wrote {len(result.samples)} generated points to {written[0]} and "
          f"{len(result.real)} real points to {written[1]}")
    steps = f"{result.num_inference_steps} steps"
    if args.sampler in LANGEVIN_SAMPLERS:
        steps = (f"{result.num_inference_steps} {'noise levels' if args.sampler == 'langevin' else 'steps'}"
                 f", K = {args.langevin_steps}, δ = {args.langevin_step_size:g}")
    print(f"quality ({result.sampler}, {steps}): "
          f"MMD² {q.mmd:.5f} vs real-vs-real {q.mmd_real_reference:.5f}; mean nearest-neighbour "
          f"distance {q.nn_distance:.4f} vs {q.nn_distance_real_reference:.4f}")
    return 0
