"""Step tensors to the host without stalling the GPU: what recording and previews read.

On CUDA, ``tensor.cpu()`` in the step callback waits for every queued kernel and leaves the
GPU idle while Python converts and records. Instead each wanted step is copied into pinned
(page-locked) host memory with ``non_blocking=True`` and a CUDA event marks when the copy is
done; the callback of a later step hands over the copies whose event has completed
(``event.query()``, which never waits), and the end of the pipeline call waits for the rest.
On the CPU (and MPS, whose copies are synchronous anyway) the copy is made and handed over at
once, exactly as before.
"""

from __future__ import annotations

from collections import deque


class HostCopies:
    """A queue of (host arrays, payload) pairs, ready in submission order."""

    def __init__(self):
        self._pending: deque = deque()

    def submit(self, tensors, payload) -> None:
        """Start copying ``tensors`` (device tensors) to float32 host arrays."""
        first = tensors[0]
        if first.device.type != "cuda":
            arrays = tuple(t.detach().float().cpu().numpy() for t in tensors)
            self._pending.append((arrays, payload, None))
            return
        from engine.runtime import import_torch

        torch = import_torch()
        hosts = []
        for tensor in tensors:
            host = torch.empty(tensor.shape, dtype=torch.float32, pin_memory=True)
            host.copy_(tensor.detach(), non_blocking=True)  # the float cast runs on the GPU
            hosts.append(host)
        event = torch.cuda.Event()
        event.record()
        self._pending.append((tuple(hosts), payload, event))

    def ready(self) -> list:
        """The copies that have finished, oldest first; never waits."""
        done = []
        while self._pending and (self._pending[0][2] is None or self._pending[0][2].query()):
            done.append(self._finish(self._pending.popleft()))
        return done

    def drain(self) -> list:
        """Every submitted copy, waiting for those still on their way."""
        done = []
        while self._pending:
            item = self._pending.popleft()
            if item[2] is not None:
                item[2].synchronize()
            done.append(self._finish(item))
        return done

    @staticmethod
    def _finish(item):
        arrays, payload, event = item
        if event is not None:
            # Copied out, so the pinned block returns to torch's host-memory cache for reuse.
            arrays = tuple(host.numpy().copy() for host in arrays)
        return arrays, payload
