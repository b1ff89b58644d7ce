"""YAML task configs (the paper's four argument groups): reading, checking, running.

``HPCFair`` is the one-line-per-task Python face of them.
"""
