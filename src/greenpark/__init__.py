"""greenpark — the digital system behind an industrial park's green-development plan."""

__version__ = "0.1.0"
