"""Starting the workspace: one uvicorn server on 127.0.0.1 (by default) with a fresh token, printed as one URL;
and the same server in a background thread, for the browser tests and the README screenshot."""
from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass

from pipeline.core.errors import PipelineError
from pipeline.workspace.app import LOOPBACK_HOSTS, create_app, new_token
from pipeline.workspace.session import Workspace

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8765


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def free_port(host: str, wanted: int) -> int:
    """``wanted`` if it can be bound on ``host``, else any free port (0 asks for any)."""
    for port in ([wanted] if wanted else []) + [0]:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise PipelineError(f"cannot listen on {host}: no free port")


@dataclass
class Running:
    url: str  # with the token: what the user opens
    base: str  # without it
    token: str
    server: object
    thread: threading.Thread | None = None

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)


def build(workspace: Workspace, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          token: str | None = None) -> Running:
    import uvicorn

    token = token or new_token()
    port = free_port(host, port)
    hosts = LOOPBACK_HOSTS if is_loopback(host) else ["*"]
    app = create_app(workspace, token, allowed_hosts=hosts)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    return Running(f"{base}/?token={token}", base, token, uvicorn.Server(config))


def serve_until_interrupted(running: Running, ready) -> None:
    """Run the server (in a thread, so ``ready()`` is called only once it accepts connections) until Ctrl+C."""
    _start(running)
    try:
        ready()
        while running.thread.is_alive():
            running.thread.join(timeout=0.5)
    except KeyboardInterrupt:
        running.stop()


def start_in_thread(workspace: Workspace, host: str = DEFAULT_HOST, port: int = 0) -> Running:
    """The server running in a daemon thread (``.stop()`` ends it); returns once it accepts connections."""
    return _start(build(workspace, host, port))


def _start(running: Running) -> Running:
    running.thread = threading.Thread(target=running.server.run, daemon=True)
    running.thread.start()
    deadline = time.monotonic() + 30
    while not getattr(running.server, "started", False):
        if time.monotonic() > deadline or not running.thread.is_alive():
            raise RuntimeError("the workspace server did not start")
        time.sleep(0.05)
    return running
