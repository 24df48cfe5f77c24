"""2D toy diffusion: point data sets, a small MLP noise predictor, training, sampling, fields,
exact scores and the sampler lab.

``types`` and ``datasets``, ``quality``, ``storage`` and ``exact`` (exact scores of the noised
Gaussian mixture, the ideal denoiser) are torch-free (the GUI may use them); ``model``,
``training``, ``sampling``, ``field`` and ``forward`` import torch when they run, and
``sampler_lab`` only to read the schedule's ᾱ from diffusers.
"""
