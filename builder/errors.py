"""The one error every loader raises: ``ProjectError``, with a plain message.

It lives apart from ``project`` so that the data layer (``DataError`` is a ProjectError)
and the importers can raise it without importing the project module.
"""
from __future__ import annotations

__all__ = ["ProjectError"]


class ProjectError(ValueError):
    """A project file that cannot be used, with every problem found.

    ``problems`` is a list of ``(field, message)``; ``str(error)`` joins them so each line
    names the field and says what to do.
    """

    def __init__(self, problems: list[tuple[str, str]] | str, field: str = ""):
        if isinstance(problems, str):
            problems = [(field, problems)]
        self.problems = problems
        super().__init__("\n".join(f"{f}: {m}" if f else m for f, m in problems))

    @property
    def field(self) -> str:
        return self.problems[0][0] if self.problems else ""
