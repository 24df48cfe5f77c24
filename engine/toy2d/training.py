"""Training job: MSE on the objective's target (ε, x₀, v or flow matching's ε − x₀,
engine/toy2d/objectives.py), noising by diffusers' ``DDPMScheduler.add_noise`` (flow matching:
x_t = (1−t)·x₀ + t·ε at a uniform t).

Pause is a GUI-side idea built on cancel: a cancelled run raises ``Cancelled`` carrying a
``TrainState`` (weights, Adam moments, RNG state, losses), and "resume" submits a new request
with that state. The engine has one worker thread for the whole app; a job blocked on a pause
event would hold it and freeze every other tab, while a cancelled one frees it. Stop is the
same cancel, and the GUI simply keeps the state as the finished model.
"""

from __future__ import annotations

import time

import numpy as np

from engine.device import current_device
from engine.runtime import import_torch
from engine.toy2d.datasets import sample_dataset
from engine.toy2d.model import build_model, model_from_toy, weights_to_numpy
from engine.toy2d.objectives import flow_noised, flow_target, target
from engine.toy2d.schedule import ddpm_scheduler
from engine.toy2d.types import ToyModel, TrainPartial, TrainRequest, TrainState

#: Seconds between two live-loss reports: ~10 plot updates a second is smooth and cheap.
PARTIAL_INTERVAL = 0.1
#: Fresh data points drawn per refill; batches are slices of this pool (sampling fresh data
#: every step costs more than the step itself).
POOL_SIZE = 100_000


def _optimizer_to_numpy(optimizer) -> dict[str, np.ndarray]:
    flat = {}
    for index, state in optimizer.state_dict()["state"].items():
        for key, value in state.items():
            flat[f"{index}.{key}"] = np.asarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value)
    return flat


def _optimizer_from_numpy(optimizer, flat: dict[str, np.ndarray]) -> None:
    torch = import_torch()
    state_dict = optimizer.state_dict()
    state: dict[int, dict] = {}
    for name, value in flat.items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = torch.from_numpy(np.array(value))
    state_dict["state"] = state
    optimizer.load_state_dict(state_dict)


def training_batch(objective: str, scheduler, x0, generator):
    """(x_t, the network's time input, the target) for clean points ``x0``. ε-prediction draws
    from ``generator`` as it always did (noise, then timesteps), so old seeds give old runs."""
    torch = import_torch()
    device = x0.device
    noise = torch.randn(x0.shape, generator=generator).to(device)
    if objective == "flow":
        from engine.toy2d.flow import FLOW_TIME_SCALE

        # Hand-written noising: diffusers' FlowMatchEulerDiscreteScheduler.scale_noise looks each
        # timestep up in its discrete grid one by one; rectified flow wants any t in [0, 1].
        t = torch.rand((x0.shape[0], 1), generator=generator).to(device)
        return flow_noised(x0, noise, t), t[:, 0] * FLOW_TIME_SCALE, flow_target(x0, noise)
    num_timesteps = scheduler.config.num_train_timesteps
    timesteps = torch.randint(0, num_timesteps, (x0.shape[0],), generator=generator).to(device)
    noisy = scheduler.add_noise(x0, noise, timesteps)
    alpha_bar = scheduler.alphas_cumprod.to(device=device, dtype=x0.dtype)[timesteps][:, None]
    return noisy, timesteps, target(objective, x0, noise, alpha_bar)


def train(request: TrainRequest, reporter) -> TrainState:
    torch = import_torch()
    device = current_device()
    scheduler = ddpm_scheduler(request.schedule)
    resume = request.resume
    if resume is not None:
        model = model_from_toy(resume.model, device)
        model.train()
        start_step = resume.steps_done
        losses = list(np.asarray(resume.losses, dtype=np.float32))
    else:
        model = build_model(request.config, request.seed).to(device)
        start_step = 0
        losses = []
    optimizer = torch.optim.Adam(model.parameters(), lr=request.learning_rate)
    # The CPU generator draws noise and timesteps on every device (same stream, resumable).
    generator = torch.Generator().manual_seed(request.seed)
    data_rng = np.random.default_rng(request.seed)
    if resume is not None:
        if resume.optimizer:
            _optimizer_from_numpy(optimizer, resume.optimizer)
        if resume.rng_state:
            generator.set_state(torch.frombuffer(bytearray(resume.rng_state), dtype=torch.uint8))
        # Continue the data stream deterministically without replaying it.
        data_rng = np.random.default_rng([request.seed, start_step])

    def state_now(step: int) -> TrainState:
        toy = ToyModel(weights=weights_to_numpy(model), config=request.config,
                       schedule=request.schedule, dataset=request.dataset, steps_trained=step,
                       objective=request.objective)
        return TrainState(model=toy, optimizer=_optimizer_to_numpy(optimizer),
                          losses=np.asarray(losses, dtype=np.float32),
                          rng_state=bytes(generator.get_state().numpy().tobytes()),
                          total_steps=request.steps, device=device)

    pool = torch.from_numpy(sample_dataset(request.dataset, POOL_SIZE, data_rng)).to(device)
    pool_position = 0
    reported_up_to = start_step
    last_report = time.perf_counter()
    reporter.restart_clock()
    step = start_step
    for step in range(start_step, request.steps):
        if reporter.cancelled:  # build the state only when it is needed
            reporter.check_cancelled(state_now(step))
        if pool_position + request.batch_size > POOL_SIZE:
            pool = torch.from_numpy(sample_dataset(request.dataset, POOL_SIZE, data_rng)).to(device)
            pool_position = 0
        x0 = pool[pool_position:pool_position + request.batch_size]
        pool_position += request.batch_size
        noisy, timesteps, goal = training_batch(request.objective, scheduler, x0, generator)
        loss = torch.nn.functional.mse_loss(model(noisy, timesteps), goal)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        now = time.perf_counter()
        if now - last_report >= PARTIAL_INTERVAL or step + 1 == request.steps:
            reporter.partial(TrainPartial(first_step=reported_up_to,
                                          losses=np.asarray(losses[reported_up_to:], np.float32),
                                          total_steps=request.steps, device=device))
            reported_up_to = step + 1
            last_report = now
        reporter.progress(step + 1, request.steps, f"loss {losses[-1]:.4f}")
    model.eval()
    return state_now(len(losses))


def run_train_job(request: TrainRequest, reporter) -> TrainState:
    """Job handler. On cancel, ``Cancelled.partial`` is the TrainState so far (pause/stop)."""
    return train(request, reporter)
