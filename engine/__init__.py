"""Diffusion Playground engine: pure Python + torch/diffusers, never Qt.

A small core (``jobs``, ``reporting``, ``errors``, ``device``, ``runtime``, ``environment``,
``logs``, ``paths``, ``images``, ``types``) and one package per feature (``schedules``,
``forward``, ``digits``, ``toy2d``, ``stable_diffusion``, ``png``), each with a torch-free
``types.py``. Importing this package or any ``types`` module is cheap: modules that need torch
import it themselves, so the GUI builds requests before torch is loaded.
"""

__version__ = "0.1.0"
APP_NAME = "Diffusion Playground"
