"""One error hierarchy for the whole library.

The CLI maps each class to an exit code in one place (``exit_code``), so a library function only
has to pick the class that says *whose* problem it is: the operator's input (2), an outside service
(3), or a check that did not hold (1). Every message should tell the reader what to do next.
"""

from __future__ import annotations


class OpsError(Exception):
    """Root of every error the library raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  fix: {self.hint}"
        return self.message


class UsageError(OpsError):
    """The command line asks for something impossible."""

    exit_code = 2


class ConfigError(UsageError):
    """``ops.yml`` (or another config-like file) is invalid."""


class InputError(UsageError):
    """An input file is missing, unreadable or not what it claims to be."""


class CheckFailed(OpsError):
    """A check, gate or verification did not hold, where raising is clearer than a Report."""

    exit_code = 1


class ExternalError(OpsError):
    """An outside service or program (Vercel, GitHub, git, a network peer) failed after retries."""

    exit_code = 3


class ApiError(ExternalError):
    """An HTTP API answered with an error.

    ``code`` is the API's own error code when it gives one (Vercel's ``error.code``), so callers can
    branch on it without parsing messages.
    """

    def __init__(
        self,
        message: str,
        *,
        service: str,
        status: int | None = None,
        code: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.service = service
        self.status = status
        self.code = code


class GitError(ExternalError):
    """A git command failed."""
