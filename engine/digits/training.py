"""Training the digits DDPM from scratch: ε-prediction, MSE on ``DDPMScheduler.add_noise``.

Classifier-free guidance needs one model that knows both p(x | digit) and p(x): a share of the
labels (``label_dropout``) is replaced by the "no class" token at every step. Sampling uses an
exponential moving average (EMA) of the weights, which gives visibly cleaner samples than the raw
weights of a short run.
"""

from __future__ import annotations

import json
import math
import platform
import time
from pathlib import Path

from engine.digits.types import NULL_CLASS, TrainDigitsRequest, TrainProgress, TrainResult

WARMUP_STEPS = 100
FINAL_LR_FRACTION = 0.1
LOG_EVERY = 25
CHECKPOINT_SECONDS = 300  # write the EMA weights every 5 minutes, so a killed run keeps them


def learning_rate_factor(step: int, progress: float, warmup: int = WARMUP_STEPS) -> float:
    """Linear warm-up, then cosine decay to FINAL_LR_FRACTION over the run's progress (0…1)."""
    if step < warmup:
        return (step + 1) / warmup
    cosine = 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return FINAL_LR_FRACTION + (1 - FINAL_LR_FRACTION) * cosine


def train_digits(request: TrainDigitsRequest, reporter) -> TrainResult:
    """Job handler: train, write weights + config + card (+ examples) to ``request.out_dir``."""
    from engine.runtime import import_torch

    torch = import_torch()
    from diffusers.training_utils import EMAModel

    from engine.device import current_device
    from engine.digits.data import DATA_CREDIT, load_split, save_examples
    from engine.digits.model import EXAMPLES_FILE, new_model, save_model
    from engine.samplers.builder import make_scheduler

    # The engine's device: the CPU from the CLI unless ``--device`` names another. Batches,
    # noise and timesteps are drawn on the CPU generator, so a seed trains the same way anywhere.
    device = current_device()
    split = load_split()
    torch.manual_seed(request.seed)
    model = new_model(tiny=request.tiny, seed=request.seed)
    unet = model.unet.to(device).train()
    noise_scheduler = make_scheduler("ddpm", model.scheduler_config)
    images = torch.from_numpy(split.train_images).unsqueeze(1).to(device)
    labels = torch.from_numpy(split.train_labels).to(device)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=request.learning_rate, weight_decay=1e-4)
    ema = EMAModel(unet.parameters(), decay=request.ema_decay, use_ema_warmup=True, power=0.75)
    generator = torch.Generator().manual_seed(request.seed)
    out_dir = Path(request.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    def ema_state_dict():
        ema.store(unet.parameters())
        ema.copy_to(unet.parameters())
        state = {k: v.detach().clone() for k, v in unet.state_dict().items()}
        ema.restore(unet.parameters())
        return state

    budget = request.minutes * 60 if request.minutes is not None else None
    total = request.steps or 0
    recent: list[float] = []
    loss_log: list[tuple[int, float]] = []
    started = last_checkpoint = time.perf_counter()
    reporter.restart_clock()
    # Short runs (tests) warm up over a tenth of their steps.
    warmup = min(WARMUP_STEPS, max(1, request.steps // 10)) if request.steps else WARMUP_STEPS
    step = 0
    while True:
        elapsed = time.perf_counter() - started
        if (request.steps is not None and step >= request.steps) or (
                budget is not None and elapsed >= budget):
            break
        reporter.check_cancelled()
        progress = max(step / request.steps if request.steps else 0.0,
                       elapsed / budget if budget else 0.0)
        for group in optimizer.param_groups:
            group["lr"] = request.learning_rate * learning_rate_factor(step, progress, warmup)

        index = torch.randint(0, len(images), (request.batch_size,), generator=generator)
        x0, y = images[index.to(device)], labels[index.to(device)].clone()
        drop = torch.rand(request.batch_size, generator=generator) < request.label_dropout
        y[drop.to(device)] = NULL_CLASS
        noise = torch.randn(x0.shape, generator=generator).to(device)
        timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps,
                                  (request.batch_size,), generator=generator).to(device)
        noisy = noise_scheduler.add_noise(x0, noise, timesteps)
        prediction = unet(noisy, timesteps, class_labels=y).sample
        loss = torch.nn.functional.mse_loss(prediction, noise)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        optimizer.step()
        ema.step(unet.parameters())
        step += 1

        recent.append(loss.item())
        recent = recent[-LOG_EVERY:]  # the running mean of the last LOG_EVERY losses
        running = sum(recent) / len(recent)
        if step % LOG_EVERY == 0 or step == 1:
            loss_log.append((step, round(running, 6)))
            reporter.partial(TrainProgress(step, running, time.perf_counter() - started))
        if budget is not None:  # progress in seconds when the budget is time
            reporter.progress(min(int(elapsed + 0.5), int(budget)), int(budget),
                              f"step {step} loss {running:.4f}")
        else:
            reporter.progress(step, total, f"loss {running:.4f}")
        if time.perf_counter() - last_checkpoint > CHECKPOINT_SECONDS:
            save_model(model, out_dir, ema_state_dict())
            last_checkpoint = time.perf_counter()

    seconds = time.perf_counter() - started
    final_loss = sum(recent) / max(1, len(recent))
    if step % LOG_EVERY:
        loss_log.append((step, round(final_loss, 6)))
    unet.eval()
    save_model(model, out_dir, ema_state_dict())
    save_examples(out_dir / EXAMPLES_FILE, split)
    card = {
        "model": "class-conditional DDPM (ε-prediction) on 16×16 handwritten digits",
        "data": DATA_CREDIT,
        "train_images": int(len(images)),
        "held_out_images": int(len(split.held_out_labels)),
        "steps": step,
        "seconds": round(seconds, 1),
        "final_loss": round(final_loss, 5),
        "batch_size": request.batch_size,
        "learning_rate": request.learning_rate,
        "label_dropout": request.label_dropout,
        "ema_decay_max": request.ema_decay,
        "seed": request.seed,
        "parameters": int(sum(p.numel() for p in unet.parameters())),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "machine": platform.processor() or platform.machine(),
        "loss_log": loss_log,
    }
    write_card(out_dir, card)
    if request.evaluate_after:
        card["evaluation"] = _evaluate_into_card(out_dir, reporter)
        write_card(out_dir, card)
    return TrainResult(str(out_dir), step, seconds, final_loss, tuple(loss_log), card)


def _evaluate_into_card(out_dir: Path, reporter) -> dict:
    """The evaluation of the saved model; a failure is recorded, never loses the weights."""
    try:
        from engine.digits.evaluation import evaluate_digits
        from engine.digits.types import EvaluateRequest

        reporter.restart_clock()  # an honest it/s for the sampling, not the training
        return evaluate_digits(EvaluateRequest(model_dir=str(out_dir)), reporter).as_dict()
    except Exception as exc:  # the weights are saved; `evaluate digits --write-card` can redo it
        if type(exc).__name__ == "Cancelled":
            raise
        return {"error": f"{type(exc).__name__}: {exc}"}


def write_card(out_dir: Path, card: dict) -> None:
    from engine.digits.model import CARD_FILE

    (Path(out_dir) / CARD_FILE).write_text(json.dumps(card, indent=2), encoding="utf-8")
