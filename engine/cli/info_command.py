"""``info``: the generation parameters stored in a PNG (ours, or AUTOMATIC1111-style)."""

from __future__ import annotations

import json
import sys

from engine.cli import add_command


def register(subparsers) -> None:
    parser = add_command(subparsers, "info", run, "print the generation parameters stored in a PNG")
    parser.add_argument("file", metavar="FILE.png")
    parser.add_argument("--json", action="store_true", help="print everything as JSON")


def run(args) -> int:
    """Reads the 'parameters' text chunk (AUTOMATIC1111 convention, also written by this app) and
    this app's full request record. Exit code 0 when parameters were found, 1 when the PNG has
    none, 2 when it cannot be read.
    """
    from engine.cli.console import fail, printable
    from engine.png.chunks import MetadataError, read_png_metadata

    try:
        metadata = read_png_metadata(args.file)
    except MetadataError as exc:
        return fail(str(exc))
    if args.json:
        # JSON escapes C0 itself; DEL, C1 and the bidi overrides are escaped as \\u… too.
        text = json.dumps({"file": str(args.file), **metadata.to_dict()}, ensure_ascii=False,
                          indent=2)
        print(printable(text, json=True))
    else:
        print(printable(describe(args.file, metadata)))
    for warning in metadata.warnings:
        print(f"warning: {printable(warning)}", file=sys.stderr)
    return 0 if metadata.has_parameters else 1


def describe(file_name, metadata) -> str:
    """The parameters as aligned ``Label: value`` lines."""
    from engine.png.a1111 import parameter_rows

    size = f"{metadata.width}×{metadata.height} PNG" if metadata.width else "PNG"
    lines = [f"File: {file_name} ({size})"]
    if metadata.parameters is None:
        lines.append("No generation parameters found in this image.")
        if metadata.texts:
            lines.append("Text chunks present: " + ", ".join(metadata.texts))
        return "\n".join(lines)
    lines.append(f"Made by: {metadata.source}")
    if metadata.kind:
        lines.append(f"Restorable in the app: yes (kind '{metadata.kind}')")
    rows = parameter_rows(metadata.parameters)
    width = max((len(label) for label, _ in rows), default=0)
    for label, value in rows:
        text = value.replace("\n", "\n" + " " * (width + 2))
        lines.append(f"{label + ':':<{width + 1}} {text}")
    return "\n".join(lines)
