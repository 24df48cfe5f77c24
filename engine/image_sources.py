"""Built-in image sources for the forward process (listed in engine.forward_types.IMAGE_SOURCES)."""

from __future__ import annotations

from engine.images import LoadedImage, image_from_array, load_image_file
from engine.samples import make_test_card
from resources import resource_path


def _sample(file_name: str, working_size: int, grayscale: bool) -> LoadedImage:
    return load_image_file(resource_path("samples", file_name), working_size, grayscale)


def astronaut(working_size: int, grayscale: bool) -> LoadedImage:
    return _sample("astronaut.jpg", working_size, grayscale)


def chelsea(working_size: int, grayscale: bool) -> LoadedImage:
    return _sample("chelsea.jpg", working_size, grayscale)


def coffee(working_size: int, grayscale: bool) -> LoadedImage:
    return _sample("coffee.jpg", working_size, grayscale)


def test_card_image(working_size: int, grayscale: bool) -> LoadedImage:
    # Drawn at the working size itself, so its edges stay sharp at any size.
    return image_from_array(make_test_card(working_size), "test card", working_size, grayscale)
