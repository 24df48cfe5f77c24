"""How good is the digits model? Classify its samples with a classifier trained on real digits.

- Classifier: an RBF support-vector machine (scikit-learn ``SVC``) on the 16×16 pixels of the
  *real* training digits only; its accuracy on the 300 held-out real digits says how far to
  trust it.
- Class accuracy: ``samples_per_class`` samples per digit, conditioned on that digit; the share
  the classifier assigns to the asked-for digit.
- Memorisation: a sample counts as a near-copy when its nearest training image (L2 distance in
  pixel space) is closer than the 1st percentile of the same distance for held-out *real* digits.
  A new handwritten digit lands that close to a training image only 1 % of the time, so a model
  that does not copy should show about 1 % as well; a much larger share means copying.
"""

from __future__ import annotations

import time

import numpy as np

from engine.digits.types import EvaluateRequest, EvaluationReport

MEMORISATION_PERCENTILE = 1.0
CHUNK = 250  # samples per sampling batch (keeps memory and progress granularity modest)


def train_classifier(split):
    from sklearn.svm import SVC

    classifier = SVC(C=10.0, gamma="scale")
    classifier.fit(split.train_images.reshape(len(split.train_images), -1), split.train_labels)
    return classifier


def nearest_distances(queries: np.ndarray, references: np.ndarray) -> np.ndarray:
    """L2 distance from each query image to its nearest reference image."""
    q = queries.reshape(len(queries), -1).astype(np.float64)
    r = references.reshape(len(references), -1).astype(np.float64)
    squared = (q * q).sum(1)[:, None] - 2 * q @ r.T + (r * r).sum(1)[None, :]
    return np.sqrt(np.maximum(squared.min(axis=1), 0.0))


def evaluate_digits(request: EvaluateRequest, reporter) -> EvaluationReport:
    """Job handler (also used by ``train`` and ``evaluate``)."""
    from engine.device import current_device
    from engine.digits.data import load_split
    from engine.digits.model import load_model
    from engine.digits.sampling import sample_images
    from engine.runtime import import_torch

    import_torch()
    started = time.perf_counter()
    split = load_split()
    classifier = train_classifier(split)
    held_out = split.held_out_images.reshape(len(split.held_out_images), -1)
    real_accuracy = float((classifier.predict(held_out) == split.held_out_labels).mean())
    threshold = float(np.percentile(nearest_distances(split.held_out_images, split.train_images),
                                    MEMORISATION_PERCENTILE))

    model = load_model(request.model_dir, current_device())
    labels = np.repeat(np.arange(10), request.samples_per_class)
    chunks = [labels[i:i + CHUNK] for i in range(0, len(labels), CHUNK)]
    total = len(chunks) * request.steps
    samples = []
    for number, chunk in enumerate(chunks):
        def on_step(done, _count, base=number * request.steps):
            reporter.check_cancelled()
            reporter.progress(base + min(done, request.steps), total, "sampling for evaluation")

        samples.append(sample_images(model, chunk, request.sampler, request.steps,
                                     request.guidance, request.seed + number, on_step=on_step))
    samples = np.concatenate(samples)
    predicted = classifier.predict(samples.reshape(len(samples), -1))
    per_class = tuple(float((predicted[labels == d] == d).mean()) for d in range(10))
    memorised = float((nearest_distances(samples, split.train_images) < threshold).mean())
    return EvaluationReport(
        samples_per_class=request.samples_per_class, sampler=request.sampler,
        steps=request.steps, guidance=request.guidance, per_class_accuracy=per_class,
        mean_accuracy=float(np.mean(per_class)), classifier="SVC (RBF, C=10) on real 16×16 digits",
        classifier_real_accuracy=real_accuracy, memorisation_threshold=threshold,
        memorised_share=memorised, seconds=time.perf_counter() - started)
