"""netbuilder core: project file, layer catalogue, shape checking, build, export, training.

Importing this package is cheap: TensorFlow is imported only by the functions that need it.
"""

__version__ = "0.1.0"

# The project file's optional "experiment" section is validated by its own module, which
# registers itself with builder.project (no Ray, no TensorFlow: cheap to import).
from builder.experiments import spec as _experiment_section  # noqa: F401
