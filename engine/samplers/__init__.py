"""Samplers, shared by every model (core): ``registry`` (every sampler once: key, names, A1111
name, stochastic flag, diffusers class + overrides or our own function), ``builder``
(``make_scheduler``: a registry sampler configured like a model's own scheduler), ``names``
(what people type → a sampler), ``ode`` (our own probability-flow ODE samplers in σ for any
denoiser: Euler = DDIM, Heun, DPM-Solver++ 2M, RK4), ``x0_capture`` (x̂₀ of every step, the one
place that relies on how diffusers' ``step`` reports it) and ``noise`` (slerp of initial noises:
latent walks, variation seeds).

A new sampler is one ``Sampler(...)`` line in ``registry.py`` plus its key in the ``types``
module of each feature that offers it.
"""
