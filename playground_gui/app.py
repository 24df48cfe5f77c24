"""Entry point: ``main()`` parses the command line, runs a CLI command or starts the GUI.

Qt, torch and diffusers are imported inside functions: a CLI command never loads Qt, and the
window shows before torch loads (the engine thread imports it afterwards).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

from engine import APP_NAME, __version__

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    from engine.cli import add_subcommands

    parser = argparse.ArgumentParser(
        prog="diffusion-playground",
        description=f"{APP_NAME}: see how diffusion models work, step by step. "
                    "Without a command, the desktop app starts.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--device", choices=["cuda", "mps", "cpu"], default=None,
                        help="compute device for every model: in the GUI (default: CUDA, then MPS, "
                             "then CPU) and for the digits and 2D toy commands (default: CPU); "
                             "'generate' also takes its own --device")
    parser.add_argument("--smoke-test", action="store_true",
                        help="start the window offscreen, visit every tab, run small real jobs "
                             "(library check, schedules, the embedded model), print the time to "
                             "first window and exit (non-zero with the reason on failure)")
    parser.add_argument("--sd-model", metavar="PATH", default=None,
                        help="with --smoke-test: also load this Stable Diffusion folder or "
                             ".safetensors file and generate 2 steps at 64 px (e.g. the "
                             "output of `make-tiny-sd`)")
    parser.add_argument("--startup-time", action="store_true",
                        help="show the window, print the seconds from process start, and exit "
                             "(used by the start-up benchmark)")
    add_subcommands(parser)
    return parser


def process_age_seconds() -> float | None:
    """Seconds since this process started (Linux), to report honest start-up times."""
    try:
        with open("/proc/self/stat", encoding="ascii") as handle:
            start_ticks = int(handle.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as handle:
            uptime = float(handle.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def seconds_since_start(entered: float | None) -> float:
    """Process age where the OS tells it, else time since ``main()`` was entered."""
    age = process_age_seconds()
    return age if age is not None else time.perf_counter() - (entered or time.perf_counter())


def report_first_look(window, entered: float | None) -> None:
    """Print once when the Noise schedules plots first have data (after the window shows),
    with the seconds since process start and whose curves they are (numpy's or the engine's)."""
    from PySide6.QtCore import QTimer

    tab = window.tabs.widget(0)
    timer = QTimer(window, interval=5)

    def check() -> None:
        if tab.has_curves():
            timer.stop()
            source = "numpy first look" if tab.session.provisional else "engine"
            print(f"schedule curves drawn {seconds_since_start(entered):.3f} s after process "
                  f"start ({source})", flush=True)

    timer.timeout.connect(check)
    timer.start()


def main(argv: list[str] | None = None) -> int:
    import multiprocessing

    multiprocessing.freeze_support()
    entered = time.perf_counter()
    args = build_parser().parse_args(argv)
    if args.command:
        from engine.cli import run_command

        return run_command(args)
    return run_gui(args, entered)


def run_gui(args: argparse.Namespace, entered: float | None = None, exec_loop: bool = True):
    from engine.environment import prepare_environment
    from engine.logs import setup_logging

    prepare_environment()  # OpenMP reads it when torch loads, later, in the engine thread
    setup_logging()
    if args.smoke_test or args.startup_time:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication, QMessageBox

    from resources import resource_path

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Diffusion Playground")
    app.setOrganizationName("DiffusionPlayground")
    app.setApplicationDisplayName(APP_NAME)
    app.setWindowIcon(QIcon(str(resource_path("icon.png"))))

    try:
        import pyqtgraph as pg

        pg.setConfigOptions(antialias=True, background="w", foreground="k")
        from playground_gui.main_window import MainWindow

        window = MainWindow(device=args.device)
    except Exception as exc:  # a start-up failure is shown, not lost in a console
        log.exception("start-up failed")
        from engine.logs import setup_logging

        if args.smoke_test:
            print(f"SMOKE TEST FAILED: the window could not be built: {exc!r}", file=sys.stderr)
        else:
            QMessageBox.critical(None, APP_NAME, f"{APP_NAME} could not start:\n{exc}\n\n"
                                 f"Details are in {setup_logging()}")
        return 1

    window.show()
    if args.startup_time:
        # The first event-loop turn after show(): the window has been exposed and painted.
        QTimer.singleShot(0, lambda: (print(f"window shown {seconds_since_start(entered):.3f} s "
                                            "after process start", flush=True), window.close()))
        return app.exec() if exec_loop else window
    if os.environ.get("DIFFUSION_PLAYGROUND_FIRST_LOOK_TIME"):
        report_first_look(window, entered)  # tests/benchmarks/bench_first_look.py
    QTimer.singleShot(0, window.start_engine)
    if args.smoke_test:
        from playground_gui.smoke import SmokeTest

        window.smoke_test = SmokeTest(window, entered, args)
        QTimer.singleShot(0, window.smoke_test.start)
    if not exec_loop:
        return window
    code = app.exec()
    if args.smoke_test:
        code = window.smoke_test.exit_code
    return code
