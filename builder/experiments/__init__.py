"""Experiments: several trials of one project with settings varied, run on Ray Tune.

``spec`` (the project file's ``experiment`` section: validation and applying a trial's
values) imports neither TensorFlow nor Ray; ``runner`` runs a sweep: packed side by side in
its own process (``packed``) or on a local Ray instance or a Ray cluster; ``trial`` is what
each Ray worker runs; ``export`` writes a script that
uses Ray Tune directly.
"""
