"""dvc-ssh and sshfs: atomic uploads, host-key checks, and a shell command on the server.

dvc-ssh builds its sshfs filesystem in the cached property ``SSHFileSystem.fs``
from ``self.fs_args`` and offers no hook for the sshfs options hpcfair sets, nor
for an atomic upload. So a subclass overrides ``fs``: its sshfs filesystem writes
each upload under a temporary name and renames it (``_put_file`` then ``_mv``: a
cut push never leaves a truncated object under its final name), checks host keys
against a known_hosts file (sshfs does not by default) and prefers the ciphers
given. Many small objects travel as one tar stream over an exec channel, through
sshfs's ``execute``. Relied on, for dvc-ssh 4.3 and sshfs 2026.8: those names.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

TESTED_WITH = {"dvc-ssh": "4.3.", "sshfs": "2026."}


def ssh_filesystem_class(known_hosts: str, options: dict[str, Any]) -> type:
    """dvc-ssh's SSHFileSystem with atomic uploads, host keys checked against *known_hosts*,
    and these extra sshfs *options*; construct it with what ``dvc.fs.get_cloud_fs`` returns."""
    from dvc_ssh import SSHFileSystem as DvcSSH
    from dvc_ssh.spec import SSHFileSystem as SFTP

    class AtomicSFTP(SFTP):
        async def _put_file(self, lpath, rpath, **kwargs):
            import uuid

            tmp = f"{rpath}.hpcfair-tmp-{uuid.uuid4().hex[:12]}"
            await super()._put_file(lpath, tmp, **kwargs)
            await self._mv(tmp, rpath)

    class CheckedSSH(DvcSSH):
        @cached_property
        def fs(self):
            return AtomicSFTP(**{**self.fs_args, "known_hosts": known_hosts, **options})

    return CheckedSSH


def execute(fs: Any, command: str, **kwargs: Any) -> Any:
    """Run *command* on the server of dvc-ssh filesystem *fs*; the result has ``exit_status``,
    ``stdout`` and ``stderr`` (bytes). ``stdin``/``stdout`` may name local files."""
    return fs.fs.execute(command, check=False, encoding=None, **kwargs)
