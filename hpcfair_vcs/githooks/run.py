"""``hpcfair hooks run NAME``: what each hook does when git calls it.

- pre-commit: every staged pointer file whose data changed, and every model whose
  data changed since its pointer, gets a new version (a staged pointer whose data
  is still HEAD's moved instead, as a merge resolved to the other side does: its
  data is checked out); each model is converted to
  ONNX (cached), the conversion's provenance holding the runtime snapshot with
  the hyper-parameters of its params file (params.py); the
  rewritten pointers are staged. A failed conversion stops the commit and puts
  every pointer file back as it was (``hooks.on_failure: warn`` only warns).
- pre-push: the artifacts the pushed commits' pointer files name go to the
  default remote (``hooks.push``); without one the push goes on, said once
  (``hooks.require_remote`` stops it instead).
- post-checkout, post-merge, post-rewrite (after a rebase): data whose pointer
  changed is checked out (never over changes that are not stored); what is not
  stored here is pulled when ``hooks.pull`` is on, else named. Nothing is printed
  when nothing changed.

Everything a hook reads from git (pointer files of other commits) is parsed and
validated as any pointer file is; paths come only from the work tree.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from ..errors import HpcfairError, HookFailedError, UsageError
from ..repo import Repo, open_repo
from ..results import HookRunResult
from ..worktree import pointer as pointer_mod
from ..worktree.workspace import WorkspaceHasher, to_relpath
from .git import git, has_head, partial_commit, stage, staged_paths, toplevel
from .params import hyperparameters

ZERO_SHA = "0" * 40


def git_input(name: str) -> str:
    """What git writes to hook *name*'s standard input: the pushed refs for pre-push, else nothing."""
    return sys.stdin.read() if name == "pre-push" and not sys.stdin.isatty() else ""


def run(name: str, args: tuple[str, ...] = (), *, repo: Repo | str | None = None,
        stdin: str = "", say: Callable[[str], None] = lambda line: print(line, file=sys.stderr)) -> HookRunResult:
    """Run hook *name* as git would (its arguments, its standard input); *say* gets the lines to show.

    Raises:
        HookFailedError (exit 1): pre-commit or pre-push must stop git.
        UsageError: an unknown hook.
    """
    hooks = {"pre-commit": _pre_commit, "pre-push": _pre_push, "post-checkout": _post_checkout,
             "post-merge": _post_checkout, "post-rewrite": _post_rewrite}
    if name not in hooks:
        raise UsageError(f"no hpcfair hook {name!r}", hint=f"one of {', '.join(hooks)}")
    r = open_repo(repo)
    result = HookRunResult(hook=name)
    hooks[name](r, args, stdin, result, say)
    return result


def _pre_commit(r: Repo, args: tuple[str, ...], stdin: str, result: HookRunResult, say) -> None:
    from ..ops.status import MODIFIED, status  # add and convert are imported only when there is work for them

    settings = r.config["hooks"]
    top = toplevel(r.root)
    staged_now = staged_paths(top)
    staged = {(top / p).resolve() for p in staged_now if p.endswith(pointer_mod.SUFFIX)}
    changed, moved, left = {}, [], []
    for entry in status(repo=r).entries:
        pointer_file = pointer_mod.pointer_path(r.root / entry.path)
        if entry.state != MODIFIED or not (pointer_file in staged or _kind(pointer_file) == "model"):
            continue
        if pointer_file not in staged and partial_commit():
            left.append(entry.path)  # not among the paths this commit names
            continue
        if pointer_file in staged and _data_is_committed(r, top, pointer_file):
            moved.append(entry.path)  # the pointer moved (a merge resolved to the other side): it wins
        else:
            changed[entry.path] = pointer_file
    if moved:
        _check_out_moved(r, moved, result, say)
    if left:
        say(f"hpcfair: {', '.join(left)} changed but this commit names other paths, so it is not recorded "
            "(`git commit -a` records it, or `hpcfair add` it and commit its pointer file)")
    saved = {path: path.read_bytes() for path in changed.values()}
    try:
        if changed:
            from ..ops.add import add

            for item in add([os.fspath(r.root / p) for p in sorted(changed)], repo=r, convert=False).items:
                result.recorded.append(f"{item.artifact}@{item.version}")
                say(f"hpcfair: {item.path} is {item.artifact} v{item.version} now")
        pointers = {path: _read(path) for path in sorted({*staged, *changed.values()})}  # as add left them
        models = {path: pointer for path, pointer in pointers.items() if pointer and pointer.kind == "model"}
        if settings["convert"] and models:
            from ..ops.convert import convert

            for path, pointer in models.items():
                _convert_one(r, pointer, pointer_mod.data_path(path), result, say, settings["on_failure"], convert)
    except HookFailedError:
        for path, data in saved.items():  # the work tree as it was: no pointer names the new version
            path.write_bytes(data)
        raise
    nothing_else = changed and not staged_now and has_head(top)
    stage(top, sorted(changed.values()))
    if nothing_else:  # git decided "nothing to commit" before this hook ran; the next commit has the pointers
        raise HookFailedError(
            f"recorded {', '.join(result.recorded)} and staged the pointer file(s), but git had found nothing "
            "to commit before this hook ran", hint="run the same git commit again: it commits them")


def _data_is_committed(r: Repo, top: Path, pointer_file: Path) -> bool:
    """Whether the work tree's data is the content HEAD's pointer names, so that the staged pointer, not
    the data, is what changed: a merge or rebase conflict resolved to the other side, a pointer file
    checked out from another commit. (HEAD's pointer is parsed and checked as any pointer file.)"""
    if not has_head(top):
        return False
    try:
        text = git("show", f"HEAD:{to_relpath(top, pointer_file)}", cwd=top)
        committed = pointer_mod.parse(text, pointer_file)
        return WorkspaceHasher(r.root, r.state).current_oid(pointer_mod.data_path(pointer_file)) == committed.oid
    except HpcfairError:  # not in HEAD (a new artifact), or not a pointer there
        return False


def _check_out_moved(r: Repo, paths: list[str], result: HookRunResult, say) -> None:
    """Place the data the staged pointers name; the data they replace is HEAD's, stored already."""
    from ..ops.checkout import checkout

    for item in checkout(paths, repo=r).items:
        if item.action == "restored":
            result.restored.append(item.path)
            say(f"hpcfair: {item.path} now holds {item.artifact} v{item.version}, as its staged pointer says")
        elif item.action == "failed":
            result.warnings.append(f"{item.path}: {item.error}")
            say(f"hpcfair: {item.path} still holds the committed data: {item.error}")


def _convert_one(r: Repo, pointer: pointer_mod.Pointer, model: Path, result: HookRunResult, say, on_failure: str,
                 convert) -> None:
    spec = f"{pointer.artifact}@{pointer.version}"
    what = f"reading the hyper-parameters of {spec}"
    try:
        params = hyperparameters(r.root, model)
        what = f"converting {spec} to ONNX"
        done = convert(spec, repo=r, params=params)
    except HpcfairError as exc:
        if on_failure == "warn":
            result.warnings.append(f"{spec}: {exc.message}")
            say(f"hpcfair: warning: {what} failed: {exc.message} (committed anyway: hooks.on_failure is warn)")
            return
        raise HookFailedError(
            f"{what} failed: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""),
            hint="fix it and commit again; `git commit --no-verify` skips the hooks once; "
                 "`hooks: {on_failure: warn}` in .hpcfair/config.local.yaml only warns") from None
    if done.converter != "onnx":
        result.converted.append(f"{done.artifact}@{done.version}")
        say(f"hpcfair: {spec} -> {done.artifact} v{done.version}" + (" (cached)" if done.cached else ""))


def _read(pointer_file: Path) -> pointer_mod.Pointer | None:
    """The pointer file's content, or None when it does not parse (hpcfair status names it)."""
    try:
        return pointer_mod.read(pointer_file)
    except HpcfairError:
        return None


def _kind(pointer_file: Path) -> str | None:
    pointer = _read(pointer_file)
    return pointer.kind if pointer else None


def _pre_push(r: Repo, args: tuple[str, ...], stdin: str, result: HookRunResult, say) -> None:
    from ..ops.push import push
    from ..remotes.settings import default_name

    settings = r.config["hooks"]
    if not settings["push"]:
        return
    if default_name(r) is None:
        message = "no hpcfair remote is configured, so the artifacts were not pushed (hpcfair remote add NAME URL)"
        if settings["require_remote"]:
            raise HookFailedError(message, hint="add a remote, or set hooks.require_remote: false")
        say(f"hpcfair: {message}")
        return
    from ..config import pre_commit_framework_push

    artifacts = sorted(_artifacts_in_pushed_commits(r, stdin.strip() or pre_commit_framework_push()))
    if not artifacts:
        return
    known = {ref.name for ref in r.refs.all()}
    summary = push([a for a in artifacts if a in known], repo=r)
    result.pushed = summary.objects_transferred
    say(f"hpcfair: pushed {summary.objects_transferred} objects of {len(artifacts)} artifact(s) to {summary.remote}")
    if summary.exit_code:
        raise HookFailedError(f"pushing the artifacts to {summary.remote} failed",
                              hint="hpcfair push says why; `git push --no-verify` skips the hooks once")


def _artifacts_in_pushed_commits(r: Repo, stdin: str) -> set[str]:
    """The artifacts named by pointer files in the commits git is pushing (its pre-push input)."""
    top = toplevel(r.root)
    inside = to_relpath(top, r.root) if r.root != top else ""
    names: set[str] = set()
    for line in stdin.splitlines():
        parts = line.split()
        if len(parts) != 4 or parts[1] == ZERO_SHA:  # a deleted branch pushes no content
            continue
        sha = parts[1]
        listing = git("ls-tree", "-r", "-z", "--name-only", sha, "--", inside or ".", cwd=top)
        for path in (p for p in listing.split("\0") if p.endswith(pointer_mod.SUFFIX)):
            try:
                text = git("show", f"{sha}:{path}", cwd=top)
                names.add(pointer_mod.parse(text, Path(path)).artifact)
            except HpcfairError:
                continue  # not a pointer of ours (or corrupt): nothing to push for it
    return names


def _post_rewrite(r: Repo, args: tuple[str, ...], stdin: str, result: HookRunResult, say) -> None:
    """After a rebase, whose replayed commits moved pointers past what its first checkout placed."""
    if args[:1] == ("rebase",):  # an amend moves no pointer
        _post_checkout(r, (), stdin, result, say)


def _post_checkout(r: Repo, args: tuple[str, ...], stdin: str, result: HookRunResult, say) -> None:
    from ..ops.status import MISSING, MODIFIED, NOT_STORED, status

    if args and len(args) == 3 and args[2] == "0":  # a file checkout (git checkout -- path): not ours to follow
        return
    entries = status(repo=r).entries
    stale = [e.path for e in entries if e.state in (MISSING, MODIFIED)]
    absent = [e.path for e in entries if e.state == NOT_STORED]
    if absent and r.config["hooks"]["pull"]:
        from ..ops.pull import pull

        summary = pull(absent, repo=r)
        result.restored += [i.path for i in summary.checkout if i.action == "restored"]
        absent = [i.path for i in summary.checkout if i.action == "failed"]
    if stale:
        from ..ops.checkout import checkout

        for item in checkout(stale, repo=r).items:
            if item.action == "restored":
                result.restored.append(item.path)
            elif item.action == "failed":
                result.warnings.append(f"{item.path}: {item.error}")
                say(f"hpcfair: {item.path} was not checked out: {item.error}")
    if result.restored:
        say(f"hpcfair: checked out {len(result.restored)} artifact(s): {', '.join(result.restored)}")
    if absent:
        result.warnings.append(f"not stored here: {', '.join(absent)}")
        say(f"hpcfair: not stored here: {', '.join(absent)} (hpcfair pull; hooks.pull: true does it on checkout)")
