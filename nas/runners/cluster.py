"""Joining a Ray cluster started with `ray start`, and keeping Ray's output off the driver's stdout.

`check_address(address)` is the preflight of a cluster address (``--ray-address`` or RAY_ADDRESS),
run before anything is written. Within `BUDGET_S` (25 s) it tells apart, in one line that names the
fix: an address that is not host:port or whose host does not resolve; a port nothing answers on
(refused, unreachable, timed out); a TCP peer that is not Ray's GCS (an HTTP server, a socket that
says nothing, one that hangs up: Ray's own client would retry it for 40 s); and a GCS that refuses
this driver's authentication token. Ray 2.60's `ray start` turns token authentication on: every node
and the driver need ``RAY_AUTH_MODE=token`` and the head's token (``RAY_AUTH_TOKEN``, or the file
named by ``RAY_AUTH_TOKEN_PATH``, default ``~/.ray/auth_token``); a driver without it is refused
after Ray's 20 s of retries with a message that never says why. The GCS check runs Ray's own
`GcsClient` in a child process (bounded, its warnings dropped), with this process's environment.

`quiet_driver()` (undone by `restore_driver()`), while a driver is connected: the messages Ray's
listener thread prints to stdout (a dead node's raylet: ~40 lines of its log) go to stderr as one
line each, anything else a non-main thread writes to stdout goes to stderr (so ``--json`` stays
valid JSON whatever Ray prints), and Tune's traceback of a failed (then retried) trial becomes one
line per failure (the full text stays in Ray's logs).
"""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
from typing import Any

from search_spaces import InputError

BUDGET_S = 25.0  # the whole preflight: under the 30 s a user should wait for a bad address
CONNECT_TIMEOUT_S = 5.0  # TCP connect
ANSWER_TIMEOUT_S = 3.0  # the peer's first HTTP/2 frame
GCS_TIMEOUT_S = 12.0  # Ray's GcsClient in a child process (importing Ray included)
GCS_PORT_HINT = ("the address is the head's GCS port, the one `ray start --head --port` was given "
                 "(6379 by default; 8265 is the dashboard)")
TOKEN_HINT = ("set RAY_AUTH_MODE=token and give this driver the head's token: RAY_AUTH_TOKEN=<token>, or a file "
              "named by RAY_AUTH_TOKEN_PATH (default ~/.ray/auth_token); `ray get-auth-token` on the head prints it")
HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])  # + an empty SETTINGS
_GCS_PROBE = """
import sys
try:
    from ray._raylet import GcsClient
    GcsClient(address=sys.argv[1])
    print("ok", flush=True)
except Exception as error:
    print(type(error).__name__ + ": " + (str(error).splitlines() or [""])[0], flush=True)
"""


def split_address(address: str) -> tuple[str, int]:
    """(host, port) of "host:port" (a ray:// prefix, brackets around an IPv6 host allowed)."""
    target = address.split("://", 1)[-1].rstrip("/")
    host, _, port = target.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"Ray address must be host:port (or 'auto'), got {address!r}")
    return host, int(port)


_PASSED: dict[tuple[str, str, str, str], float] = {}  # (address, auth env) -> when it passed
PASSED_FOR_S = 120.0  # (the CLI's preflight and the connect right after it check once)


def check_address(address: str, budget: float = BUDGET_S) -> None:
    """Raise InputError (one line: what is at fault and the fix) unless `address` is a Ray cluster
    this driver can join: its GCS answers and accepts this process's authentication token."""
    key = (address, *(os.environ.get(name, "") for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH")))
    if time.monotonic() - _PASSED.get(key, -PASSED_FOR_S) < PASSED_FOR_S:
        return
    _check_address(address, budget)
    _PASSED[key] = time.monotonic()


def _check_address(address: str, budget: float) -> None:
    deadline = time.monotonic() + budget
    host, port = split_address(address)
    addresses = _resolve(address, host, port, min(CONNECT_TIMEOUT_S, budget))
    with _connect(address, addresses, port, deadline) as peer:
        if address.startswith("ray://"):  # Ray Client (its own protocol): reachability is all that is checked
            return
        _check_answers_http2(address, peer, deadline)
    _check_gcs(address, deadline)


def _left(deadline: float, most: float) -> float:
    return max(0.5, min(most, deadline - time.monotonic()))


def _resolve(address: str, host: str, port: int, timeout: float) -> list[Any]:
    """The host's socket addresses (name resolution bounded by `timeout`)."""
    found: list[Any] = []
    failure: list[OSError] = []

    def lookup() -> None:
        try:
            found.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as error:
            failure.append(error)

    thread = threading.Thread(target=lookup, daemon=True)
    thread.start()
    thread.join(timeout)
    if failure or not found:
        why = (failure[0].strerror or str(failure[0])) if failure else f"no answer in {timeout:g} s"
        raise InputError(f"cannot reach the Ray cluster at {address}: host {host!r} does not resolve ({why}); "
                         "check the address (the head's IP or host name, and its GCS port)")
    return found


class _connect:
    """A TCP connection to the first of `addresses` that accepts (a context manager)."""

    def __init__(self, address: str, addresses: list[Any], port: int, deadline: float) -> None:
        self.address, self.addresses, self.port, self.deadline = address, addresses, port, deadline

    def __enter__(self) -> socket.socket:
        error: OSError | None = None
        for family, kind, proto, _, sockaddr in self.addresses:
            self.sock = socket.socket(family, kind, proto)
            self.sock.settimeout(_left(self.deadline, CONNECT_TIMEOUT_S))
            try:
                self.sock.connect(sockaddr)
                return self.sock
            except OSError as caught:
                error = caught
                self.sock.close()
        why = "timed out" if isinstance(error, TimeoutError) else (error.strerror if error and error.strerror
                                                                     else str(error))
        hint = (f"nothing listens on port {self.port} there: is `ray start --head --port {self.port}` running on "
                "that host?" if isinstance(error, ConnectionRefusedError) else
                f"is the host up, and port {self.port} open to this machine (firewall, security group)?")
        raise InputError(f"cannot reach the Ray cluster at {self.address}: {why} ({hint})")

    def __exit__(self, *exc: Any) -> None:
        self.sock.close()


def _check_answers_http2(address: str, peer: socket.socket, deadline: float) -> None:
    """Ray's GCS is a gRPC (HTTP/2) server: it answers the HTTP/2 preface with a SETTINGS frame."""
    timeout = _left(deadline, ANSWER_TIMEOUT_S)
    peer.settimeout(timeout)
    first = b""
    try:
        peer.sendall(HTTP2_PREFACE)
        while len(first) < 9:
            chunk = peer.recv(9 - len(first))
            if not chunk:
                break
            first += chunk
    except TimeoutError:
        if not first:
            raise InputError(f"cannot join the Ray cluster at {address}: it accepts connections but says nothing in "
                             f"{timeout:g} s, which Ray's GCS would; {GCS_PORT_HINT}") from None
    except OSError:
        pass  # (reset: judged below by what came back)
    if len(first) == 9 and first[3] == 4:  # a SETTINGS frame
        return
    what = ("an HTTP/1 server answers" if first.startswith((b"HTTP/", b"<")) else
            "it hung up without a word" if not first else f"it answers {first[:9]!r}")
    raise InputError(f"cannot join the Ray cluster at {address}: not Ray's GCS ({what}); {GCS_PORT_HINT}")


def _check_gcs(address: str, deadline: float) -> None:
    """Ask the GCS for the cluster ID with Ray's own client, as `ray.init` will (same environment,
    so the same authentication token), in a child process killed at the deadline."""
    target = address.split("://", 1)[-1].rstrip("/")
    timeout = _left(deadline, GCS_TIMEOUT_S)
    try:
        done = subprocess.run([sys.executable, "-c", _GCS_PROBE, target], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise InputError(f"cannot join the Ray cluster at {address}: it speaks HTTP/2 but no Ray GCS answered in "
                         f"{timeout:g} s; {GCS_PORT_HINT}") from None
    answer = (done.stdout.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
    if answer == "ok":
        return
    if answer.startswith("AuthenticationError") or "Unauthenticated" in answer or "InvalidAuthToken" in answer:
        raise InputError(f"cannot join the Ray cluster at {address}: authentication refused: {token_problem()}")
    raise InputError(f"cannot join the Ray cluster at {address}: no Ray GCS answers there ({answer}); {GCS_PORT_HINT}")


def token_problem() -> str:
    """Why the cluster refused this driver's token, from the environment Ray reads it from."""
    mode = os.environ.get("RAY_AUTH_MODE", "")
    if mode.lower() != "token":
        told = f"RAY_AUTH_MODE is {mode!r}" if mode else "RAY_AUTH_MODE is not set"
        return f"the cluster requires a token and this driver sends none ({told}); {TOKEN_HINT}"
    source = token_source()
    if source is None:
        return ("RAY_AUTH_MODE=token but no token is set: put the head's token in RAY_AUTH_TOKEN or in a file named "
                "by RAY_AUTH_TOKEN_PATH (default ~/.ray/auth_token); `ray get-auth-token` on the head prints it")
    return (f"the token from {source} is not this cluster's; use the head's (`ray get-auth-token` on the head "
            "prints it) in RAY_AUTH_TOKEN or the file named by RAY_AUTH_TOKEN_PATH")


def token_source() -> str | None:
    """Where Ray takes this process's token from (RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH, ~/.ray/auth_token)."""
    if os.environ.get("RAY_AUTH_TOKEN", "").strip():
        return "RAY_AUTH_TOKEN"
    path = os.environ.get("RAY_AUTH_TOKEN_PATH")
    if path:
        return f"RAY_AUTH_TOKEN_PATH ({path})" if os.path.isfile(os.path.expanduser(path)) else None
    default = os.path.expanduser("~/.ray/auth_token")
    return default if os.path.isfile(default) else None


# --- Ray's output while a driver is connected ---------------------------------------------------

TUNE_LOGGER = "ray.tune.execution.tune_controller"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LOG_TAIL = re.compile(r"\s*Last \d+ lines of the \w+ logs:.*$")


class _Quiet:
    printer: Any = None  # Ray's original ray._private.worker.print_to_stdstream
    stdout: Any = None  # the sys.stdout replaced by a _MainThreadStdout
    last: tuple[str, float] = ("", 0.0)


def one_line(text: str, most: int = 300) -> str:
    """The first non-empty line of `text`, colours and a trailing "Last N lines of the ... logs:" cut."""
    lines = [line.strip() for line in _ANSI.sub("", str(text)).splitlines() if line.strip()]
    first = _LOG_TAIL.sub("", lines[0]) if lines else ""
    return first if len(first) <= most else first[: most - 3] + "..."


def _print_to_stderr(data: dict[str, Any], ignore_prefix: bool = False) -> None:
    """Ray's print_to_stdstream, redirected: Ray's error messages (pid "raylet") one line each on stderr
    (a repeat within 10 s dropped), workers' output (log_to_driver) to stderr as it is."""
    if data.get("pid") != "raylet":
        _Quiet.printer(dict(data, is_err=True), ignore_prefix)
        return
    for text in data.get("lines", []):
        line = f"(raylet) {one_line(text)} (full text in Ray's logs)"
        now = time.monotonic()
        if _Quiet.last[0] == line and now - _Quiet.last[1] < 10:
            continue
        _Quiet.last = (line, now)
        print(line, file=sys.stderr, flush=True)


class _MainThreadStdout:
    """sys.stdout whose writes from threads other than the main one (Ray's) go to stderr."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def _target(self) -> Any:
        return self._stream if threading.current_thread() is threading.main_thread() else sys.stderr

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _OneLineTrialErrors(logging.Filter):
    """Tune's "Trial task failed for trial ..." ERROR with its traceback → one line, no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("Trial task failed") and record.exc_info:
            error = record.exc_info[1]
            record.msg = "%s: %s: %s (retried while retries remain; full text in Ray's logs)"
            record.args = (message, type(error).__name__, one_line(str(error)))
            record.exc_info = record.exc_text = None
        return True


_TRIAL_ERRORS = _OneLineTrialErrors()


def quiet_driver() -> None:
    """Keep Ray's output off this driver's stdout, and its trial tracebacks to one line (until
    `restore_driver()`); what Ray does not have where it is patched is left as it is."""
    logging.getLogger(TUNE_LOGGER).addFilter(_TRIAL_ERRORS)
    try:
        from ray._private import worker
    except ImportError:
        worker = None
    if worker is not None and _Quiet.printer is None and callable(getattr(worker, "print_to_stdstream", None)):
        _Quiet.printer, worker.print_to_stdstream = worker.print_to_stdstream, _print_to_stderr
    if _Quiet.stdout is None and not isinstance(sys.stdout, _MainThreadStdout):
        _Quiet.stdout, sys.stdout = sys.stdout, _MainThreadStdout(sys.stdout)


def restore_driver() -> None:
    """Undo `quiet_driver()`."""
    logging.getLogger(TUNE_LOGGER).removeFilter(_TRIAL_ERRORS)
    if _Quiet.printer is not None:
        from ray._private import worker

        worker.print_to_stdstream, _Quiet.printer = _Quiet.printer, None
    if _Quiet.stdout is not None:
        if isinstance(sys.stdout, _MainThreadStdout):
            sys.stdout = _Quiet.stdout
        _Quiet.stdout = None
