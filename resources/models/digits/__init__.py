"""The digits DDPM trained by `python main.py train digits` (see training.json)."""
