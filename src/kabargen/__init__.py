"""kabargen: a static site generator for government press releases."""

__version__ = "0.1.0"
