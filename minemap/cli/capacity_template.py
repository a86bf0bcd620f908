"""``minemap capacity-template [-o FILE]``: print a commented capacity file to start from.

One call to :func:`minemap.planning.template.capacity_template`; with ``-o`` the text is
written to a new file (an existing file is never replaced).
"""

from __future__ import annotations

import argparse
import os
import warnings

from minemap import io as _io
from minemap._errors import OutputError
from minemap.cli import helpers, options


def cmd_capacity_template(args: argparse.Namespace, records: list[warnings.WarningMessage]) -> None:
    """Print the template, or write it to a new file."""
    from minemap.planning.template import capacity_template

    helpers.plan_outputs(args, [("-o", args.output, (".toml",))])
    text = capacity_template(working_days_per_year=args.working_days)
    if helpers.is_stdout(args.output) or _io.is_stream(args.output):
        helpers.emit(text, args.output)
        return
    write_new_text(args.output, text)


def write_new_text(path: str, text: str) -> None:
    """Write ``text`` to a file that must not exist yet: created exclusively, so a file that
    appears meanwhile is not replaced either; removed again if writing fails."""
    target = _io.resolve_output(path)
    refused = OutputError(
        f"{path}: the file exists already and is never replaced; choose another name "
        "or remove it first."
    )
    if os.path.lexists(path) or target.exists():
        raise refused
    try:
        with open(target, "x", encoding="utf-8") as handle:
            try:
                handle.write(text)
            except BaseException:
                handle.close()
                target.unlink(missing_ok=True)
                raise
    except FileExistsError:
        raise refused from None
    except OSError as exc:
        raise OutputError(
            f"{path}: cannot write the template ({exc.strerror or exc}); choose another "
            "file. Nothing was written."
        ) from None


def _working_days(text: str) -> float:
    try:
        days = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < days <= 366:
        raise argparse.ArgumentTypeError(f"{text} is outside (0, 366]")
    return days


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``capacity-template`` to the ``minemap`` command."""
    parser = options.add_command(
        subparsers,
        "capacity-template",
        help="print a commented capacity file (assets and productivity) to start from",
        description="Print a commented TOML capacity file: manual teams, machines, dog "
        "teams and survey teams, with productivity per threat level and release method, "
        "ranges, growth and a dated change. Its figures are ILLUSTRATIVE defaults from "
        "public sources cited in its comments; replace them with your programme's own. "
        "The format is described in docs/capacity.md.",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write to this new .toml file instead of standard output (an existing file "
        "is never replaced)",
    )
    parser.add_argument(
        "--working-days",
        type=_working_days,
        default=220,
        metavar="DAYS",
        help="working days per year written into the file (the machine figure per day "
        "is computed with it)",
    )
    parser.set_defaults(func=cmd_capacity_template)
