"""The `annotate` command line: parses options, calls the library, prints one-line errors.

Each command lives in its own module with a `register(app)` function.
Set ANNOTATE_DEBUG=1 to get the full traceback instead of the one-line error.
"""

from __future__ import annotations

import os
import sys

import typer

from annotator.cli import doctor_cmd, run_cmd
from annotator.errors import AnnotatorError

app = typer.Typer(
    name="annotate",
    help="Annotate news articles with claims, speakers, sources and stances, "
    "each tied to a verbatim quote, and reconcile them into one event summary.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module in (run_cmd, doctor_cmd):
    _module.register(app)


def main() -> None:
    try:
        app(standalone_mode=False)
    except AnnotatorError as exc:
        if os.environ.get("ANNOTATE_DEBUG"):
            raise
        print(f"annotate: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print(
            "annotate: interrupted; finished articles are saved, run again to resume",
            file=sys.stderr,
        )
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # click usage errors and anything unexpected
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(130)
        if isinstance(exc, click.exceptions.Exit):
            sys.exit(exc.exit_code)
        if os.environ.get("ANNOTATE_DEBUG"):
            raise
        print(
            f"annotate: unexpected error: {type(exc).__name__}: {exc} "
            "(set ANNOTATE_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        sys.exit(1)
