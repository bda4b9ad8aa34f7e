"""`trace --batch --runner ray`: a real local Ray instance with 2 CPU workers tracing demo-model prompts.

- the graphs are byte-identical to the local runner's apart from the times (both at one torch thread: CPU
  float sums depend on how many threads split them, so the local run is pinned to the workers' one thread);
- a worker killed (SIGKILL) mid-batch loses only its item, which is retried on another worker: every prompt
  ends with a complete, valid graph, and a rerun skips them all;
- a worker that cannot load its model is one error line, and so is `--runner ray` without Ray installed.
Each Ray test starts its own instance and shuts it down (the runner does; the fixture makes sure).
"""

from __future__ import annotations

import builtins
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.runners.ray_runner import plan_workers
from attrgraph_testing.cli import run_cli

_BUILTIN_PRINT = builtins.print


@pytest.fixture(autouse=True)
def _print_is_left_alone():
    """Ray's tqdm integration replaced `builtins.print` in the driver, which leaked into other tests'
    output (a refused pickle was then reported as `ray...safe_print`); the runner turns it off."""
    yield
    assert builtins.print is _BUILTIN_PRINT


PROMPTS = [
    {"prompt": "The capital of the state containing Dallas is"},
    {"prompt": "The capital of Texas is", "slug": "texas"},
    {"prompt": "Paris is the capital of"},
    {"prompt": "The opposite of hot is"},
    {"prompt": "The quick brown fox jumps over the"},
    {"prompt": "One two three four five"},
]
#: the fields that hold times: the trace record's start, durations and phase times, the creation time
TIMES = re.compile(rb'"create_time_ms":\d+|"started":"[^"]*"|"duration_s":[-+.\deE]+|"wall_time_s":\{[^}]*\}')


def _demo_available() -> bool:
    try:
        from attrgraph_cli import demo_model

        demo_model.demo_model_dir()
        import circuit_tracer  # noqa: F401
    except Exception:  # noqa: BLE001 - no trace extra or no demo model in this checkout
        return False
    return True


needs_ray = [
    pytest.mark.ray,
    pytest.mark.trace,
    pytest.mark.slow,
    pytest.mark.xdist_group("ray"),
    pytest.mark.skipif(not _demo_available(), reason="needs the trace extra and the demo model"),
]


def ray_test(fn):
    for mark in reversed(needs_ray):
        fn = mark(fn)
    return fn


@pytest.fixture
def ray_mod():
    """Ray, shut down after the test whatever happened (the runner shuts down what it started)."""
    ray = pytest.importorskip("ray")
    yield ray
    if ray.is_initialized():
        ray.shutdown()


@pytest.fixture
def one_torch_thread():
    torch = pytest.importorskip("torch")
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


def _batch_file(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "prompts.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _trace(*args: str):
    return run_cli("trace", *args, "--device", "cpu", "-q")


def _graphs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.json")) if p.name != "batch-report.json"}


# ---- the acceptance tests ---------------------------------------------------------------------------
@ray_test
@pytest.mark.usefixtures("one_torch_thread")
def test_ray_outputs_match_the_local_runner(tmp_path, ray_mod):
    batch = _batch_file(tmp_path, PROMPTS[:4])
    local = _trace("--batch", str(batch), "-o", str(tmp_path / "local"))
    assert local.code == 0, local.stderr
    on_ray = _trace("--batch", str(batch), "-o", str(tmp_path / "ray"), "--runner", "ray", "--workers", "2")
    assert on_ray.code == 0, on_ray.stderr
    assert not ray_mod.is_initialized()  # the instance the command started is shut down

    local_graphs, ray_graphs = _graphs(tmp_path / "local"), _graphs(tmp_path / "ray")
    assert sorted(local_graphs) == sorted(ray_graphs) and len(ray_graphs) == 4
    for name, data in ray_graphs.items():
        assert TIMES.sub(b"T", data) == TIMES.sub(b"T", local_graphs[name]), name
        assert len(TIMES.findall(data)) == 4  # what was masked: exactly the four time fields

    report = json.loads((tmp_path / "ray" / "batch-report.json").read_text())
    assert [i["status"] for i in report["items"]] == ["done"] * 4
    assert [i["slug"] for i in report["items"]] == [i["slug"] for i in _report_items(tmp_path / "local")]
    runner = report["runner"]
    assert runner["name"] == "ray" and runner["started_local"] is True
    assert runner["plan"] == {"workers": 2, "device": "cpu", "num_cpus": 1, "num_gpus": 0}
    # both workers were launched; one that was still loading its model when the other had finished every
    # item is reported as unready (on a loaded 2-core machine that happens), never silently dropped
    assert runner["workers"] and set(runner["workers"]).isdisjoint(runner["unready"])
    assert set(runner["workers"]) | set(runner["unready"]) == {"w0", "w1"}
    assert set(runner["ran_on"]) == {i["slug"] for i in report["items"]}
    assert set(runner["ran_on"].values()) <= set(runner["workers"])
    assert runner["lost"] == [] and runner["retried"] == []

    # a rerun skips every prompt without starting Ray
    again = _trace("--batch", str(batch), "-o", str(tmp_path / "ray"), "--runner", "ray", "--workers", "2")
    assert again.code == 0, again.stderr
    assert [i["status"] for i in _report_items(tmp_path / "ray")] == ["skipped"] * 4
    assert _graphs(tmp_path / "ray") == ray_graphs


def _report_items(folder: Path) -> list[dict]:
    return json.loads((folder / "batch-report.json").read_text())["items"]


@ray_test
def test_a_killed_worker_loses_only_its_item(tmp_path, ray_mod):
    from attrgraph_cli.models import ModelRequest
    from attrgraph_cli.runners.ray_runner import RayRunner
    from attrgraph_cli.trace.batch import plan, read_batch, trace_work
    from attrgraph_cli.trace.engine import TraceOptions

    batch = _batch_file(tmp_path, PROMPTS)
    out = tmp_path / "graphs"
    out.mkdir()
    items = plan(read_batch(batch), out)
    killed: list[tuple[str, str]] = []
    done = threading.Event()

    def kill_the_first_busy_worker(runner) -> None:
        # polled, not checked between outcomes: when one worker loads slowly, the other may run every item
        # and be idle at each outcome (the CI failure of the sibling test)
        while not done.is_set() and not killed:
            try:
                busy = runner.busy_workers()
            except (RuntimeError, AttributeError):  # changed while read (an item just ended): look again
                busy = {}
            if busy:
                name, (pid, slug) = sorted(busy.items())[0]
                if pid is not None:
                    os.kill(pid, signal.SIGKILL)
                    killed.append((name, slug))
                    return
            time.sleep(0.02)

    with RayRunner(trace_work(ModelRequest(device="cpu")), workers=2, device="cpu") as runner:
        killer = threading.Thread(target=kill_the_first_busy_worker, args=(runner,), daemon=True)
        killer.start()
        try:
            outcomes = list(runner.map(items, TraceOptions()))
        finally:
            done.set()
            killer.join()
        stats = runner.stats
    assert killed, "no worker was busy while the batch ran"
    assert not ray_mod.is_initialized()
    assert sorted(o.index for o in outcomes) == list(range(len(PROMPTS)))
    assert [o.status for o in outcomes] == ["done"] * len(PROMPTS), [o.message for o in outcomes]
    assert [lost["worker"] for lost in stats.lost] == [killed[0][0]]
    assert stats.retried == [killed[0][1]]  # the item it was running went to another worker, once
    assert stats.ran_on[killed[0][1]] != killed[0][0]

    for item in items:
        result = run_cli("validate", str(item.json_path))
        assert result.code == 0, (item.slug, result.stdout, result.stderr)
        assert json.loads(item.json_path.read_text())["metadata"]["slug"] == item.slug
    assert not list(out.glob("*.tmp*")) and not list(out.glob(".*"))  # no half-written file left behind

    rerun = _trace("--batch", str(batch), "-o", str(out), "--runner", "ray", "--workers", "2")
    assert rerun.code == 0, rerun.stderr
    assert [i["status"] for i in _report_items(out)] == ["skipped"] * len(PROMPTS)


@ray_test
def test_a_worker_that_cannot_load_its_model_is_one_error_line(tmp_path, ray_mod):
    batch = _batch_file(tmp_path, PROMPTS[:1])
    result = _trace(
        "--batch", str(batch), "-o", str(tmp_path / "o"), "--runner", "ray", "--workers", "1",
        "--model", str(tmp_path / "no-such-model"),
    )  # fmt: skip
    assert result.code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("attrgraph: error: no Ray worker")
    assert "does not exist" in result.stderr
    assert not ray_mod.is_initialized()
    assert not list((tmp_path / "o").glob("*.json"))


# ---- without starting Ray ---------------------------------------------------------------------------
BLOCK_RAY = """
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "ray":
            raise ModuleNotFoundError("blocked: ray")
sys.meta_path.insert(0, _Block())
sys.argv = ["attrgraph", *sys.argv[1:]]
from attrgraph_cli.cli import main
main()
"""


def test_runner_ray_without_ray_says_how_to_install_it(tmp_path):
    if not _demo_available():
        pytest.skip("needs the trace extra (ray is checked after it)")
    batch = _batch_file(tmp_path, PROMPTS[:1])
    args = ["trace", "--batch", str(batch), "-o", str(tmp_path / "o"), "--runner", "ray", "-q"]
    proc = subprocess.run(
        [sys.executable, "-c", BLOCK_RAY, *args], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 2
    assert proc.stderr == "attrgraph: error: --runner ray needs Ray, which is not installed: " \
        "pip install 'attrgraph[ray]'\n"  # fmt: skip
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--runner", "spark"], "unknown --runner 'spark': use local or ray"),
        (["--workers", "2"], "--ray-address and --workers apply to --runner ray"),
        (["--ray-address", "auto"], "--ray-address and --workers apply to --runner ray"),
        (["--runner", "ray", "--workers", "0"], "--workers must be at least 1"),
    ],
)
def test_runner_options_are_checked(tmp_path, args, message):
    batch = _batch_file(tmp_path, PROMPTS[:1])
    result = run_cli("trace", "--batch", str(batch), "-o", str(tmp_path / "o"), *args)
    assert result.code == 2
    assert result.stderr == f"attrgraph: error: {message}\n"


def test_runner_ray_needs_a_batch(tmp_path):
    result = run_cli("trace", "hello", "-o", str(tmp_path / "g.json"), "--runner", "ray")
    assert result.code == 2
    assert result.stderr == "attrgraph: error: --runner ray applies to --batch FILE\n"


@pytest.mark.parametrize(
    "resources, device, workers, expected",
    [
        ({"CPU": 16, "GPU": 4}, "auto", None, (4, "cuda", 1, 1, None)),
        ({"CPU": 16, "GPU": 4}, "cuda", 2, (2, "cuda", 1, 1, None)),
        ({"CPU": 16, "GPU": 4}, "cpu", 3, (3, "cpu", 1, 0, 1)),
        ({"CPU": 2}, "auto", None, (2, "cpu", 1, 0, 1)),
        ({"CPU": 8}, "auto", 2, (2, "cpu", 1, 0, 1)),
    ],
)
def test_plan_workers(resources, device, workers, expected):
    plan = plan_workers(resources, device, workers)
    assert (plan.count, plan.device, plan.num_cpus, plan.num_gpus, plan.threads) == expected


@pytest.mark.parametrize(
    "resources, device, workers, message",
    [
        ({"CPU": 8}, "cuda", None, "the Ray cluster has no GPU"),
        ({"CPU": 8, "GPU": 2}, "auto", 3, "--workers 3 but the Ray cluster has 2 GPU(s)"),
        ({"CPU": 2}, "cpu", 3, "--workers 3 needs 3 CPUs but the Ray cluster has 2"),
        ({"CPU": 2}, "mps", None, "--device must be auto, cpu or cuda"),
    ],
)
def test_plan_workers_refuses_what_the_cluster_cannot_hold(resources, device, workers, message):
    with pytest.raises(AttrgraphError, match=re.escape(message)):
        plan_workers(resources, device, workers)


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    "address, message",
    [
        ("127.0.0.1:{port}", "cannot reach the Ray cluster at 127.0.0.1:{port} ("),
        ("ray://127.0.0.1:{port}", "cannot reach the Ray cluster at ray://127.0.0.1:{port} ("),
        ("nonsense", "--ray-address 'nonsense': give auto, HOST:PORT or ray://HOST:PORT"),
    ],
)
def test_an_unreachable_ray_address_is_one_line_not_a_hang(tmp_path, ray_mod, address, message):
    if not _demo_available():
        pytest.skip("needs the trace extra")
    port = _closed_port()
    batch = _batch_file(tmp_path, PROMPTS[:1])
    args = ["--batch", str(batch), "-o", str(tmp_path / "o"), "--runner", "ray"]
    result = _trace(*args, "--ray-address", address.format(port=port))
    assert result.code == 2
    assert result.stderr.startswith(f"attrgraph: error: {message.format(port=port)}")
    assert result.stderr.count("\n") == 1
    assert not ray_mod.is_initialized()


# ---- the runner is generic: any plan item and task (how `intervene` plans will plug in) ---------------
@dataclass(frozen=True)
class ToyItem:
    index: int
    slug: str
    out: Path
    skip: bool = False


@dataclass
class ToyOutcome:
    index: int
    slug: str
    status: str
    message: str = ""


def toy_setup(device: str, threads: int | None) -> dict:
    return {"device": device, "threads": threads, "pid": os.getpid()}


def toy_task(state: dict, item: ToyItem, options: str) -> ToyOutcome:
    if item.slug == "poison":
        os._exit(1)  # the worker process dies, as an out-of-memory kill would end it
    if item.slug == "bug":
        raise ValueError("a bug in the task")
    from attrgraph_cli.io.atomic import atomic_write_text

    atomic_write_text(item.out, json.dumps({"slug": item.slug, "options": options, **state}))
    return ToyOutcome(item.index, item.slug, "done")


def toy_failed(item: ToyItem, message: str) -> ToyOutcome:
    return ToyOutcome(item.index, item.slug, "failed", message)


def toy_skipped(item: ToyItem) -> ToyOutcome:
    return ToyOutcome(item.index, item.slug, "skipped")


@pytest.mark.ray
@pytest.mark.slow
@pytest.mark.xdist_group("ray")
def test_any_task_plugs_in_and_a_twice_fatal_item_fails_alone(tmp_path, ray_mod):
    from attrgraph_cli.runners import Work
    from attrgraph_cli.runners.ray_runner import RayRunner

    ray_mod.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests/
    slugs = ["a", "poison", "b", "bug", "c", "d", "done-before"]
    items = [ToyItem(i, s, tmp_path / f"{s}.json", skip=s == "done-before") for i, s in enumerate(slugs)]
    work = Work(setup=toy_setup, task=toy_task, failed=toy_failed, skipped=toy_skipped)
    with RayRunner(work, workers=2, device="cpu") as runner:
        outcomes = {o.slug: o for o in runner.map(items, "opts")}
    stats = runner.stats
    assert not ray_mod.is_initialized()
    assert {s: o.status for s, o in outcomes.items()} == {
        "a": "done", "poison": "failed", "b": "done", "bug": "failed", "c": "done", "d": "done",
        "done-before": "skipped",
    }  # fmt: skip
    assert outcomes["poison"].message.startswith("its worker died twice")
    assert outcomes["bug"].message == "ValueError: a bug in the task"  # a task error: no retry
    assert stats.retried == ["poison"] and len(stats.lost) == 2
    for slug in "abcd":
        doc = json.loads((tmp_path / f"{slug}.json").read_text())
        assert doc["options"] == "opts" and doc["device"] == "cpu" and doc["threads"] == 1
        assert doc["pid"] != os.getpid()  # written by a worker process
    assert not (tmp_path / "poison.json").exists() and not (tmp_path / "done-before.json").exists()


def test_the_live_display_shows_every_worker_and_the_throughput():
    from rich.console import Console

    from attrgraph_cli.runners.display import BatchDisplay

    display = BatchDisplay(3, console=Console(record=True, width=120, force_terminal=False), what="prompts")
    for name in ("w0", "w1"):
        display.worker_starting(name)
    display.worker_ready("w0", "node-a pid 11 cpu")
    display.started("w0", "dallas")
    display.worker_ready("w1", "node-b pid 12 cuda")
    display.started("w1", "</script>[red]texas")  # item names are printed as text, never as markup
    display.finished("w0", ToyOutcome(0, "dallas", "done"))
    display.worker_lost("w1", "killed")
    display.retrying("</script>[red]texas", "w1")
    display.finished(None, ToyOutcome(1, "</script>[red]texas", "failed", "its worker died twice"))
    display.console.print(display)
    text = display.console.export_text()
    assert "1 done, 1 failed, 0 running, 1 retried" in text and "prompts/min" in text
    assert re.search(r"w0\s+node-a pid 11 cpu\s+idle\s+1\s+0", text)
    assert re.search(r"w1\s+node-b pid 12 cuda\s+dead\s+killed\s+0\s+0", text)
    assert "[2/3] </script>[red]texas: FAILED its worker died twice" in text
    assert display.done == 1 and display.failed == 1 and display.retried == 1
