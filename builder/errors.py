"""The one error every loader raises: ``ProjectError``, with a plain message.

It lives apart from ``project`` so that the data layer (``DataError`` is a ProjectError)
and the importers can raise it without importing the project module.
"""

from __future__ import annotations

from builder import limits

__all__ = ["ProblemList", "ProjectError"]


class ProblemList(list):
    """The problems a check collects, at most ``limits.MAX_PROBLEMS``: adding one more
    raises ``ProblemList.Full`` so the check stops there (``full`` is then True). A file
    with a million bad entries so costs no more time, memory or message text than one with
    fifty."""

    class Full(Exception):
        """Raised by ``append``/``extend`` once the list holds its cap."""

    full = False

    def __init__(self, cap: int | None = None):
        super().__init__()
        # A part of a check (a layer's settings) keeps one more than the whole check does,
        # so its surplus still tells the whole that checking stopped.
        self.cap = limits.MAX_PROBLEMS if cap is None else cap

    def append(self, item) -> None:
        if len(self) >= self.cap:
            self.full = True
            raise ProblemList.Full
        super().append(item)

    def extend(self, items) -> None:
        for item in items:
            self.append(item)


class ProjectError(ValueError):
    """A project file that cannot be used, with every problem found.

    ``problems`` is a list of ``(field, message)``; ``str(error)`` joins them so each line
    names the field and says what to do.
    """

    def __init__(self, problems: list[tuple[str, str]] | str, field: str = ""):
        if isinstance(problems, str):
            problems = [(field, problems)]
        more = getattr(problems, "full", False) or len(problems) > limits.MAX_PROBLEMS
        problems = list(problems)[: limits.MAX_PROBLEMS]
        if more:
            problems.append(
                (
                    "",
                    f"(checking stopped after {limits.MAX_PROBLEMS} problems: fix "
                    "these, then check again.)",
                )
            )
        self.problems = problems
        super().__init__("\n".join(f"{f}: {m}" if f else m for f, m in problems))

    @property
    def field(self) -> str:
        return self.problems[0][0] if self.problems else ""
