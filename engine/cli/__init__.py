"""Command-line interface: the same engine jobs as the GUI, without a window.

Each subcommand lives in its own module with ``register(subparsers)``, which declares it with
``add_command`` and adds its options; the module's ``run`` (its docstring: the command's
description) receives the parsed args and returns an exit code. Modules import torch only when they run.
"""

from __future__ import annotations

import argparse
import importlib

COMMAND_MODULES = [
    "engine.cli.schedule_command",
    "engine.cli.devices_command",
    "engine.cli.info_command",
    "engine.cli.forward_command",
    "engine.cli.toy2d_command",
    "engine.cli.sampler_lab_command",
    "engine.cli.generate_command",
    "engine.cli.make_tiny_sd_command",
    "engine.cli.train_command",
    "engine.cli.sample_command",
    "engine.cli.walk_command",
    "engine.cli.evaluate_command",
]


def add_command(subparsers, name: str, run, help: str) -> argparse.ArgumentParser:  # noqa: A002
    """Declare one subcommand: ``help`` is its line in the command list, ``run(args) -> exit
    code`` runs it, and ``run``'s docstring is the description atop its own ``--help`` (argparse
    refills the text, so the docstring's line breaks do not show). The caller adds the options."""
    parser = subparsers.add_parser(name, help=help, description=run.__doc__)
    parser.set_defaults(handler=run)
    return parser


def add_subcommands(parser: argparse.ArgumentParser) -> None:
    from engine.cli.console import make_streams_safe

    make_streams_safe()  # --help already prints √, ᾱ, ε: never a UnicodeEncodeError
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND",
                                       title="commands (without one, the GUI starts)")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)


def run_command(args: argparse.Namespace) -> int:
    """Run one command: Ctrl+C cancels it (exit 130, "cancelled"), see ``engine.cli.interrupt``."""
    from engine.cli.console import make_streams_safe
    from engine.cli.interrupt import cancel_on_interrupt, cancelled
    from engine.errors import Cancelled
    from engine.logs import setup_logging

    make_streams_safe()
    setup_logging()
    if getattr(args, "device", None):  # the global ``--device``: where the digits model and
        from engine.cli.console import fail  # the 2D toy run (``generate`` has its own)
        from engine.device import pick_device, set_current_device
        from engine.errors import UserFacingError

        try:
            set_current_device(pick_device(args.device))
        except UserFacingError as exc:
            return fail(str(exc))
    try:
        with cancel_on_interrupt():
            return int(args.handler(args) or 0)
    except (Cancelled, KeyboardInterrupt):
        return cancelled()
    except BrokenPipeError:
        # The reader went away (`info FILE | head -3`): stop quietly, as Unix tools do, and
        # keep Python from failing again when it flushes stdout at exit.
        import os
        import sys

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a tool stopped by a closed pipe
