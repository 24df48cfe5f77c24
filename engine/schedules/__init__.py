"""Noise schedules from diffusers: curves, noised strips, CSV export."""
