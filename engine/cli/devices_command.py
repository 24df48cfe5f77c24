"""``devices``: what compute devices PyTorch can use here."""

from __future__ import annotations

from engine.cli import add_command


def register(subparsers) -> None:
    add_command(subparsers, "devices", run, "list CUDA / MPS / CPU devices and memory")


def _gib(value: int | None) -> str:
    return f"{value / 2**30:.1f} GiB" if value else "-"


def run(args) -> int:
    from engine.device import DEFAULT_DTYPES, available_devices, pick_device
    from engine.runtime import import_torch

    torch = import_torch()
    chosen = pick_device()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU thread(s) for torch")
    print(f"{'device':<6} {'available':<10} {'memory':<10} name")
    for report in available_devices():
        flag = "yes" if report.available else "no"
        extra = f"  ({report.note})" if report.note else ""
        print(f"{report.kind:<6} {flag:<10} {_gib(report.memory_bytes):<10} {report.name}{extra}")
    print(f"automatic choice: {chosen} ({DEFAULT_DTYPES[chosen]} for large models)")
    return 0
