"""The `annotate` command line: parses options, calls the library, prints one-line errors.

Each command lives in its own module with a `register(app)` function.
Set ANNOTATE_DEBUG=1 to get the full traceback instead of the one-line error.
"""

from __future__ import annotations

import os
import sys

import typer

from annotator.cli import batch_cmd, doctor_cmd, eval_clusters_cmd, eval_cmd, reconcile_cmd, run_cmd
from annotator.core.errors import AnnotatorError

app = typer.Typer(
    name="annotate",
    help="Annotate news articles with claims, speakers, sources and stances, "
    "each tied to a verbatim quote, and reconcile them into one event summary.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module in (run_cmd, doctor_cmd, reconcile_cmd, eval_cmd, eval_clusters_cmd, batch_cmd):
    _module.register(app)


def main() -> None:
    # Standalone mode: click itself handles usage errors (exit 2), --help and typer.Exit
    # codes. Our own errors propagate out of it and are printed here as one line.
    try:
        app()
    except AnnotatorError as exc:
        if os.environ.get("ANNOTATE_DEBUG"):
            raise
        print(f"annotate: error: {' '.join(str(exc).split())}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print(
            "annotate: interrupted; finished articles are saved, run again to resume",
            file=sys.stderr,
        )
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("ANNOTATE_DEBUG"):
            raise
        print(
            f"annotate: unexpected error: {type(exc).__name__}: {' '.join(str(exc).split())} "
            "(set ANNOTATE_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        sys.exit(1)
