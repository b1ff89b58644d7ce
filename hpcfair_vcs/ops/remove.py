"""``hpcfair remove``: stop tracking an artifact (its data and stored objects stay until ``gc``)."""

from __future__ import annotations

from ..worktree import gitignore
from ..worktree import pointer as pointer_mod
from ..repo import Repo, open_repo
from ..results import RemoveResult
from ..worktree.safepath import check_writable


def remove(artifact: str, *, repo: Repo | str | None = None) -> RemoveResult:
    """Drop the artifact's ref, pointer file and .gitignore entry; keep the work-tree data.

    Its records stay (they are history), its objects until ``hpcfair gc``.

    Raises:
        ArtifactNotFoundError: no such artifact.
    """
    r = open_repo(repo)
    with r.lock:
        ref = r.refs.get(artifact)
        data = check_writable(r.root, r.root / ref.path)  # its pointer and .gitignore are beside it
        pointer_file = pointer_mod.pointer_path(data)
        removed = pointer_file.exists()
        if removed:
            pointer_file.unlink()
        gitignore.unignore(data)
        r.refs.delete(ref.name)
    return RemoveResult(artifact=ref.name, path=ref.path, pointer_removed=removed, versions=len(ref.versions))
