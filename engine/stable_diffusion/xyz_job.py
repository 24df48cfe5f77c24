"""The X/Y/Z plot as an engine job: the cells of xyz.py generated one by one, then the grid."""

from __future__ import annotations

from engine.stable_diffusion.comparison import generate_one
from engine.stable_diffusion.types import XyzGridRequest, XyzGridResult
from engine.stable_diffusion.xyz import axis_grid, cell_requests


def xyz_grid_job(request: XyzGridRequest, reporter) -> XyzGridResult:
    import secrets

    seed = request.base.seed if request.base.seed is not None else secrets.randbelow(2**32)
    requests = cell_requests(request.base, request.axes, seed)
    results = []
    for index, single in enumerate(requests):
        results.append(generate_one(single, reporter, index, len(requests)))
    grid = axis_grid([result.images[0] for result in results], request.axes)
    return XyzGridResult(request.axes, tuple(requests), tuple(results), grid, seed)
