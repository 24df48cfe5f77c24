"""Diffusion Playground engine: pure Python + torch/diffusers, never Qt.

Importing this package is cheap: modules that need torch import it themselves, so the GUI can
build request objects (``engine.requests``) before torch is loaded.
"""

__version__ = "0.1.0"
APP_NAME = "Diffusion Playground"
