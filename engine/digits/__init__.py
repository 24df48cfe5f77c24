"""The embedded digits model: model, data, sampling, inversion, training, evaluation."""
