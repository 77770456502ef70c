"""The ``codesign`` command: one Typer app joining the command groups, and its error boundary.

Library errors (:class:`~codesign_playground.errors.CodesignError`) become a one-line message
on stderr and exit code 2; a failed check (:class:`~codesign_playground.cli.status.CommandFailed`)
its own exit code; ``--traceback`` shows the stack instead. Commands raise; none prints an
error or picks an exit code itself.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from codesign_playground._version import __version__
from codesign_playground.cli.console import err_console
from codesign_playground.cli.demo import demo_command
from codesign_playground.cli.explore import explore_command
from codesign_playground.cli.hardware import app as hardware_app
from codesign_playground.cli.jobs import app as jobs_app
from codesign_playground.cli.keys import app as keys_app
from codesign_playground.cli.perf import estimate_command
from codesign_playground.cli.rtl import app as rtl_app
from codesign_playground.cli.serve import serve_command
from codesign_playground.cli.status import CommandFailed, ExitStatus
from codesign_playground.cli.workload import profile_command
from codesign_playground.errors import CodesignError

__all__ = ["app", "run"]


# Typer vendors its own click; its usage errors (bad option values, missing arguments)
# derive from this class, BadParameter's grandparent.
ClickException: type[Exception] = typer.BadParameter.__mro__[2]


def _hide_flag_types(command: Any) -> None:
    """Show on/off flags as flags in help, without Typer's ``<bool>`` type column."""
    for param in getattr(command, "params", ()):
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    make_help = command.get_help_option

    def get_help_option(ctx: Any) -> Any:
        option = make_help(ctx)
        if option is not None and option.metavar is None:
            option.metavar = ""
        return option

    if not getattr(make_help, "_codesign_flag", False):
        get_help_option._codesign_flag = True  # type: ignore[attr-defined]
        command.get_help_option = get_help_option
    for sub in getattr(command, "commands", {}).values():
        _hide_flag_types(sub)


class _ErrorBoundary(TyperGroup):
    """Turns library and usage errors into one line and an exit code, for every subcommand."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        _hide_flag_types(self)
        try:
            rv = super().main(*args, **kwargs)
        except ClickException as exc:  # usage errors: bad option values, missing args
            ctx = getattr(exc, "ctx", None)  # the (sub)command whose options were wrong
            where = ctx.command_path if ctx is not None else self.name
            hint = f" (see '{where} --help')" if where else ""
            fmt = getattr(exc, "format_message", None)
            message = fmt() if callable(fmt) else str(exc)
            err_console.print(f"error: {message}{hint}", highlight=False)
            sys.exit(getattr(exc, "exit_code", int(ExitStatus.BAD_INPUT)))
        except typer.Abort:
            err_console.print("aborted")
            sys.exit(int(ExitStatus.INTERRUPTED))
        sys.exit(rv if isinstance(rv, int) else int(ExitStatus.SUCCESS))

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CodesignError as exc:
            if ctx.meta.get("codesign.traceback"):
                raise
            err_console.print(f"[red]error[/red]: {escape(str(exc))}", markup=True, highlight=False)
            raise typer.Exit(int(ExitStatus.BAD_INPUT)) from None
        except CommandFailed as exc:
            err_console.print(
                f"[red]failed[/red]: {escape(str(exc))}", markup=True, highlight=False
            )
            raise typer.Exit(int(exc.status)) from None
        except KeyboardInterrupt:
            err_console.print("interrupted")
            raise typer.Exit(int(ExitStatus.INTERRUPTED)) from None


app = typer.Typer(
    cls=_ErrorBoundary,
    name="codesign",
    help="AI hardware co-design playground: profile models, estimate them on hardware, "
    "explore designs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"codesign-playground {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    traceback: Annotated[
        bool, typer.Option("--traceback", help="Show the full stack on errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """AI hardware co-design playground."""
    ctx.meta["codesign.traceback"] = traceback


app.command("profile")(profile_command)


app.command("estimate")(estimate_command)
app.command("demo")(demo_command)
app.command("explore")(explore_command)
app.command("serve")(serve_command)
app.add_typer(hardware_app, name="hardware", help="The chip catalog and hardware files.")
app.add_typer(rtl_app, name="rtl", help="Generate, simulate and synthesize Verilog.")
app.add_typer(keys_app, name="keys", help="API keys of the service (AUTH_MODE=api-key).")
app.add_typer(jobs_app, name="jobs", help="Jobs of the service: retention of their files.")


def run() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    run()
