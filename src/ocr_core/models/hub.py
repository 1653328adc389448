"""Can a model be had from here, decided fast: a local folder, then the Hugging Face cache, then the hub only
when it can be reached (one bounded connection attempt, through $HTTPS_PROXY when set), so an unknown or
uncached model fails in well under a second offline instead of after 30 s of hub retries.

Failures are `ocr_core.models.hub.ModelUnavailableError`, one line naming the embedded and tiny models, a local
folder and `HF_HOME` as the ways out.
"""

from __future__ import annotations

import difflib
import functools
import os
import socket
import threading
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

from ocr_core.errors import UserError

T = TypeVar("T")
_TRUE = {"1", "ON", "YES", "TRUE"}


class ModelUnavailableError(UserError, RuntimeError):
    """A model could not be found or fetched; the message says what to do instead."""


def hub_offline() -> bool:
    """Whether the environment says not to use the network (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE)."""
    return any(os.environ.get(v, "").upper() in _TRUE for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _hub_address() -> tuple[str, int]:
    """Host and port a download would connect to first: the proxy for the endpoint's scheme, else the endpoint."""
    endpoint = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    scheme = endpoint.scheme or "https"
    host = endpoint.hostname or "huggingface.co"
    port = endpoint.port or (80 if scheme == "http" else 443)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(scheme) or proxies.get("all")
    if proxy and not urllib.request.proxy_bypass(host):
        via = urlparse(proxy if "://" in proxy else f"http://{proxy}")
        default = 1080 if via.scheme.startswith("socks") else 443 if via.scheme == "https" else 80
        return via.hostname or "localhost", via.port or default
    return host, port


@functools.cache
def _can_connect(host: str, port: int, timeout: float) -> bool:
    """One TCP connection attempt, name lookup included, abandoned after `timeout` s; remembered per process."""
    outcome: list[bool] = []

    def attempt() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                outcome.append(True)
        except OSError:
            outcome.append(False)

    thread = threading.Thread(target=attempt, daemon=True)  # getaddrinfo ignores socket timeouts
    thread.start()
    thread.join(timeout)
    return bool(outcome and outcome[0])


def hub_reachable(timeout: float = 1.0) -> bool:
    """Whether the Hugging Face hub can be reached the way a download would go: False at once when offline
    by environment, else one connection attempt bounded by `timeout` seconds."""
    return not hub_offline() and _can_connect(*_hub_address(), timeout)


def _known_names() -> list[str]:
    from ocr_core.models.presets import EMBEDDED, PAPER_MODELS, TINY_MODELS

    return [*EMBEDDED, *TINY_MODELS, *PAPER_MODELS]


def alternatives() -> str:
    """What works without the hub (one sentence)."""
    from ocr_core.models.presets import EMBEDDED, TINY_MODELS

    return (
        f"Embedded models (no network needed): {', '.join(EMBEDDED)}; tiny random models: "
        f"{', '.join(TINY_MODELS)}; your own model: pass its local folder (with config.json), or download "
        "it once where the hub can be reached and point HF_HOME at that cache"
    )


def _cache_folder() -> str:
    from huggingface_hub import constants

    return constants.HF_HUB_CACHE


def unavailable_message(name: str) -> str:
    """Why `name` cannot be had from here and what to use instead (one line)."""
    close = difflib.get_close_matches(name, _known_names(), n=1, cutoff=0.6)
    guess = f" (did you mean {close[0]!r}?)" if close and close[0] != name else ""
    return (
        f"model {name!r}{guess} is not an embedded or tiny model, not a local folder and not in the Hugging Face "
        f"cache ({_cache_folder()}), and the hub cannot be reached from here. {alternatives()}"
    )


def _valid_hub_id(name: str) -> bool:
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(name)
    except HFValidationError:
        return False
    return True


def in_hf_cache(name: str) -> bool:
    """Whether the Hugging Face cache holds `name`'s config (no network)."""
    from huggingface_hub import try_to_load_from_cache

    return _valid_hub_id(name) and isinstance(try_to_load_from_cache(name, "config.json"), str)


def check_model(name: str) -> None:
    """Raise `ModelUnavailableError` unless `name` names a model this machine can get, as far as can be told
    without loading it: embedded, tiny, one of the paper's models (their results may come from a GPU machine;
    loading one still needs its files), a local model folder, a model in the Hugging Face cache, or any hub id
    when the hub can be reached. Fast without a network (see the module docstring)."""

    if name in _known_names():
        return
    local = Path(name).expanduser()
    if local.exists():
        if not (local / "config.json").is_file():
            raise ModelUnavailableError(f"{name!r} is a local path but not a model folder (no config.json in it)")
        return
    if not _valid_hub_id(name):
        raise ModelUnavailableError(
            f"model {name!r} is not a known model, no such local folder exists and it is not a valid Hugging Face "
            f"id. {alternatives()}"
        )
    if not (in_hf_cache(name) or hub_reachable()):
        raise ModelUnavailableError(unavailable_message(name))


def _first_line(err: BaseException) -> str:
    return next((line for line in str(err).splitlines() if line.strip()), type(err).__name__)


def from_local_or_hub(name: str, load: Callable[..., T]) -> T:
    """`load(source, **options)` from the local folder `name`, else from the Hugging Face cache
    (`local_files_only=True`), else from the hub if it can be reached; any failure is a `ModelUnavailableError`
    saying what to do instead."""

    local = Path(name).expanduser()
    if name and local.exists():
        try:
            return load(local)
        except OSError as err:
            raise ModelUnavailableError(f"could not load the local folder {name!r}: {_first_line(err)}") from err
    try:
        return load(name, local_files_only=True)
    except OSError:
        pass
    if not hub_reachable():
        raise ModelUnavailableError(unavailable_message(name)) from None
    try:
        return load(name)
    except OSError as err:
        raise ModelUnavailableError(
            f"could not load {name!r} from the hub ({_first_line(err)}). {alternatives()}"
        ) from err
