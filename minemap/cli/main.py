"""The ``minemap`` command group: finds the commands, runs one, turns errors into one line.

Each module of :mod:`minemap.cli` that defines ``register(subparsers)`` is a command; its
``register`` adds a sub-parser whose ``func(args, records)`` does the work.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import pkgutil
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import NoReturn

from minemap import __version__, _progress
from minemap._errors import MinemapError, cli_spelling
from minemap._workers import using_workers
from minemap.cli import options
from minemap.cli.helpers import one_line, print_warnings, terminal_text

#: How messages name the options every command spells the same way.
_COMMON_SPELLING = {
    "as_of": "--as-of",
    "edges": "--edges",
    "crs": "--crs",
    "freq": "--freq",
    "encoding": "--encoding",
    "override_crs": "--override-crs",
    "allow_area_change": "--allow-area-change",
}

#: Modules of the package that hold shared plumbing, not commands.
_NOT_COMMANDS = frozenset({"main", "options", "helpers", "engine"})


def command_modules() -> list[str]:
    """Names of the command modules, in the order ``--help`` lists them."""
    import minemap.cli as package

    names = [
        info.name
        for info in pkgutil.iter_modules(package.__path__)
        if not info.name.startswith("_") and info.name not in _NOT_COMMANDS
    ]
    return sorted(names)


def _registrars() -> list[Callable[[argparse._SubParsersAction], None]]:
    found = []
    for name in command_modules():
        module = importlib.import_module(f"minemap.cli.{name}")
        register = getattr(module, "register", None)
        if callable(register):
            found.append(register)
    return found


class _Parser(argparse.ArgumentParser):
    """A parser whose errors are one line, as every other minemap error is."""

    def error(self, message: str) -> NoReturn:
        hint = f"see '{self.prog} --help'"
        self.exit(2, f"minemap: error: {terminal_text(one_line(message))}; {hint}.\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``minemap`` command."""
    parser = _Parser(
        prog="minemap",
        description="Landmine contamination and land-release figures, priority zones and "
        "maps from your own geodata. 'minemap COMMAND --help' tells more.",
    )
    parser.add_argument("--version", action="version", version=f"minemap {__version__}")
    options.add_quiet(parser)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in _registrars():
        register(sub)
    return parser


def _local_workers(args: argparse.Namespace) -> contextlib.AbstractContextManager[object]:
    """With ``--workers N`` on this machine's cores, the whole command uses N threads:
    reading its inputs (validity checks on all workers, numba's loading beside them) as
    well as computing."""
    dask = (getattr(args, "engine", None) or "local") != "local" or getattr(args, "scheduler", None)
    if getattr(args, "workers", None) is None or dask:  # Dask workers are not threads
        return contextlib.nullcontext()
    return using_workers(options.workers(args))


def run(argv: Sequence[str] | None) -> int:
    """Run the CLI with ``argv``; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    quiet = _progress.quiet() if args.quiet else contextlib.nullcontext()
    with (
        warnings.catch_warnings(record=True) as records,
        cli_spelling(**_COMMON_SPELLING),
        quiet,
    ):
        warnings.simplefilter("always")
        try:
            with _local_workers(args):
                args.func(args, records)
        except MinemapError as exc:
            print_warnings(records)
            print(f"minemap: error: {terminal_text(one_line(str(exc)))}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("minemap: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:
            return 0
    print_warnings(records)
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    sys.exit(run(argv))


if __name__ == "__main__":
    main()
