"""``hpcfair init``: create the repository."""

from __future__ import annotations

import os

from ..repo import Repo
from ..results import InitResult


def init(path: str | os.PathLike = ".") -> InitResult:
    """Create ``.hpcfair/`` in *path* (it also repairs a freshly cloned one).

    Raises:
        AlreadyARepositoryError: a repository already exists there.
    """
    with Repo.init(path) as repo:
        return InitResult(root=os.fspath(repo.root), control=os.fspath(repo.control), in_git=repo.in_git)
