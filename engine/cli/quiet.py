"""``--quiet``: no progress bars and no library chatter (warnings, "Loading weights" bars).

Hugging Face libraries read their verbosity and progress-bar switches from the environment when
they are imported; already imported ones (a second command in one process, tests) are told
directly. Errors still reach stderr.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

_ENVIRONMENT = {
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "DIFFUSERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "TQDM_DISABLE": "1",
}


def silence_libraries() -> None:
    """Silence Python warnings and the Hugging Face libraries for the rest of this process."""
    os.environ.update(_ENVIRONMENT)
    warnings.simplefilter("ignore")
    for name in ("transformers", "diffusers", "huggingface_hub", "accelerate"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if "huggingface_hub" in sys.modules:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    if "transformers" in sys.modules:
        from transformers.utils import logging as transformers_logging

        transformers_logging.set_verbosity_error()
        transformers_logging.disable_progress_bar()
    if "diffusers" in sys.modules:
        from diffusers.utils import logging as diffusers_logging

        diffusers_logging.set_verbosity_error()
        diffusers_logging.disable_progress_bar()
