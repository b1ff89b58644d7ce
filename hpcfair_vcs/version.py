"""hpcfair's version: one place every layer may read it from (records name the tool that wrote them)."""

__version__ = "0.1.0"
