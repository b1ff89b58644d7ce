"""A real one-node Slurm on this machine for the scale-out tests: munged, slurmctld and slurmd as root.

Everything but munge's key lives in one folder: slurm.conf (its ports picked
free), state, spool and logs. ``SLURM_CONF`` points the Slurm commands, and so
dask-jobqueue's sbatch, at it. Debian's ``slurm-wlm`` and ``munge`` packages
provide the programs (tests/run.sh installs them).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from remotes.servers import free_port

PROGRAMS = ("munged", "slurmctld", "slurmd", "sbatch", "sinfo")
CONF = """\
ClusterName=hpcfair
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation={dir}/state
SlurmdSpoolDir={dir}/spool
SlurmctldPidFile={dir}/slurmctld.pid
SlurmdPidFile={dir}/slurmd.pid
SlurmctldLogFile={dir}/slurmctld.log
SlurmdLogFile={dir}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


def missing() -> list[str]:
    return [p for p in PROGRAMS if shutil.which(p) is None and not Path("/usr/sbin", p).exists()]


def _program(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


class SlurmCluster:
    """munged (if none runs), slurmctld and slurmd on 127.0.0.1; ``env`` has SLURM_CONF for the Slurm commands."""

    def __init__(self, folder: Path) -> None:
        self.dir = Path(folder)
        self.conf = self.dir / "slurm.conf"
        self.procs: list[subprocess.Popen] = []
        self.host = socket.gethostname().split(".")[0]

    @property
    def env(self) -> dict[str, str]:
        return {"SLURM_CONF": os.fspath(self.conf)}

    def start(self) -> "SlurmCluster":
        for sub in ("state", "spool"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        self.conf.write_text(CONF.format(host=self.host, ctld_port=free_port(), d_port=free_port(), dir=self.dir,
                                         cpus=os.cpu_count() or 1))
        self._munge()
        env = {**os.environ, **self.env}
        log = open(self.dir / "daemons.log", "ab")
        self.procs.append(subprocess.Popen([_program("slurmctld"), "-D", "-i", "-f", os.fspath(self.conf)],
                                           stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True))
        self.procs.append(subprocess.Popen([_program("slurmd"), "-D", "-N", self.host, "-f", os.fspath(self.conf)],
                                           stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True))
        self._wait_idle(env)
        return self

    def _munge(self) -> None:
        if subprocess.run(["pgrep", "-x", "munged"], capture_output=True).returncode == 0:
            return
        for folder in ("/run/munge", "/var/lib/munge", "/var/log/munge"):
            os.makedirs(folder, exist_ok=True)
        if not Path("/etc/munge/munge.key").exists():
            subprocess.run(["mungekey", "--create"], check=True, capture_output=True)
        subprocess.run([_program("munged"), "--force"], check=True, capture_output=True)

    def _wait_idle(self, env: dict[str, str], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc in self.procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"a Slurm daemon exited: {self.log_tail()}")
            done = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, env=env)
            if done.returncode == 0 and done.stdout.strip() in ("idle", "mixed", "allocated"):
                return
            time.sleep(0.5)
        raise RuntimeError(f"Slurm did not come up: {self.log_tail()}")

    def log_tail(self) -> str:
        text = "".join(p.read_text(errors="replace")[-1500:] for p in self.dir.glob("*.log"))
        return text[-3000:]

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs = []
