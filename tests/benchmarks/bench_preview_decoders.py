"""What a preview costs per step: the latent→RGB map, TAESD and the full VAE decoder.

Run: ``python tests/benchmarks/bench_preview_decoders.py [--sizes 512,64] [--repeats 3]
[--device cpu|cuda]``. Random weights in the real architectures (speed does not depend on the
values): diffusers' ``AutoencoderTiny()`` is TAESD's architecture, the full VAE is SD 1.5's
(engine/fixtures/tiny_sd.py's ``build_sd15_pipeline`` VAE); at 64 px the tiny test pipeline's
VAE and the tiny TAESD fixture (×2, what the tests use). Each decoder decodes one 1×4×h×w x̂₀
the way the engine does (preview_decoder.tiny_decode and the uint8 conversion of a preview;
generation.decode_latents), after one warm-up call; the median of ``--repeats`` is printed in
ms per step (one preview per step). On CUDA the device is synchronised around each call.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="512,64", help="image sizes in px, comma-separated")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    from diffusers import AutoencoderKL, AutoencoderTiny

    from engine.fixtures.tiny_sd import build_tiny_pipeline
    from engine.fixtures.tiny_taesd import build_tiny_taesd
    from engine.runtime import import_torch
    from engine.stable_diffusion.generation import decode_latents
    from engine.stable_diffusion.preview_decoder import tiny_decode
    from engine.stable_diffusion.previews import latents_to_rgb

    torch = import_torch()
    device = torch.device(args.device)
    torch.manual_seed(0)
    sd15_vae = AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4, layers_per_block=2, sample_size=512,
        block_out_channels=(128, 256, 512, 512),
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4)
    decoders = {  # size → (TAESD, full VAE, VAE's factor, label)
        "real": (AutoencoderTiny(), sd15_vae, 8, "TAESD / SD 1.5 VAE (random weights)"),
        "tiny": (build_tiny_taesd(), build_tiny_pipeline().vae, 2, "tiny fixtures (×2)"),
    }
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def timed(call) -> float:
        call()  # warm-up
        times = []
        for _ in range(args.repeats):
            sync()
            started = time.perf_counter()
            call()
            sync()
            times.append(1000 * (time.perf_counter() - started))
        return statistics.median(times)

    print(f"{'size':>6}  {'decoders':<38} {'latent→RGB':>11} {'TAESD':>9} {'full VAE':>10}"
          "   (ms per step)")
    for size in (int(s) for s in args.sizes.split(",")):
        taesd, vae, factor, label = decoders["tiny" if size <= 128 else "real"]
        taesd, vae = taesd.to(device).eval(), vae.to(device).eval()
        latents = torch.randn(1, 4, size // factor, size // factor, device=device)
        host = latents[0].cpu().numpy()

        def tiny(taesd=taesd, latents=latents):
            with torch.inference_mode():
                image = tiny_decode(taesd, latents)
                image = ((image.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()
            return image

        def full(vae=vae, latents=latents):
            with torch.inference_mode():
                return decode_latents(SimpleNamespace(vae=vae), latents)

        print(f"{size:>5}²  {label:<38} {timed(lambda h=host: latents_to_rgb(h)):>11.2f} "
              f"{timed(tiny):>9.1f} {timed(full):>10.1f}")
    print(f"device {device}, {torch.get_num_threads()} thread(s); latent→RGB runs on the host "
          "(numpy) after the step's copy, TAESD and the VAE on the device.")
    if device.type == "cpu":
        print("GPU: not measured by this run; use --device cuda (on a GPU the timings "
              "synchronise the device around each call).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
