"""Models the engine can load: the embedded digits model (more to come)."""
