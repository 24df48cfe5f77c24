"""Run Diffusion Playground from a source checkout: ``python main.py [COMMAND] [--help]``."""

import sys

from playground_gui.app import main

if __name__ == "__main__":
    sys.exit(main())
