"""Think Twice: practice judging AI-suggested fixes before you apply them."""

__version__ = "0.1.0"
APP_NAME = "Think Twice"
