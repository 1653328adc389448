"""Errors in what was asked (arguments, notebook parameters, model names, memory), as opposed to bugs: the
command line prints them as one line and exits with status 2 (`--debug`: the traceback); notebooks raise
them from their first code cell."""

from __future__ import annotations


class UserError(Exception):
    """Something the user asked cannot be done as asked; the message says what to do instead."""

    def line(self) -> str:
        """The error in one line."""
        return one_line(str(self))


class ParameterError(UserError, ValueError):
    """A parameter or argument has a wrong type or value; the message names it, what was given and what is
    expected."""


def one_line(text: str) -> str:
    """`text` with its line breaks and runs of white space collapsed to single spaces."""
    return " ".join(text.split())


def user_errors() -> tuple[type[BaseException], ...]:
    """Every exception type that is the user's to fix. Each such error subclasses UserError (an unavailable
    model, a dataset the tokenizer cannot use, a full disk and unpinned numerics too, beside their builtin
    base), so this module imports nothing above it."""
    return (UserError,)


def describe(err: BaseException) -> str:
    """One line for a user error."""
    return err.line() if isinstance(err, UserError) else one_line(str(err))
