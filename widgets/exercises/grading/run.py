"""Run a submission's cells in its sandboxed kernel, one by one, and read its answers.

The grader's own execute loop (jupyter_client, not nbclient): each code cell is sent in order,
as "Run All" would, stopping at the first error. After a cell that checks an exercise, the grader
evaluates the check's argument in the kernel with a short request of its own and takes back its
value as JSON: a number, a string, None, or the repr of anything else. Nothing else the kernel
holds is read. So an answer checked before a hang, a crash or a cap is already in the grader's
hands when the run stops; the run is stopped by killing the kernel (not interrupting it, which
a loop may ignore), and the reason is kept in plain words.
"""

from __future__ import annotations

import ast
import json
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from queue import Empty
from typing import Any

import zmq
from nbformat.v4 import output_from_msg

from widgets.core.units import GIB, MIB

from .cells import Cell
from .judge import Unreadable
from .sandbox import Limits, Sandbox

START_TIMEOUT_S = 60  # for the kernel to start (torch is not imported yet)
PROBE_TIMEOUT_S = 10  # for the grader's request after a check cell
IDLE_GRACE_S = 2  # after a cell's reply, for the rest of its output
POLL_S = 0.05
OUTPUTS = {"stream", "display_data", "execute_result", "error"}  # kept in the executed notebook

# the answer as JSON: None, a string, a number (after .item() for a tensor), else {"repr": ...}
PROBE = (
    "__import__('json').dumps((lambda v, n=__import__('numbers'): None if v is None or v is ... "
    "else v if isinstance(v, str) else (lambda x: float(x) if isinstance(x, n.Real) and not "
    "isinstance(x, bool) else {{'repr': __import__('reprlib')"
    ".repr(v)}})(v.item() if callable(getattr(v, 'item', None)) else v))(({expression})))"
)


@dataclass
class Run:
    """What the grader took from one run: the last answer to each exercise, and why it stopped."""

    answers: dict[tuple[str, str], Any] = field(default_factory=dict)  # (lab, name) -> value
    unread: dict[tuple[str, str], str] = field(default_factory=dict)  # checked, value unreadable
    stopped: str = ""  # '' if every cell ran, else what stopped the run, in plain words
    stopped_at: int = 0  # the number of the cell that stopped it (0: before the first)
    outputs: dict[int, list[Any]] = field(default_factory=dict)  # cell number -> its outputs


class Stop(Exception):
    """The run ends at cell `number`; the message says why."""

    def __init__(self, message: str, number: int = 0) -> None:
        super().__init__(message)
        self.number = number


def run(cells: Sequence[Cell], sandbox: Sandbox, kernel_name: str = "python3") -> Run:
    """Run the cells in a new kernel in `sandbox`, reading each checked answer after its cell."""
    result = Run()
    limits = sandbox.limits
    context = zmq.Context()
    context.setsockopt(zmq.MAXMSGSIZE, limits.output_bytes + MIB)  # a bigger message is dropped
    manager = sandbox.kernel_manager(kernel_name)
    client = None
    log_path = sandbox.folder / "kernel.log"
    deadline = time.monotonic() + limits.timeout_s
    try:
        with open(log_path, "wb") as log:
            manager.start_kernel(stdout=log, stderr=log, cwd=str(sandbox.folder / "work"))
        client = manager.client(context=context)
        client.start_channels()
        try:
            client.wait_for_ready(timeout=min(START_TIMEOUT_S, limits.timeout_s))
        except RuntimeError:
            tail = log_path.read_text(errors="replace")[-500:].strip()
            raise Stop(f"the kernel did not start{': ' + tail if tail else ''}") from None
        kernel = _Kernel(manager, client, limits, deadline)
        counts: dict[str, int] = {}
        for cell in cells:
            outputs = result.outputs.setdefault(cell.number, [])
            problem = kernel.execute(cell, outputs)
            if cell.checks:
                _read_answers(kernel, cell, not problem, counts, result)
            if problem:
                raise Stop(problem, cell.number)
    except Stop as stop:
        result.stopped, result.stopped_at = str(stop), stop.number
    finally:
        if client is not None:
            client.stop_channels()
        if manager.has_kernel:
            manager.shutdown_kernel(now=True)  # SIGKILL to bwrap: its PID namespace goes with it
        context.destroy(linger=0)
    return result


class _Kernel:
    """The grader's side of one running kernel: every message it sends counts against the
    output cap, whatever request (or background thread) it comes from."""

    def __init__(self, manager: Any, client: Any, limits: Limits, deadline: float) -> None:
        self.manager, self.client, self.limits, self.deadline = manager, client, limits, deadline
        self.printed = 0
        self.cell = 0  # the number of the cell run last, for the reasons

    def execute(self, cell: Cell, outputs: list[Any]) -> str:
        """Run one cell, appending its outputs (as nbformat outputs) to `outputs`: '' if it
        ran, what went wrong if it raised; Stop if the kernel must go."""
        self.cell = cell.number
        msg_id = self.client.execute(cell.source, allow_stdin=False, stop_on_error=True)
        reply: dict[str, Any] | None = None
        replied_at = 0.0
        idle = False
        last_alive_check = 0.0
        while not (reply and idle):
            now = time.monotonic()
            if now > self.deadline:
                limit = f"{self.limits.timeout_s:g} s for the notebook"
                raise Stop(f"cell {cell.number} still ran at the time limit ({limit})", cell.number)
            if reply is not None and now - replied_at > IDLE_GRACE_S:
                raise self._over_cap()  # its last output was dropped: bigger than the cap
            if now - last_alive_check > 0.5:
                last_alive_check = now
                if not self.manager.is_alive():
                    why = _death(self.manager, self.limits)
                    raise Stop(f"the kernel died in cell {cell.number} ({why})", cell.number)
            message = self._output(msg_id)
            if message is not None and message["msg_type"] == "status":
                idle |= message["content"]["execution_state"] == "idle"
            elif message is not None and message["msg_type"] in OUTPUTS:
                outputs.append(output_from_msg(message))
            if reply is None:
                reply = self.reply(msg_id, timeout=0)
                replied_at = time.monotonic()
        return _problem(cell, reply["content"], self.limits)

    def ask(self, expressions: dict[str, str]) -> dict[str, Any]:
        """The kernel's results for `expressions` (user_expressions), {} if it does not answer
        within PROBE_TIMEOUT_S."""
        msg_id = self.client.execute(
            "", silent=True, store_history=False, user_expressions=expressions, stop_on_error=False
        )
        end = time.monotonic() + PROBE_TIMEOUT_S
        while time.monotonic() < end:
            self._output(msg_id)
            reply = self.reply(msg_id, timeout=0)
            if reply is not None:
                return reply["content"].get("user_expressions", {})
        return {}

    def reply(self, msg_id: str, timeout: float) -> dict[str, Any] | None:
        """The shell reply to `msg_id` if it arrives within `timeout`; others are skipped."""
        end = time.monotonic() + timeout
        while True:
            try:
                message = self.client.get_shell_msg(timeout=max(end - time.monotonic(), 0))
            except Empty:
                return None
            if message["parent_header"].get("msg_id") == msg_id:
                return message

    def _output(self, msg_id: str) -> dict[str, Any] | None:
        """The next IOPub message if it answers `msg_id`, after counting it against the cap."""
        try:
            message = self.client.get_iopub_msg(timeout=POLL_S)
        except Empty:
            return None
        self.printed += len(json.dumps(message["content"], default=str))
        self.printed += sum(len(buffer) for buffer in message.get("buffers", []))
        if self.printed > self.limits.output_bytes:
            raise self._over_cap()
        return message if message["parent_header"].get("msg_id") == msg_id else None

    def _over_cap(self) -> Stop:
        cap = _size(self.limits.output_bytes)
        return Stop(f"cell {self.cell} printed more than {cap} of output (the cap)", self.cell)


def _problem(cell: Cell, content: dict[str, Any], limits: Limits) -> str:
    """'' for a cell that ran, else what went wrong, in plain words."""
    if content["status"] == "ok":
        return ""
    if content["status"] != "error":
        return f"cell {cell.number} was not run ({content['status']})"
    error = f"{content.get('ename', 'Error')}: {str(content.get('evalue', ''))[:300]}"
    if _out_of_memory(content):
        cap = _size(limits.memory_bytes)
        return f"cell {cell.number} ran out of memory (the cap is {cap}): {error}"
    return f"cell {cell.number} raised {error}"


def _read_answers(
    kernel: _Kernel, cell: Cell, completed: bool, counts: dict[str, int], result: Run
) -> None:
    """After a check cell: each check's answer, if its check ran: the exercise's count of checks
    changed (or, if the count cannot be read, the cell ran to its end)."""
    expressions = {}
    for index, check in enumerate(cell.checks):
        expressions[f"value{index}"] = PROBE.format(expression=check.expression)
        expressions[f"checks{index}"] = f"({check.target}).record.checks"
    values = kernel.ask(expressions)
    before = dict(counts)
    for index, check in enumerate(cell.checks):
        key = (check.lab, check.exercise)
        count = _literal(values.get(f"checks{index}"))
        if isinstance(count, int):
            ran = count != before.get(check.target, 0)
            counts[check.target] = count
        else:
            ran = completed
        value = values.get(f"value{index}", {})
        if not ran:
            continue
        if value.get("status") != "ok":
            why = f"{value.get('ename', 'no reply')}: {value.get('evalue', '')}".rstrip(": ")
            result.unread[key] = (
                f"the grader could not read the answer `{check.expression}` after cell "
                f"{cell.number} ({why})"
            )
            result.answers.pop(key, None)
            continue
        result.unread.pop(key, None)
        result.answers[key] = _answer(_literal(value))


def _literal(value: dict[str, Any] | None) -> Any:
    """The Python literal an expression's text/plain shows, or None."""
    try:
        return ast.literal_eval(value["data"]["text/plain"])  # type: ignore[index]
    except (KeyError, TypeError, ValueError, SyntaxError, MemoryError, RecursionError):
        return None


def _answer(text: Any) -> Any:
    """The answer the PROBE's JSON describes."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return Unreadable(repr(text))
    if isinstance(value, dict):
        return Unreadable(str(value.get("repr", "")))
    return value


def _out_of_memory(content: dict[str, Any]) -> bool:
    text = f"{content.get('ename', '')} {content.get('evalue', '')}"
    return any(s in text for s in ("MemoryError", "can't allocate memory", "Cannot allocate"))


def _death(manager: Any, limits: Limits) -> str:
    """Why the kernel process ended, from its exit status."""
    process = getattr(manager.provisioner, "process", None)
    code = process.poll() if process is not None else None
    if code is None:
        return "no exit status"
    number = -code if code < 0 else code - 128 if code > 128 else 0
    if number == signal.SIGXCPU:
        return f"its CPU time ran out: the cap is {limits.cpu_s:g} s"
    if number == signal.SIGKILL:
        return "killed by SIGKILL, e.g. out of memory"
    if number:
        return f"killed by {signal.Signals(number).name}"
    return f"it exited with code {code}, e.g. os._exit() or a crash"


def _size(count: float) -> str:
    return f"{count / GIB:g} GiB" if count >= GIB else f"{count / MIB:g} MiB"
