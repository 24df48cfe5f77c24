"""SDXL options as plain data: the A1111 pairs they write and what is read back from them."""

from __future__ import annotations

from engine.png.a1111 import format_parameters, parse_parameters
from engine.stable_diffusion.parameters import generation_parameters
from engine.stable_diffusion.sdxl_types import SdxlOptions, sdxl_from_texts


def test_a1111_pairs_round_trip_and_a_named_refiner_is_a_note():
    options = SdxlOptions(original_size=(256, 320), crop_top_left=(64, 0),
                          negative_original_size=(512, 512), refiner="/m/sdxl-refiner",
                          refiner_switch=0.75)
    parameters = {"prompt": "a fox", "steps": 20, "width": 1024, "height": 1024,
                  **options.parameters()}
    text = format_parameters(generation_parameters(parameters))
    assert "SDXL original size: 256x320, SDXL crop top-left: 64x0" in text
    assert "Refiner: sdxl-refiner, Refiner switch at: 0.75" in text
    values, notes = sdxl_from_texts(parse_parameters(text).extra)
    assert values == {"original_size": (256, 320), "crop_top_left": (64, 0),
                      "negative_original_size": (512, 512)}
    assert notes and "sdxl-refiner" in notes[0] and "0.75" in notes[0]
    assert SdxlOptions().parameters() == {} and not SdxlOptions().active
