"""Every error hpcfair raises on purpose.

Each class carries an ``exit_code`` (the CLI's documented exit status) and a
``hint`` (the next thing the user should do). Subclasses mix in the builtin
they resemble, so library callers can catch ``FileNotFoundError`` etc.

Exit codes (docs/cli.md):
    0 ok, 1 user error, 2 usage error, 3 integrity failure, 4 environment missing.
"""

from __future__ import annotations

EXIT_USER = 1
EXIT_USAGE = 2
EXIT_INTEGRITY = 3
EXIT_ENVIRONMENT = 4


def describe(exc: BaseException) -> str:
    """One line for an exception from a library: its first meaningful line, shortened."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    summary = next((line for line in lines if not line.startswith(("[", "-", "#"))), type(exc).__name__)
    return summary[:300]


# What an error may say it is about, beside its message; --json prints each one given.
FIELDS = ("name", "version", "oid", "remote", "path", "key")


class HpcfairError(Exception):
    """Root of every deliberate hpcfair error.

    Keyword *fields* (``name=``, ``oid=``, ``remote=``, ``path=`` ...; see FIELDS) say which
    artifact, object, remote or file it concerns, for scripts reading ``--json``. They never
    hold secrets.
    """

    exit_code = EXIT_USER
    default_hint = ""
    details = ""  # lines shown above the one-line error (a failed container's stderr tail); "details" in --json

    def __init__(self, message: str, *, hint: str | None = None, **fields: object) -> None:
        super().__init__(message)
        unknown = set(fields) - set(FIELDS)
        if unknown:
            raise TypeError(f"unknown error fields {sorted(unknown)}; use {', '.join(FIELDS)}")
        self.message = message
        self.hint = self.default_hint if hint is None else hint
        self.fields = {key: value for key, value in fields.items() if value is not None}

    def __str__(self) -> str:
        return self.message

    def line(self) -> str:
        """The message and its hint, as ``hpcfair: error: ...`` shows them."""
        return self.message + (f" (hint: {self.hint})" if self.hint else "")

    def to_dict(self) -> dict:
        doc = {"error": type(self).__name__, "message": self.message,
               "hint": self.hint, "exit_code": self.exit_code, **self.fields}
        if self.details:
            doc["details"] = self.details
        return doc


# --- user errors (exit 1) -------------------------------------------------

class NotARepositoryError(HpcfairError, FileNotFoundError):
    default_hint = "run `hpcfair init` in your project folder, or `cd` into one"


class AlreadyARepositoryError(HpcfairError, FileExistsError):
    default_hint = "the repository is ready to use; nothing to do"


class PathNotFoundError(HpcfairError, FileNotFoundError):
    default_hint = "check the path; `hpcfair status` lists what is tracked"


class PathOutsideRepoError(HpcfairError, ValueError):
    default_hint = "move or copy the data inside the repository first"


class UnreadableFileError(HpcfairError, PermissionError):
    default_hint = "check the file's permissions (`ls -l`) and that it is a regular file"


class ArtifactNotFoundError(HpcfairError, KeyError):
    default_hint = "`hpcfair status` and `hpcfair log` list the known artifacts"


class VersionNotFoundError(HpcfairError, KeyError):
    default_hint = "`hpcfair log ARTIFACT` lists its versions and tags"


class InvalidNameError(HpcfairError, ValueError):
    default_hint = "use letters, digits, '.', '_' and '-', starting with a letter or digit"


class NameConflictError(HpcfairError, ValueError):
    default_hint = "choose another name with --name"


class NestedArtifactError(HpcfairError):
    """A path inside a tracked folder, or a folder holding a tracked path."""


class WorkspaceConflictError(HpcfairError):
    default_hint = ("`hpcfair add PATH` keeps your changes as a new version; "
                    "`--force` discards them")


class StaleRefError(HpcfairError):
    """Another process changed the artifact between our read and our write."""

    default_hint = "run the command again"


class RemoteNotFoundError(HpcfairError, KeyError):
    default_hint = "`hpcfair remote list` shows the configured remotes"


class RemoteExistsError(HpcfairError, ValueError):
    default_hint = "use `hpcfair remote modify`, or remove it first"


class TaskConfigError(HpcfairError, ValueError):
    """A task config that does not match the schema."""

    default_hint = "docs/tasks.md lists every group and key"


class LockTimeoutError(HpcfairError, TimeoutError):
    default_hint = "another hpcfair command is running here; wait for it to finish"


class ConfigError(HpcfairError, ValueError):
    default_hint = "fix the file named above; docs/config.md lists every key"


class MetadataError(HpcfairError, ValueError):
    """Metadata that the schema refuses (an unknown key, a wrong type, a bad SPDX id or ORCID iD)."""

    default_hint = "docs/metadata.md lists every key and what it holds"


# --- usage errors (exit 2) ------------------------------------------------

class UsageError(HpcfairError):
    exit_code = EXIT_USAGE
    default_hint = "run the command with --help for its options and examples"


# --- integrity failures (exit 3) -----------------------------------------

class IntegrityError(HpcfairError):
    exit_code = EXIT_INTEGRITY
    default_hint = "run `hpcfair fsck` to check and quarantine corrupt objects"


class CorruptObjectError(IntegrityError):
    """An object's bytes no longer hash to its name."""


class MissingObjectError(IntegrityError, FileNotFoundError):
    default_hint = "run `hpcfair pull` to fetch it from a remote, or `hpcfair fsck`"


class RefusedFileError(IntegrityError):
    """A file from outside (a remote folder) that is a link, a pipe or a device, or larger than declared."""

    default_hint = "the remote holds something other than what was pushed there; tell whoever runs it"


class CorruptPointerError(IntegrityError):
    default_hint = ("restore the pointer file from git (`git checkout -- FILE`) "
                    "or resolve its merge conflict")


class CorruptRecordError(IntegrityError):
    default_hint = "run `hpcfair fsck`; a remote copy can be fetched with `hpcfair fetch`"


# --- models and conversion ---------------------------------------------------

class ModelLoadError(HpcfairError, ValueError):
    """A model file is truncated, corrupt, or not what its name says."""

    default_hint = "check that the file is complete (compare its size with the original) and its format"


class UntrustedPickleError(HpcfairError, PermissionError):
    """Loading the file would unpickle it, which runs any code it contains."""

    default_hint = "pass --trust-pickle only if you trust whoever made this file"


class ConversionError(HpcfairError, ValueError):
    """The exporter could not turn the model into ONNX."""

    default_hint = "check --input (names, shapes, dtypes); `hpcfair convert --help` has examples"


class ParityError(IntegrityError):
    """The ONNX model's outputs differ from the source model's beyond the tolerance."""

    default_hint = ("the model may use layers the exporter approximates; if the difference is acceptable, "
                    "raise it with --tolerance or `convert.tolerance` in .hpcfair/config.yaml")


class InputMismatchError(HpcfairError, ValueError):
    """Inputs that do not fit the model's signature: names, dtypes or shapes."""

    default_hint = "`hpcfair show MODEL` lists the inputs the model takes"


class MappingError(HpcfairError, ValueError):
    """A compose --map that names an unknown tensor, or joins tensors that do not fit."""

    default_hint = "`hpcfair show MODEL` lists each model's inputs and outputs"


class InputFileError(HpcfairError, ValueError):
    """An input file that cannot be read as arrays."""

    default_hint = "inputs are .npy, .npz (one array per input name), .csv (numbers) or .json"


class ChunkFailedError(HpcfairError):
    """A chunk of a scaled-out inference failed for good (its error, or its workers kept dying); nothing was stored."""

    default_hint = "run `hpcfair infer` without --scheduler on that shard to see the error up close"


class HookFailedError(HpcfairError):
    """A git hook must stop git (a pre-commit conversion failed, a pre-push could not push)."""

    default_hint = "`git commit --no-verify` (or `git push --no-verify`) skips the hooks once"


class CommandFailedError(HpcfairError):
    """An external command (podman, git, a converter's command line) failed."""

    def __init__(self, message: str, *, argv: list[str], returncode: int, stderr: str,
                 hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.argv, self.returncode, self.stderr = argv, returncode, stderr


# --- environment missing (exit 4) ----------------------------------------

class EnvironmentMissingError(HpcfairError):
    exit_code = EXIT_ENVIRONMENT


class ReadOnlyRepositoryError(EnvironmentMissingError, PermissionError):
    """The repository's .hpcfair folder, or a part of it, cannot be written by this user."""

    default_hint = ("`ls -ld .hpcfair .hpcfair/*` shows who may write it; ask its owner for write access, "
                    "or work in your own clone")


def not_writable(folder: object, exc: OSError) -> ReadOnlyRepositoryError:
    """The error for a write into the repository's *folder* that the system refused."""
    return ReadOnlyRepositoryError(f"cannot write to {folder}: {exc.strerror or exc}, so the repository "
                                   "cannot be changed")


class RemoteError(EnvironmentMissingError):
    """A remote cannot be used: unreachable, refused, missing, or read-only."""


class UnsupportedFormatError(EnvironmentMissingError):
    default_hint = "upgrade hpcfair: pip install -U hpcfair"


class DeviceUnavailableError(EnvironmentMissingError):
    """The requested accelerator is not usable here."""

    default_hint = "install onnxruntime-gpu on a machine with CUDA, or use --device cpu (or auto to fall back)"


class PodmanMissingError(EnvironmentMissingError):
    """Containers were asked for and podman is not installed."""

    default_hint = ("install podman and runc: apt-get install podman runc (Debian/Ubuntu), dnf install podman "
                    "(Fedora/RHEL); docs/containers.md")


class ImageNotFoundError(EnvironmentMissingError):
    """No runtime image to run in, or the one named is not in podman's storage."""

    default_hint = "build one: hpcfair image build (or load one: hpcfair image import FILE)"


class ContainerFailedError(HpcfairError):
    """A container (inference or a job) exited non-zero, was killed, or timed out; nothing was stored.

    ``returncode`` is the container's exit code; ``details`` the tail of its stderr.
    """

    returncode: int = -1


class SchedulerError(EnvironmentMissingError):
    """A Dask cluster could not be started or reached (a local cluster, a tcp:// scheduler, Slurm or PBS)."""

    default_hint = "docs/scaleout.md says what each --scheduler needs"


class MissingDependencyError(EnvironmentMissingError, ImportError):
    """An optional package is not installed; the hint is the pip line."""
