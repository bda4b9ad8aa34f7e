"""Where downloaded models and transcoders live, and the one-line message when one is missing offline."""

from __future__ import annotations

import os
from pathlib import Path


def hub_cache_dir() -> str:
    """Where huggingface_hub looks for downloaded files (respects HF_HOME / HF_HUB_CACHE)."""
    try:
        from huggingface_hub import constants

        return str(constants.HF_HUB_CACHE)
    except Exception:  # noqa: BLE001 - only used in a message
        return os.path.expanduser("~/.cache/huggingface/hub")


def circuit_tracer_cache_dir() -> str:
    """circuit-tracer's converted transcoders (CIRCUIT_TRACER_CACHE_DIR, else ~/.cache/circuit_tracer)."""
    return os.environ.get("CIRCUIT_TRACER_CACHE_DIR") or os.path.expanduser("~/.cache/circuit_tracer")


def offline_hint(what: str, name: str, exc: BaseException | None = None) -> str:
    offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0", "false", "False")
    mode = "HF_HUB_OFFLINE=1 is set, so nothing is downloaded" if offline else "the download failed"
    reason = f" ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})" if exc and str(exc) else ""
    where = f"the Hugging Face cache {hub_cache_dir()}"
    if what == "transcoder set":
        where += f" and circuit-tracer's cache {circuit_tracer_cache_dir()}"
    return (
        f"{what} {name!r} is not on disk and could not be downloaded: {mode}{reason}. "
        f"Looked in {where}; download it there with network access (unset HF_HUB_OFFLINE), "
        "or pass a local folder"
    )


def model_on_disk(name: str) -> bool:
    """Whether model `name` is a folder or has a config in the local Hugging Face cache."""
    if Path(name).is_dir():
        return True
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(name, "config.json"), str)
    except Exception:  # noqa: BLE001 - not a valid repo id
        return False


def is_hub_error(exc: BaseException) -> bool:
    module = type(exc).__module__ or ""
    return module.startswith(("huggingface_hub", "requests", "urllib3", "httpx"))


def looks_like_path(ref: str) -> bool:
    return ref.startswith((".", "/", "~"))
