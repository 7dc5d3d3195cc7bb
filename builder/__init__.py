"""netbuilder core: project file, layer catalogue, shape checking, build, export, training.

Importing this package is cheap: TensorFlow is imported only by the functions that need it.
"""
__version__ = "0.1.0"
