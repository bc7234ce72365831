"""Seconds from a command to the browser's window on screen (and, with --screenshot, to a settled window).

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/window_timing.py \
        [--runs 3] [--json benchmarks/window-timing.json] -- bash scripts/quickstart.sh app [ARGS...]

Starts the command, polls the X server (``xwininfo -root -tree``, every 20 ms) for a mapped
window named "INRet Browser" and records when it appears (``visible_s``: the window is on
screen and its event loop runs, since Qt maps it from there). ``main.py --screenshot PNG``
saves PNG once the store is open, the map computed and the window idle (no job, no render,
no thumbnail pending for three 100 ms polls in a row): ``settled_s`` is when PNG appears,
an upper bound on the time to a settled window by those 300 ms. The command then exits
(after the background imports of start-up end): ``exit_s``.
Otherwise the command is stopped ``--linger`` seconds after the window appeared. The load
average of the machine at the start of each run is recorded with it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

TITLE = "INRet Browser"


def window_mapped() -> bool:
    out = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True, check=False).stdout
    return any(TITLE in line and "x" in line for line in out.splitlines())


def screenshot_path(command: list[str]) -> Path | None:
    """The PNG a ``--screenshot PNG`` in ``command`` names, if any."""
    for k, arg in enumerate(command[:-1]):
        if arg == "--screenshot":
            return Path(command[k + 1])
    return None


def one_run(command: list[str], timeout_s: float, linger_s: float) -> dict:
    shot = screenshot_path(command)
    if shot is not None:
        shot.unlink(missing_ok=True)
    settled = None
    gone = time.perf_counter()
    while window_mapped() and time.perf_counter() - gone < 30:  # the last run's window must be gone first
        time.sleep(0.1)
    load = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    visible = None
    while time.perf_counter() - start < timeout_s:
        if visible is None and window_mapped():
            visible = time.perf_counter() - start
        if settled is None and shot is not None and shot.is_file():
            settled = time.perf_counter() - start
        if proc.poll() is not None:
            break
        if visible is not None and linger_s >= 0 and time.perf_counter() - start > visible + linger_s:
            break
        time.sleep(0.02)
    exited = proc.poll() is not None
    end = time.perf_counter() - start
    if not exited:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    return {"visible_s": None if visible is None else round(visible, 2),
            "settled_s": None if settled is None else round(settled, 2),
            "exit_s": round(end, 2) if exited else None, "returncode": proc.returncode if exited else None,
            "load_average_1min": round(load, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--linger", type=float, default=5.0,
                        help="seconds the window stays after it appeared, for a command that does not exit (-1: "
                             "wait for it)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--label", default="")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command after --")
    runs = []
    for k in range(args.runs):
        runs.append(one_run(command, args.timeout, args.linger))
        print(f"run {k + 1}: {runs[-1]}", flush=True)
    report = {"label": args.label, "command": " ".join(command), "runs": runs}
    if args.json:
        existing = json.loads(args.json.read_text()) if args.json.is_file() else []
        args.json.write_text(json.dumps([*existing, report], indent=1) + "\n")
    sys.exit(0)


if __name__ == "__main__":
    main()
