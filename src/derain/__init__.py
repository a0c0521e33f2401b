"""derain: remove rain from photos and videos."""

__version__ = "0.1.0"
