"""Podman for real: the runtime image built offline and reproducibly, inference and jobs in locked-down containers.

The image is built once per test run (its pinned inputs cached in .cache/hpcfair-tests, so a local rerun
reuses the Debian base and the wheels; CI starts empty). Hostile jobs and outputs are tested here too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hpcfair_vcs import api
from hpcfair_vcs.errors import ContainerFailedError, DeviceUnavailableError
from hpcfair_vcs.storage.records import ProvenanceRecord, RuntimeRecord, VersionRecord
from hpcfair_vcs.repo import open_repo

from .conftest import run_hpcfair, write

pytestmark = pytest.mark.containers
CACHE = Path(__file__).resolve().parent.parent / ".cache" / "hpcfair-tests"
HAVE_PODMAN = shutil.which("podman") is not None and shutil.which("debootstrap") is not None and os.geteuid() == 0
needs_podman = pytest.mark.skipif(not HAVE_PODMAN, reason="needs podman, runc and debootstrap as root "
                                                          "(tests/run.sh installs them)")


@pytest.fixture(autouse=True)
def image_cache(monkeypatch):
    monkeypatch.setenv("HPCFAIR_CACHE_DIR", os.fspath(CACHE))


@pytest.fixture(scope="session")
def runtime_image():
    """The ID of the runtime image the host's numpy and onnxruntime are pinned in (built once)."""
    if not HAVE_PODMAN:
        pytest.skip("needs podman, runc and debootstrap as root (tests/run.sh installs them)")
    os.environ["HPCFAIR_CACHE_DIR"] = os.fspath(CACHE)
    try:
        return api.image_build().image.id
    finally:
        del os.environ["HPCFAIR_CACHE_DIR"]


def tanh_model(path: Path, inputs: int = 20, outputs: int = 7, seed: int = 0) -> Path:
    """An ONNX model written with onnx's helpers: Gemm + Tanh with a dynamic batch."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    weights = numpy_helper.from_array(rng.standard_normal((inputs, outputs)).astype(np.float32), "W")
    bias = numpy_helper.from_array(rng.standard_normal(outputs).astype(np.float32), "B")
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "W", "B"], ["h"]), helper.make_node("Tanh", ["h"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", inputs])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", outputs])], [weights, bias])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 10
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, path)
    return path


@pytest.fixture
def model_repo(repo, cli):
    tanh_model(repo / "models" / "tanh.onnx")
    np.save(repo / "x.npy", np.random.default_rng(1).standard_normal((3000, 20)).astype(np.float32))
    cli("add", "models/tanh.onnx", "x.npy")
    return repo


# --- the image --------------------------------------------------------------------

@needs_podman
def test_the_image_rebuilds_to_the_same_id_and_lists_its_pins(runtime_image, cli):
    again = cli.json("image", "build")
    assert again["image"]["id"] == runtime_image  # the same pinned inputs, the same image
    listed = {i["id"]: i for i in cli.json("image", "list")["images"]}
    pins = listed[runtime_image]["pins"]
    assert pins["packages"] == {"numpy": np.__version__, "onnxruntime": __import__("onnxruntime").__version__}
    assert pins["python"] == "3.11" and pins["base"].startswith("debian:bookworm-minbase@sha256:")
    assert all(len(digest) == 64 for digest in pins["wheels"].values()) and len(pins["wheels"]) == 2
    assert listed[runtime_image]["size"] < 300_000_000


@needs_podman
def test_a_corrupt_cached_input_is_refused_not_used(runtime_image, cli, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    shutil.copytree(CACHE / "wheels", cache / "wheels")
    monkeypatch.setenv("HPCFAIR_CACHE_DIR", os.fspath(cache))
    wheel = next((cache / "wheels").rglob("numpy-*.whl"))
    data = bytearray(wheel.read_bytes())
    data[1000] ^= 0xFF
    wheel.write_bytes(bytes(data))
    result = cli("image", "build", code=3)
    assert "no longer has sha256" in result.stderr and "delete" in result.stderr


@needs_podman
def test_an_image_moves_as_an_oci_archive_and_keeps_its_id(runtime_image, cli, tmp_path):
    archive = tmp_path / "runtime.oci.tar"
    assert cli.json("image", "export", runtime_image[:12], str(archive))["image"]["id"] == runtime_image
    assert archive.stat().st_size > 50_000_000
    cli("image", "export", runtime_image, str(archive), code=2)  # exists: --force to replace
    subprocess.run(["podman", "rmi", "-f", runtime_image], check=True, capture_output=True,
                   env={**os.environ, "CONTAINERS_CONF": os.fspath(CACHE / "containers.conf")})
    assert runtime_image not in {i["id"] for i in cli.json("image", "list")["images"]}
    imported = cli.json("image", "import", str(archive))["image"]
    assert imported["id"] == runtime_image and imported["names"][0].startswith("localhost/hpcfair-runtime:py3.11-ort")
    assert runtime_image in {i["id"] for i in cli.json("image", "list")["images"]}


@needs_podman
def test_an_image_builds_on_a_base_image_too(runtime_image, cli, model_repo):
    built = cli.json("image", "build", "--base", runtime_image)["image"]
    assert built["id"] != runtime_image and built["pins"]["base"] == f"{runtime_image}@{runtime_image}"
    here = cli.json("infer", "tanh", "--input", "x.npy", "-o", "host.npy")
    inside = cli.json("infer", "tanh", "--input", "x.npy", "-o", "base.npy", "--image", built["id"])
    assert inside["container"]["image"] == built["id"] and here["device"] == "cpu"
    assert np.array_equal(np.load("host.npy"), np.load("base.npy"))
    # two images pin the host's versions now: the default is the one holding the default tag, not the base build
    assert cli.json("infer", "tanh", "--input", "x.npy", "--container")["container"]["image"] == runtime_image
    subprocess.run(["podman", "rmi", "-f", built["id"]], capture_output=True,
                   env={**os.environ, "CONTAINERS_CONF": os.fspath(CACHE / "containers.conf")})


@needs_podman
def test_an_image_with_extra_packages_for_jobs_pins_them_and_is_not_the_default(runtime_image, cli, model_repo):
    assert "NAME==VERSION" in cli("image", "build", "--package", "threadpoolctl>=3", code=2).stderr
    built = cli.json("image", "build", "--package", "threadpoolctl==3.8.0")["image"]
    assert built["id"] != runtime_image and built["pins"]["extras"] == {"threadpoolctl": "3.8.0"}
    assert any(name.startswith("threadpoolctl-3.8.0-") for name in built["pins"]["wheels"])
    assert built["names"][0].startswith("localhost/hpcfair-runtime:py3.11-ort") and "-plus-" in built["names"][0]
    write(Path("jobs/train.py"), TRAIN)
    script = "import os, threadpoolctl; os.mkdir('/out/model'); print('tpc', threadpoolctl.__version__)"
    job_config(Path("extra.yaml"), command=json.dumps(["python", "-c", script]))
    text = Path("extra.yaml").read_text().replace("memory: 1g}", f"memory: 1g, image: {built['id']}}}")
    write(Path("extra.yaml"), text)
    result = cli.json("run", "extra.yaml")
    assert "tpc 3.8.0" in result["log"] and result["container"]["image"] == built["id"]
    assert cli.json("infer", "tanh", "--input", "x.npy", "--container")["container"]["image"] == runtime_image
    subprocess.run(["podman", "rmi", "-f", built["id"]], capture_output=True,
                   env={**os.environ, "CONTAINERS_CONF": os.fspath(CACHE / "containers.conf")})


@needs_podman
def test_a_python_no_debian_release_has_is_refused_before_any_download(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("HPCFAIR_CACHE_DIR", os.fspath(tmp_path / "empty"))
    result = cli("image", "build", "--python", "3.12", code=4)
    assert "no Debian release here has Python 3.12" in result.stderr and "--base IMAGE" in result.stderr
    assert not (tmp_path / "empty" / "wheels").exists()


@needs_podman
@pytest.mark.nonroot
def test_building_from_debootstrap_as_a_user_is_refused_before_any_download():
    import tempfile

    cache = Path(tempfile.mkdtemp(prefix="hpcfair-nonroot-", dir="/tmp"))  # pytest's folders are root's only
    try:
        os.chmod(cache, 0o777)
        done = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m",
                               "hpcfair_vcs", "image", "build"], capture_output=True, text=True, cwd=cache,
                              env={**os.environ, "HPCFAIR_CACHE_DIR": os.fspath(cache), "HOME": os.fspath(cache),
                                   "XDG_CONFIG_HOME": os.fspath(cache)})
        assert done.returncode == 4, done.stderr
        assert "needs root" in done.stderr and "--base IMAGE" in done.stderr
        assert [p.name for p in cache.iterdir()] in ([], ["containers.conf"])  # no wheels, no base
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def test_the_shipped_containers_conf_keeps_ulimits_within_the_hard_limits(monkeypatch, tmp_path):
    import resource

    from hpcfair_vcs.container.podman import shipped_conf

    monkeypatch.setenv("HPCFAIR_CACHE_DIR", os.fspath(tmp_path))
    text = shipped_conf().read_text()
    nofile = int(text.split('"nofile=')[1].split(":")[0])
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    assert nofile <= (hard if hard != resource.RLIM_INFINITY else 20000)
    assert 'runtime = "runc"' in text and 'cgroup_manager = "cgroupfs"' in text and 'netns = "none"' in text


# --- inference ------------------------------------------------------------------------

@needs_podman
@pytest.mark.parametrize("suffix", [".npz", ".npy", ".csv"])
def test_container_inference_equals_the_hosts_bit_for_bit(runtime_image, cli, model_repo, suffix):
    cli("infer", "tanh", "--input", "x.npy", "-o", f"host{suffix}", "--batch-size", "700")
    inside = cli.json("infer", "tanh", "--input", "x.npy", "-o", f"container{suffix}", "--batch-size", "700",
                      "--container")
    assert inside["device"] == "container" and inside["rows"] == 3000
    assert inside["container"]["image"] == runtime_image
    assert inside["container"]["packages"]["onnxruntime"] == __import__("onnxruntime").__version__
    assert Path(f"host{suffix}").read_bytes() == Path(f"container{suffix}").read_bytes()


@needs_podman
def test_container_inference_of_a_converted_model_and_from_the_python_api(runtime_image, model_repo):
    from hpcfair_vcs.ops.infer import infer

    host = infer("tanh", input="x.npy")
    inside = infer("tanh", input="x.npy", container=True, image=runtime_image[:12])
    assert np.array_equal(host.arrays["y"], inside.arrays["y"]) and inside.container.image == runtime_image


@needs_podman
def test_an_inference_stored_with_add_names_model_input_and_image(runtime_image, cli, model_repo):
    added = cli.json("infer", "tanh", "--input", "x.npy", "-o", "out/y.npz", "--container", "--add", "y")["added"]
    assert added["artifact"] == "y" and added["kind"] == "dataset" and added["path"] == "out/y.npz"
    r = open_repo(model_repo)
    provenance = r.records.get(r.records.get(r.refs.get("y").head, VersionRecord).provenance, ProvenanceRecord)
    assert provenance.activity == "infer" and provenance.generated_by["image"] == runtime_image
    assert provenance.derived_from == [r.refs.get("tanh").head, r.refs.get("x").head]
    assert r.records.get(provenance.runtime, RuntimeRecord).platform["container_image"] == runtime_image
    r.close()
    assert "used tanh v1" in cli("lineage", "y").stdout and "image:" in cli("show", "y").stdout


def test_an_inference_on_the_host_is_stored_with_add_too(model_repo, cli):
    np.save("loose.npy", np.ones((4, 20), dtype=np.float32))  # an untracked input: named by its sha256
    added = cli.json("infer", "tanh", "--input", "loose.npy", "-o", "y.npy", "--add", "ones")["added"]
    r = open_repo(model_repo)
    provenance = r.records.get(r.records.get(r.refs.get("ones").head, VersionRecord).provenance, ProvenanceRecord)
    assert provenance.derived_from == [r.refs.get("tanh").head] and len(provenance.parameters["input_sha256"]) == 64
    assert "image" not in provenance.generated_by and added["version"] == 1
    r.close()
    assert "--output too" in cli("infer", "tanh", "--input", "x.npy", "--add", "z", code=2).stderr
    assert {e["path"]: e["state"] for e in cli.json("status")["entries"]}["y.npy"] == "in sync"


@needs_podman
def test_a_task_config_runs_inference_in_the_container(runtime_image, cli, model_repo):
    write(Path("infer.yaml"), "general: {task: infer}\ndevice: {type: container, memory: 1g}\n"
                              "task: {artifact: tanh, input: x.npy}\noutput: {path: out.npz}\n")
    assert cli.json("run", "infer.yaml")["container"]["image"] == runtime_image
    write(Path("plain.yaml"), "general: {task: infer}\ntask: {artifact: tanh, input: x.npy}\n"
                              "output: {path: plain.npz}\n")
    assert cli.json("run", "plain.yaml", "--container")["device"] == "container"
    assert np.array_equal(np.load("out.npz")["y"], np.load("plain.npz")["y"])


@needs_podman
def test_gpus_without_a_cdi_specification_is_a_clear_environment_error(runtime_image, cli, model_repo):
    result = cli("infer", "tanh", "--input", "x.npy", "--gpus", "all", code=4)
    assert "no NVIDIA CDI specification" in result.stderr and "nvidia-ctk cdi generate" in result.stderr


def test_no_podman_is_exit_4_with_the_install_line(model_repo, tmp_path):
    bin_dir = tmp_path / "bin"  # a PATH with git-free basics but no podman
    bin_dir.mkdir()
    done = run_hpcfair("infer", "tanh", "--input", "x.npy", "--container", cwd=model_repo,
                       env={"PATH": os.fspath(bin_dir)}, check=False)
    assert done.returncode == 4, done.stderr
    assert "podman is not installed" in done.stderr and "apt-get install podman" in done.stderr
    listing = run_hpcfair("image", "list", cwd=model_repo, env={"PATH": os.fspath(bin_dir)}, check=False)
    assert listing.returncode == 4


def test_a_committed_config_may_not_name_the_podman_program(model_repo, cli):
    write(model_repo / ".hpcfair" / "config.yaml", "container: {podman: /tmp/not-podman}\n")
    result = cli("image", "list", code=1)
    assert "container.podman names a program to run" in result.stderr


# --- jobs -------------------------------------------------------------------------

TRAIN = """\
import json, os
import numpy as np
params = json.load(open(os.environ["HPCFAIR_PARAMETERS"]))
x = np.load("/in/data/x.npy")
w = np.zeros(x.shape[1], dtype=np.float32)
for step in range(params["steps"]):
    w -= np.float32(params["lr"]) * (x.T @ (x @ w - 1.0)) / len(x)
os.makedirs("/out/model", exist_ok=True)
np.save("/out/model/w.npy", w)
print("trained", params["steps"], "steps as", os.getuid())
"""


def job_config(path: Path, command: str = "[python, /job/train.py, --steps, '{steps}']", memory: str = "1g",
               outputs: str = "{head: {path: model, kind: model}}") -> Path:
    return write(path, f"general: {{task: job}}\ndevice: {{type: container, memory: {memory}}}\n"
                       f"task:\n  command: {command}\n  code: jobs/train.py\n  inputs: {{data: x}}\n"
                       f"  parameters: {{steps: 3, lr: 0.01}}\n  environment: {{OMP_NUM_THREADS: 1}}\n"
                       f"  outputs: {outputs}\noutput: {{path: results}}\n")


@needs_podman
def test_a_job_stores_its_outputs_with_provenance_naming_inputs_command_and_image(runtime_image, cli, model_repo):
    write(Path("jobs/train.py"), TRAIN)
    job_config(Path("job.yaml"))
    result = cli.json("run", "job.yaml")
    assert result["command"] == ["python", "/job/train.py", "--steps", "3"]
    assert "trained 3 steps as 65534" in result["log"]  # not root inside
    (item,) = result["outputs"]
    assert item["artifact"] == "head" and item["path"] == "results/model" and item["nfiles"] == 1
    r = open_repo(model_repo)
    version = r.records.get(r.refs.get("head").head, VersionRecord)
    provenance = r.records.get(version.provenance, ProvenanceRecord)
    assert provenance.activity == "job" and provenance.generated_by["image"] == runtime_image
    x = r.refs.get("x")
    assert provenance.derived_from == [x.head]
    assert provenance.parameters["parameters"] == {"steps": 3, "lr": 0.01}
    assert provenance.parameters["environment"] == ["OMP_NUM_THREADS"]
    assert provenance.parameters["code"]["path"] == "jobs/train.py"
    runtime = r.records.get(provenance.runtime, RuntimeRecord)
    assert runtime.platform["container_image"] == runtime_image
    assert runtime.packages["onnxruntime"] == __import__("onnxruntime").__version__
    r.close()
    lineage = cli("lineage", "head").stdout
    assert "made by job" in lineage and "used x v1" in lineage
    status = {e["path"]: e["state"] for e in cli.json("status")["entries"]}
    assert status["results/model"] == "in sync"
    cli("run", "job.yaml")  # the same bytes again: no new version
    assert len(cli.json("log", "head")["versions"]) == 1


@needs_podman
def test_a_folder_artifact_is_mounted_with_its_files(runtime_image, cli, model_repo):
    write(Path("ds/a/p.bin"), b"pp")
    write(Path("ds/q.bin"), b"q")
    cli("add", "ds")
    script = ("import os; open('/out/listing.txt', 'w').write(repr(sorted((os.path.relpath(os.path.join(d, f), "
              "'/in/ds'), open(os.path.join(d, f), 'rb').read()) for d, _, fs in os.walk('/in/ds') for f in fs)))")
    write(Path("list.yaml"), "general: {task: job}\ntask:\n  command: " + json.dumps(["python", "-c", script])
          + "\n  inputs: {ds: ds}\n  outputs: {listing: listing.txt}\noutput: {path: out}\n")
    cli("run", "list.yaml")
    assert Path("out/listing.txt").read_text() == repr([("a/p.bin", b"pp"), ("q.bin", b"q")])


def snapshot(root: Path) -> dict[str, bytes]:
    return {os.fspath(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "tmp" not in p.parts and p.name not in ("state.db", "catalog.db", "lock")
            and "owners" not in p.parts}


@needs_podman
@pytest.mark.parametrize("command, outputs, words", [
    ("[python, -c, 'import sys; sys.stderr.write(\"bad input\\\\n\"); sys.exit(3)']", None,
     ["exit code 3", "bad input"]),
    ("[python, -c, 'x = bytearray(400 << 20); x[::4096] = b\"1\" * len(x[::4096])']", None,
     ["exit 137", "out of memory", "64m"]),
    ("[no-such-program]", None, ["not found in the image"]),
    ("[python, -c, pass]", None, ["wrote no model"]),
    ("[python, -c, 'import os; os.symlink(\"/etc/passwd\", \"/out/model\")']", None, ["link"]),
    ("[python, -c, 'import os; os.makedirs(\"/out/model\"); os.symlink(\"/etc/shadow\", \"/out/model/w.npy\")']",
     None, ["link or special file w.npy"]),
    ("[python, -c, 'import os; os.mkfifo(\"/out/model\")']", None, ["link or special file"]),
])
def test_a_failed_or_hostile_job_stores_nothing_and_says_why(runtime_image, cli, model_repo, command, outputs, words):
    write(Path("jobs/train.py"), TRAIN)
    job_config(Path("bad.yaml"), command=command, memory="64m")
    before = snapshot(model_repo / ".hpcfair")
    result = cli("run", "bad.yaml", code=1)
    message = result.stderr
    assert all(word in message for word in words), message
    if "bad input" in words:  # the stderr tail above the one-line error
        assert "hpcfair:   | bad input" in message and message.strip().splitlines()[-1].startswith("hpcfair: error:")
    assert snapshot(model_repo / ".hpcfair") == before and not Path("results").exists()


@needs_podman
@pytest.mark.parametrize("script, expect", [
    ("import socket; socket.create_connection(('127.0.0.1', PORT), timeout=2)", "Connection refused"),
    ("import socket; socket.create_connection(('deb.debian.org', 80), timeout=2)", "Temporary failure in name"),
    ("open('/in/data/new.npy', 'wb')", "Read-only file system"),
    ("open('/etc/evil', 'w')", "Read-only file system"),
    ("import os; os.setuid(0)", "Operation not permitted"),
])
def test_a_job_has_no_network_no_writable_inputs_and_no_privileges(runtime_image, cli, model_repo, script, expect):
    import socket

    write(Path("jobs/train.py"), TRAIN)
    with socket.create_server(("127.0.0.1", 0)) as server:  # the host listens; the container cannot reach it
        server.settimeout(0.1)
        port = server.getsockname()[1]
        job_config(Path("probe.yaml"), command=json.dumps(["python", "-c", script.replace("PORT", str(port))]))
        result = cli("run", "probe.yaml", code=1)
        with pytest.raises(TimeoutError):
            server.accept()
    assert expect in result.stderr, result.stderr


@needs_podman
def test_a_job_past_its_timeout_is_stopped_and_removed(runtime_image, cli, model_repo):
    write(Path("jobs/train.py"), TRAIN)
    job_config(Path("slow.yaml"), command="[python, -c, 'import time; time.sleep(120)']")
    text = Path("slow.yaml").read_text().replace("  outputs:", "  timeout: 3\n  outputs:")
    write(Path("slow.yaml"), text)
    result = cli("run", "slow.yaml", code=1)
    assert "did not finish within 3 s" in result.stderr
    assert "hpcfair-" not in _containers()


@needs_podman
def test_ctrl_c_stops_the_job_removes_its_container_and_stores_nothing(runtime_image, cli, model_repo):
    import signal
    import time

    write(Path("jobs/train.py"), TRAIN)
    job_config(Path("slow.yaml"), command="[python, -c, 'import time; time.sleep(120)']")
    before = snapshot(model_repo / ".hpcfair")
    env = {**os.environ, "HPCFAIR_CACHE_DIR": os.fspath(CACHE)}
    job = subprocess.Popen([sys.executable, "-m", "hpcfair_vcs", "run", "slow.yaml"], cwd=model_repo, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while "hpcfair-" not in _containers() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "hpcfair-" in _containers()
    os.killpg(job.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole foreground group
    _, stderr = job.communicate(timeout=60)
    assert job.returncode == 130, stderr
    assert "hpcfair-" not in _containers()
    assert snapshot(model_repo / ".hpcfair") == before and not Path("results").exists()


def _containers() -> str:
    return subprocess.run(["podman", "ps", "-a", "--format", "{{.Names}}"], capture_output=True, text=True,
                          env={**os.environ, "CONTAINERS_CONF": os.fspath(CACHE / "containers.conf")}).stdout


@needs_podman
def test_job_config_mistakes_are_named_before_anything_runs(runtime_image, cli, model_repo):
    write(Path("jobs/train.py"), TRAIN)
    job_config(Path("p.yaml"), command="[python, '{missing}']")
    assert "task.parameters does not have" in cli("run", "p.yaml", code=2).stderr
    job_config(Path("a.yaml"), command="[python, '{steps.__class__.__mro__}']")  # no attribute access
    assert "'{steps.__class__.__mro__}', which task.parameters does not have" in cli("run", "a.yaml", code=2).stderr
    job_config(Path("n.yaml"), outputs="{'bad name/..': model}")
    assert "bad name" in cli("run", "n.yaml", code=1).stderr
    write(Path("i.yaml"), Path("p.yaml").read_text().replace("{data: x}", "{'../up': x}").replace("'{missing}'", "x"))
    assert "input name '../up'" in cli("run", "i.yaml", code=2).stderr
    write(Path("c.yaml"), Path("i.yaml").read_text().replace("{'../up': x}", "{data: x}")
          .replace("jobs/train.py", "/etc"))
    assert "outside" in cli("run", "c.yaml", code=1).stderr
    mine = write(Path("results/model"), "my own notes")  # the output's place holds an untracked file
    job_config(Path("w.yaml"))
    assert "exists and is not tracked" in cli("run", "w.yaml", code=1).stderr
    assert mine.read_text() == "my own notes"
    job_config(Path("o.yaml"), outputs="{head: ../../etc/passwd}")
    assert "not a relative path inside /out" in cli("run", "o.yaml", code=2).stderr
    write(Path("m.yaml"), "general: {task: job}\ntask: {command: ['true']}\n")
    assert "task.outputs: missing" in cli("run", "m.yaml", code=1).stderr


def test_a_job_output_is_a_tracked_artifact_not_a_derived_form(repo, cli):
    """Provenance with activity "job" marks an ordinary artifact: status, conversion and fair-check treat it so."""
    from hpcfair_vcs.ops.add import add
    from hpcfair_vcs.ops.derived import is_derived_form

    write(repo / "w.npz", b"weights")
    provenance = ProvenanceRecord(activity="job", derived_from=[], source_oids=[], generated_by={"tool": "hpcfair"})
    add(["w.npz"], name="w", kind="model", provenance=provenance)
    r = open_repo(repo)
    version = r.records.get(r.refs.get("w").head, VersionRecord)
    assert version.provenance and not is_derived_form(r, version)
    r.close()
    (repo / "w.npz.hpcfair").unlink()
    assert {e["artifact"]: e["state"] for e in cli.json("status")["entries"]}["w"] == "no pointer"
    assert [a["artifact"] for a in cli.json("fair-check")["artifacts"]] == ["w"]


def test_container_failures_name_exit_code_and_stderr_tail():
    from hpcfair_vcs.container.podman import ContainerSpec, Limits, _failure

    spec = ContainerSpec(image="0" * 64, command=["x"], limits=Limits(memory="2g"), what="the job")
    error = _failure(spec, 2, "line1\nline2\nTraceback\nValueError: nope\n")
    assert isinstance(error, ContainerFailedError) and error.returncode == 2
    assert "failed with exit code 2: ValueError: nope" in error.message and "line1" in error.details
    assert "out of memory at its limit of 2g" in _failure(spec, 137, "").message
    assert "containers_conf: system" in _failure(spec, 125, "Error: runc: not found").hint


def test_gpus_are_refused_where_there_is_no_cdi_specification(monkeypatch, tmp_path):
    from hpcfair_vcs.container import podman

    monkeypatch.setattr(podman, "CDI_DIRS", (tmp_path,))
    with pytest.raises(DeviceUnavailableError, match="no NVIDIA CDI"):
        podman.gpu_devices("all")
    write(tmp_path / "nvidia.yaml", "cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices: [{name: all}]\n")
    assert podman.gpu_devices("0,1") == ["nvidia.com/gpu=0", "nvidia.com/gpu=1"]
    assert podman.gpu_devices(None) == []
