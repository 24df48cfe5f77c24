"""2D toy diffusion: point data sets, a small MLP noise predictor, training, sampling, fields.

``types`` and ``datasets``, ``quality`` and ``storage`` are torch-free (the GUI may use them);
``model``, ``training``, ``sampling``, ``field`` and ``forward`` import torch when they run.
"""
