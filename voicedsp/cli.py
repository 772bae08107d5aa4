"""The ``voicedsp`` command line (also ``python -m voicedsp``).

Each subcommand lives in its own module, which provides ``add_parser(subparsers)`` (returning
the parser it made) and ``run(args) -> int``; COMMANDS lists those modules in help order.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = [
    "voicedsp._cli_g711",
    "voicedsp._cli_replay",
    "voicedsp._cli_serve",
    "voicedsp._cli_demo",
]


def build_parser() -> argparse.ArgumentParser:
    from voicedsp import __version__

    parser = argparse.ArgumentParser(
        prog="voicedsp",
        description="Media core for speech-to-speech AI on phone calls.",
    )
    parser.add_argument("--version", action="version", version=f"voicedsp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        module = importlib.import_module(name)
        module.add_parser(sub).set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except (OSError, ValueError) as exc:
        print(f"voicedsp {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
