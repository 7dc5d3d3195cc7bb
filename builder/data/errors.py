"""The one exception the data layer raises for anything a person can fix."""

from __future__ import annotations

from builder.errors import ProjectError


class DataError(ProjectError):
    """A dataset cannot be loaded or prepared; the message says why and what to do.

    The UI shows ``str(error)`` as it is, so messages are complete sentences that name the
    setting or file involved (``data.options.num_words``, ``imdb.npz``) and the fix. It is a
    ``ProjectError``, so every loader (project, Keras import, CSV) raises one kind of error.
    """
