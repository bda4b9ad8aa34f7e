"""`RayRunner`: a batch on Ray actors, one per GPU (or per CPU worker), each set up (model loaded) once.

- Start: `ray.init(address="local")` starts a private local instance (small object store, no dashboard) that
  `close()` shuts down; `address="auto"` joins the cluster this machine belongs to; `ray://HOST:10001` or
  `HOST:6379` a given one. A Ray already initialised in this process (a notebook, a test) is reused as is.
- Workers: with GPUs in the cluster (and `--device auto` or `cuda`) one actor per GPU (`num_gpus=1`,
  device `cuda`: Ray gives each actor its own GPU through CUDA_VISIBLE_DEVICES); otherwise `workers` CPU
  actors (`num_cpus=cpus_per_worker`, torch limited to that many threads).
- Back-pressure: each worker holds at most one item; the rest wait in the driver and go to the next free
  worker, so a slow item never queues others behind it and nothing piles up in the object store.
- A worker that dies (killed process, out-of-memory kill, lost node) loses only its current item: the item
  goes back to the head of the queue for another worker, once; a second death reports it failed. A dead
  worker is replaced by a fresh one (at most as many replacements as workers) and the batch goes on.
Outputs are written by the task in the worker, atomically, at the paths the plan gave: on a cluster the
output folder must be shared storage that every node sees at the same absolute path.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
from collections import deque
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from typing import Any

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.runners import Work
from attrgraph_cli.runners.display import BatchDisplay

INSTALL_HINT = "pip install 'attrgraph[ray]'"
#: object store of a local instance: outcomes are a few hundred bytes, so a small one is plenty
DEFAULT_OBJECT_STORE_MB = int(os.environ.get("ATTRGRAPH_RAY_OBJECT_STORE_MB", "100"))
#: seconds to wait for the first worker to be ready (model loaded) before giving up
START_TIMEOUT_S = float(os.environ.get("ATTRGRAPH_RAY_START_TIMEOUT", "900"))


def require_ray() -> Any:
    """The `ray` module, or a one-line error saying how to install it.

    Ray's tqdm integration replaces `builtins.print` in the driver process (`RAY_TQDM_PATCH_PRINT`);
    attrgraph has its own progress display and must not change the caller's `print`, so it is turned off.
    """
    os.environ.setdefault("RAY_TQDM_PATCH_PRINT", "0")
    try:
        import ray
    except ImportError:
        raise AttrgraphError(f"--runner ray needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


@dataclass(frozen=True)
class WorkerPlan:
    """How many actors, and what each one asks of Ray."""

    count: int
    device: str  # "cpu" | "cuda"
    num_cpus: float
    num_gpus: float
    threads: int | None


def plan_workers(
    resources: dict[str, float], device: str, workers: int | None, cpus_per_worker: int = 1
) -> WorkerPlan:
    """One actor per GPU when the cluster has GPUs and the device allows it, else `workers` CPU actors."""
    gpus, cpus = int(resources.get("GPU", 0)), int(resources.get("CPU", 0))
    device = device.lower()
    if device.startswith("cuda") and gpus < 1:
        raise AttrgraphError(f"--device {device} was asked for but the Ray cluster has no GPU")
    if device not in ("auto", "cpu") and not device.startswith("cuda"):
        raise AttrgraphError(f"with --runner ray, --device must be auto, cpu or cuda, not {device!r}")
    if gpus >= 1 and device != "cpu":
        count = workers or gpus
        if count > gpus:
            raise AttrgraphError(
                f"--workers {count} but the Ray cluster has {gpus} GPU(s): one worker per GPU"
            )
        return WorkerPlan(count, "cuda", 1, 1, None)
    count = workers or max(1, cpus // cpus_per_worker)
    if count * cpus_per_worker > cpus:
        raise AttrgraphError(
            f"--workers {count} needs {count * cpus_per_worker} CPUs but the Ray cluster has {cpus}"
        )
    return WorkerPlan(count, "cpu", cpus_per_worker, 0, cpus_per_worker)


def cap_local_workers(
    workers: int | None, resources: dict[str, float], device: str, cpus_per_worker: int = 1
) -> tuple[int | None, str]:
    """`--workers` for a Ray instance started on this machine: at most one per GPU (when GPUs run the
    work), else at most one per `cpus_per_worker` of this machine's CPUs. Returns (workers, a note saying
    so when capped, else "")."""
    if workers is None:
        return None, ""
    gpus, cpus = int(resources.get("GPU", 0)), int(resources.get("CPU", 0))
    if gpus >= 1 and device.lower() != "cpu":
        limit, have = gpus, f"{gpus} GPU(s)"
    else:
        limit, have = max(1, cpus // cpus_per_worker), f"{cpus} CPU(s)"
    if workers <= limit:
        return workers, ""
    return limit, f"--workers {workers} capped at {limit}: this machine has {have}"


def machine_cpus() -> int:
    """CPUs this process may run on (the affinity mask, which containers and taskset narrow)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class _Worker:
    """The actor: runs `work.setup` once (a set-up error is kept and reported, not raised), then the task."""

    def __init__(self, work: Work, device: str, threads: int | None) -> None:
        self.work = work
        self.error: str | None = None
        self.state: Any = None
        self.where = f"{socket.gethostname()} pid {os.getpid()} {device}"
        try:
            with redirect_stdout(sys.stderr):  # library prints stay out of the driver's stdout
                self.state = work.setup(device, threads)
        except Exception as exc:  # noqa: BLE001 - reported by ready()
            self.error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__

    def ready(self) -> tuple[str, int, str | None]:
        return self.where, os.getpid(), self.error

    def run(self, item: Any, options: Any) -> Any:
        with redirect_stdout(sys.stderr):
            return self.work.task(self.state, item, options)


@dataclass
class _Slot:
    name: str
    actor: Any
    pid: int | None = None
    where: str = ""
    item: Any = None


@dataclass
class RayStats:
    """What the batch report says about the Ray side of a run."""

    address: str = ""
    started_local: bool = False
    init_s: float = 0.0
    first_ready_s: float | None = None
    all_ready_s: float | None = None
    plan: dict[str, Any] = field(default_factory=dict)
    workers: dict[str, str] = field(default_factory=dict)
    lost: list[dict[str, str]] = field(default_factory=list)
    retried: list[str] = field(default_factory=list)
    ran_on: dict[str, str] = field(default_factory=dict)  # slug -> worker that finished it
    #: workers still loading their model when the batch ended (the others took every item first)
    unready: list[str] = field(default_factory=list)
    #: e.g. "--workers 64 capped at 2: this machine has 2 CPU(s)" (a local instance only)
    capped: str = ""


class RayRunner:
    """Maps `work.task` over planned items on Ray actors; use as a context manager (or call `close()`)."""

    def __init__(
        self,
        work: Work,
        *,
        address: str | None = None,
        workers: int | None = None,
        device: str = "auto",
        cpus_per_worker: int = 1,
        display: BatchDisplay | None = None,
        object_store_mb: int = DEFAULT_OBJECT_STORE_MB,
    ) -> None:
        if workers is not None and workers < 1:
            raise AttrgraphError("--workers must be at least 1")
        self.ray = require_ray()
        self.work = work
        self.address = address
        self.workers = workers
        self.device = device
        self.cpus_per_worker = cpus_per_worker
        self.display = display or BatchDisplay(0, quiet=True)
        self.object_store_mb = object_store_mb
        self.stats = RayStats()
        self._owns_ray = False
        self._plan: WorkerPlan | None = None
        self._actor_cls: Any = None
        self._slots: dict[str, _Slot] = {}
        self._free: list[_Slot] = []
        self._starting: dict[Any, _Slot] = {}
        self._replacements_left = 0
        self._t0 = 0.0

    # ---- start and stop -------------------------------------------------------------------------------
    def __enter__(self) -> RayRunner:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def start(self) -> None:
        """Connect to (or start) Ray and launch the workers; they load the model while `map` begins."""
        ray = self.ray
        self._t0 = time.perf_counter()
        if ray.is_initialized():
            self.stats.address = "(this process's Ray)"
        else:
            where = "a local Ray instance" if not self.address else f"the Ray cluster at {self.address}"
            self.display.phase = f"starting {where}" if not self.address else f"joining {where}"
            self._init()
        self.stats.init_s = time.perf_counter() - self._t0
        resources = ray.cluster_resources()
        if self._owns_ray and not self.address:  # started here: this machine's CPUs/GPUs bound --workers
            self.workers, self.stats.capped = cap_local_workers(
                self.workers, resources, self.device, self.cpus_per_worker
            )
            if self.stats.capped:
                self.display.log(self.stats.capped)
        self._plan = plan_workers(resources, self.device, self.workers, self.cpus_per_worker)
        self.stats.plan = {
            "workers": self._plan.count,
            "device": self._plan.device,
            "num_cpus": self._plan.num_cpus,
            "num_gpus": self._plan.num_gpus,
        }
        self._actor_cls = ray.remote(_Worker).options(
            num_cpus=self._plan.num_cpus, num_gpus=self._plan.num_gpus, max_restarts=0, max_task_retries=0
        )
        self._replacements_left = self._plan.count
        self.display.phase = (
            f"{self._plan.count} worker(s) ({self._plan.device}) setting up (loading the model)"
        )
        for i in range(self._plan.count):
            self._launch(f"w{i}")

    def _init(self) -> None:
        ray = self.ray
        common = {
            "include_dashboard": False,
            "log_to_driver": False,
            "logging_level": logging.ERROR,
            "ignore_reinit_error": True,
        }
        address = self.address or "local"
        try:
            if address == "local":
                cpu = self.device.lower() == "cpu"
                cpus = machine_cpus()  # not --workers: 64 workers on 2 CPUs only overload the machine
                ray.init(
                    address="local",
                    num_cpus=cpus,
                    num_gpus=0 if cpu else None,
                    object_store_memory=self.object_store_mb * 1024 * 1024,
                    **common,
                )
            else:
                probe_address(address)
                ray.init(address=address, **common)
        except AttrgraphError:
            raise
        except Exception as exc:  # noqa: BLE001 - ConnectionError, ValueError, RaySystemError...
            where = (
                "start a local Ray instance" if address == "local" else f"join the Ray cluster at {address}"
            )
            raise AttrgraphError(f"cannot {where}: {one_line(exc)}") from None
        self._owns_ray = True
        self.stats.started_local = address == "local"
        self.stats.address = address

    def _launch(self, name: str) -> None:
        assert self._plan is not None
        actor = self._actor_cls.remote(self.work, self._plan.device, self._plan.threads)
        slot = _Slot(name, actor)
        self._slots[name] = slot
        self._starting[actor.ready.remote()] = slot
        self.display.worker_starting(name)

    def close(self) -> None:
        """Stop every worker; shut Ray down when this runner started or joined it."""
        ray = self.ray
        self.stats.unready = sorted(slot.name for slot in self._starting.values())
        for slot in self._slots.values():
            try:
                ray.kill(slot.actor, no_restart=True)
            except Exception:  # noqa: BLE001 - already dead
                pass
        self._slots.clear()
        self._free.clear()
        self._starting.clear()
        if self._owns_ray and ray.is_initialized():
            ray.shutdown()
        self._owns_ray = False

    # ---- introspection (the display, tests) ---------------------------------------------------------
    def busy_workers(self) -> dict[str, tuple[int | None, str]]:
        """Workers running an item now: name -> (process id, item slug)."""
        return {s.name: (s.pid, s.item.slug) for s in self._slots.values() if s.item is not None}

    # ---- the loop -----------------------------------------------------------------------------------
    def map(self, items: list[Any], options: Any) -> Iterator[Any]:
        """Yield one outcome per item (skipped ones first), the others as they finish."""
        ray = self.ray
        pending: deque[Any] = deque()
        for item in items:
            if item.skip:
                yield self.work.skipped(item)
            else:
                pending.append(item)
        if not pending:
            return
        if self._plan is None:
            self.start()
        deaths: dict[int, int] = {}
        inflight: dict[Any, _Slot] = {}
        while pending or inflight:
            while self._free and pending:
                slot, item = self._free.pop(0), pending.popleft()
                slot.item = item
                inflight[slot.actor.run.remote(item, options)] = slot
                self.display.started(slot.name, item.slug)
            if not inflight and not self._starting:
                reason = "no worker is left (every worker died or failed to start)"
                for item in pending:
                    outcome = self.work.failed(item, reason)
                    self.display.finished(None, outcome)
                    yield outcome
                return
            ready, _ = ray.wait([*inflight, *self._starting], num_returns=1, timeout=1.0)
            if not ready:
                self._check_start_timeout()
                continue
            ref = ready[0]
            if ref in self._starting:
                self._worker_ready(ref)
                continue
            slot = inflight.pop(ref)
            item, slot.item = slot.item, None
            try:
                outcome = ray.get(ref)
            except ray.exceptions.RayTaskError as exc:  # the task itself raised: a bug, not a dead worker
                outcome = self.work.failed(item, one_line(getattr(exc, "cause", None) or exc))
            except _death_errors(ray) as exc:
                self._worker_lost(slot, _death_reason(exc))
                deaths[item.index] = deaths.get(item.index, 0) + 1
                if deaths[item.index] < 2:
                    self.stats.retried.append(item.slug)
                    self.display.retrying(item.slug, slot.name)
                    pending.appendleft(item)
                    continue
                outcome = self.work.failed(item, f"its worker died twice (last: {_death_reason(exc)})")
                self.display.finished(None, outcome)
                yield outcome
                continue
            self._free.append(slot)
            self.stats.ran_on[item.slug] = slot.name
            self.display.finished(slot.name, outcome)
            yield outcome

    def _worker_ready(self, ref: Any) -> None:
        slot = self._starting.pop(ref)
        try:
            where, pid, error = self.ray.get(ref)
        except _death_errors(self.ray) as exc:
            self._worker_lost(slot, f"died while starting ({_death_reason(exc)})", replace=False)
            return
        if error is not None:
            self._worker_lost(slot, f"set-up failed: {error}", replace=False)
            if not self._free and not self._starting and not any(s.item for s in self._slots.values()):
                raise AttrgraphError(f"no Ray worker could start: {error}")
            return
        slot.pid, slot.where = pid, where
        self.stats.workers[slot.name] = where
        elapsed = time.perf_counter() - self._t0
        if self.stats.first_ready_s is None:
            self.stats.first_ready_s = elapsed
        if not self._starting and self.stats.all_ready_s is None:
            self.stats.all_ready_s = elapsed
        self._free.append(slot)
        self.display.worker_ready(slot.name, where)

    def _worker_lost(self, slot: _Slot, reason: str, replace: bool = True) -> None:
        self.stats.lost.append({"worker": slot.name, "where": slot.where, "reason": reason})
        self.display.worker_lost(slot.name, reason)
        self._slots.pop(slot.name, None)
        if slot in self._free:
            self._free.remove(slot)
        try:
            self.ray.kill(slot.actor, no_restart=True)
        except Exception:  # noqa: BLE001 - already gone
            pass
        if replace and self._replacements_left > 0:
            self._replacements_left -= 1
            base, _, gen = slot.name.partition(".")
            self._launch(f"{base}.{int(gen or 1) + 1}")

    def _check_start_timeout(self) -> None:
        if self.stats.first_ready_s is None and time.perf_counter() - self._t0 > START_TIMEOUT_S:
            raise AttrgraphError(
                f"no Ray worker was ready after {START_TIMEOUT_S:.0f} s: does the cluster have the resources "
                f"asked for ({self.stats.plan})? (ATTRGRAPH_RAY_START_TIMEOUT changes the wait)"
            )


def probe_address(address: str, timeout: float = 5.0) -> None:
    """A `HOST:PORT` (or `ray://HOST:PORT`) nothing listens on: one error line, not Ray's endless retries."""
    if address == "auto":
        return
    hostport = address.removeprefix("ray://").rsplit("/", 1)[0]
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit():
        raise AttrgraphError(f"--ray-address {address!r}: give auto, HOST:PORT or ray://HOST:PORT")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as exc:
        raise AttrgraphError(
            f"cannot reach the Ray cluster at {address} ({exc.strerror or type(exc).__name__}): is "
            "`ray start --head` running there?"
        ) from None


def _death_errors(ray: Any) -> tuple[type[BaseException], ...]:
    names = ("RayActorError", "WorkerCrashedError", "OutOfMemoryError", "NodeDiedError", "ObjectLostError")
    return tuple(getattr(ray.exceptions, n) for n in names if hasattr(ray.exceptions, n))


def _death_reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    for line in text:  # Ray's messages start with a generic line; the cause follows
        if "killed" in line.lower() or "memory" in line.lower() or "exit" in line.lower():
            return line.strip()[:200]
    return (text[0] if text else type(exc).__name__)[:200]
