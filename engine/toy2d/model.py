"""The noise predictor ε̂(x_t, t): a small MLP on the point and a sinusoidal time embedding."""

from __future__ import annotations

import numpy as np

from engine.runtime import import_torch
from engine.toy2d.types import ModelConfig, ToyModel

torch = import_torch()
nn = torch.nn


class NoisePredictor(nn.Module):
    """(x, y) ⊕ embedding(t) → ``layers`` × (Linear + SiLU) of width ``hidden`` → ε̂ (2 values).

    The time embedding is diffusers' sinusoidal ``Timesteps`` (the DDPM/Transformer one), so
    the network can tell t = 10 from t = 900 smoothly rather than from a raw integer.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        from diffusers.models.embeddings import Timesteps

        self.config = config
        self.time_embedding = Timesteps(config.embedding_dim, flip_sin_to_cos=True,
                                        downscale_freq_shift=0)
        blocks: list[nn.Module] = []
        width = 2 + config.embedding_dim
        for _ in range(config.layers):
            blocks += [nn.Linear(width, config.hidden), nn.SiLU()]
            width = config.hidden
        blocks.append(nn.Linear(width, 2))
        self.net = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if t.ndim == 0:
            t = t.expand(x.shape[0])
        return self.net(torch.cat([x, self.time_embedding(t).to(x.dtype)], dim=1))


def build_model(config: ModelConfig, seed: int = 0) -> NoisePredictor:
    torch.manual_seed(seed)  # the initial weights are part of what a seed reproduces
    return NoisePredictor(config)


def weights_to_numpy(model: NoisePredictor) -> dict[str, np.ndarray]:
    return {name: value.detach().cpu().numpy().copy() for name, value in model.state_dict().items()}


def model_from_toy(toy: ToyModel, device: str = "cpu") -> NoisePredictor:
    """Rebuild the torch module from a ToyModel's numpy weights (cheap: ~40k parameters), on
    ``device``."""
    model = NoisePredictor(toy.config)
    expected = model.state_dict()
    if set(expected) != set(toy.weights) or any(
        tuple(expected[k].shape) != tuple(np.shape(toy.weights[k])) for k in expected
    ):
        raise ValueError("The model's weights do not match its configuration "
                         f"({toy.config.layers} × {toy.config.hidden}); the file may be damaged.")
    model.load_state_dict({k: torch.from_numpy(np.asarray(v, dtype=np.float32))
                           for k, v in toy.weights.items()})
    model.to(device).eval()
    return model
