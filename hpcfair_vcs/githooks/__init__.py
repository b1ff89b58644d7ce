"""Git hooks: hpcfair keeps a git repository's artifacts converted, snapshotted and shared.

``install`` writes the shims (and chains a hook that was there), ``run`` is what
each hook does when git calls it, ``git`` the few git commands they need.
"""
