"""Diffusion Playground's Qt front end. Never imports torch/diffusers at module level."""
