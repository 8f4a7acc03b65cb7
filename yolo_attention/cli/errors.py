"""The one error path of `yolo-attn`: a mistake the user can make is one line on stderr, never a traceback.

Every command and group of the CLI is built on `OneLineCommand` / `OneLineGroup` (``key_value_command`` in
cli/overrides.py does it for the key=value commands), so a command gives the same one line whether it runs under
``yolo-attn`` or on its own (a test's ``CliRunner().invoke(export, ...)``).
"""

from __future__ import annotations

import click

__all__ = ["USER_ERRORS", "OneLineError", "OneLineErrors", "OneLineCommand", "OneLineGroup", "one_line"]

# What a typo, a wrong value or a missing file raises below the CLI. Anything else is a bug and keeps its traceback.
USER_ERRORS = (ValueError, FileNotFoundError, SyntaxError, KeyError, TypeError)


class OneLineError(click.ClickException):
    """A user error, shown by click as ``Error: <message>``; exit code 1, or 2 for a usage error (bad key=value)."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


# click >= 8.2 raises it for a group called without a command; it prints the group's help (exit 2), not an error.
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", OneLineError)


def one_line(error: BaseException, exit_code: int = 1) -> OneLineError:
    """Return `error` as a `OneLineError` holding the first line of its message (its type name if it has none).

    Examples:
        >>> one_line(ValueError("imgsz must be an int\\nmore detail")).format_message()
        'imgsz must be an int'
    """
    text = str(error).strip()
    return OneLineError(text.splitlines()[0] if text else type(error).__name__, exit_code)


class OneLineErrors:
    """Mixin for click commands and groups: user errors raised while the command runs become one line."""

    def invoke(self, ctx: click.Context):
        """Run the command; a usage error or one of `USER_ERRORS` leaves as a `OneLineError`."""
        try:
            return super().invoke(ctx)
        except (OneLineError, _NO_ARGS_IS_HELP):  # a group with no command shows its help, as `yolo-attn` does
            raise
        except click.UsageError as e:  # click would print the usage block and a hint on three more lines
            path = (e.ctx or ctx).command_path
            raise OneLineError(f"{e.format_message()} (see '{path} -h')", e.exit_code) from e
        except USER_ERRORS as e:
            raise one_line(e) from e


class OneLineCommand(OneLineErrors, click.Command):
    """A click command with `yolo-attn`'s one-line errors."""


class OneLineGroup(OneLineErrors, click.Group):
    """A click group with `yolo-attn`'s one-line errors; its subcommands are `OneLineCommand` by default."""

    command_class = OneLineCommand
    group_class = type  # click: subgroups are OneLineGroup too
