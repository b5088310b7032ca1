#!/usr/bin/env python3
"""Benchmark: a generated portfolio of N copies of the example shop spec x 4 states, offline.

Reports wall time per trial and in total, peak memory of the harness process (excluding Chromium)
and of Chromium (proportional set size summed over its processes), `--list` time for 500 specs, and the same visits done by
a plain playwright-core script (bench/plain-playwright.mjs) in the same run: the ratio
consent-gates / plain script is the figure to drive down.

Usage: bench/portfolio.py [--sizes 1,10,50] [--threads 2]   (run ./scripts/setup first)
Prints a Markdown section for BENCHMARKS.md.
"""
import argparse
import json
import os
import pathlib
import re
import shutil
import subprocess
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
WORK = ROOT / "target" / "bench"


def build_binary():
    out = subprocess.run(
        ["cargo", "test", "--release", "--test", "specs", "--no-run", "--message-format=json"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("target", {}).get("name") == "specs" \
                and msg.get("executable"):
            return msg["executable"]
    raise SystemExit("cannot find the specs test binary")


def make_portfolio(n, name, smart=False):
    """n copies of specs/shop.yaml under target/bench/<name>/specs (inside the repository, so the
    spec's paths stay inside it); `smart` turns on smart settling (timing.min_quiet_ms)."""
    base = WORK / name
    shutil.rmtree(base, ignore_errors=True)
    (base / "specs").mkdir(parents=True)
    text = (ROOT / "specs" / "shop.yaml").read_text()
    text = text.replace("../examples/", "../../../../examples/")
    if smart:
        text += "timing:\n  min_quiet_ms: 100\n"
    for i in range(n):
        (base / "specs" / f"shop-{i:03}.yaml").write_text(text)
    return base


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            m = re.search(r"VmRSS:\s+(\d+)", f.read())
            return int(m.group(1)) if m else 0
    except OSError:
        return 0


def pss_kb(pid):
    """Proportional set size: shared pages split between the processes sharing them, so that a
    sum over Chromium's processes does not count its shared libraries many times."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            m = re.search(r"^Pss:\s+(\d+)", f.read(), re.M)
            return int(m.group(1)) if m else 0
    except OSError:
        return 0


def descendants(pid):
    children = {}
    for p in pathlib.Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            ppid = int(re.search(r"PPid:\s+(\d+)", (p / "status").read_text()).group(1))
            comm = (p / "comm").read_text().strip()
        except (OSError, AttributeError):
            continue
        children.setdefault(ppid, []).append((int(p.name), comm))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child[0])
    return out


def run_measured(cmd, env):
    """Runs cmd; samples the RSS of the process itself and of its Chromium descendants."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = {"harness": 0, "chromium": 0}
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak["harness"] = max(peak["harness"], rss_kb(proc.pid))
            chrome = sum(pss_kb(p) for p, comm in descendants(proc.pid) if "chrom" in comm)
            peak["chromium"] = max(peak["chromium"], chrome)
            done.wait(0.1)

    t = threading.Thread(target=sample)
    t.start()
    proc.wait()
    done.set()
    t.join()
    return time.monotonic() - started, peak, proc.returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1,10,50")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    binary = build_binary()
    env = dict(os.environ, CI="true")
    env.setdefault("PLAYWRIGHT_DRIVER_PATH", str(ROOT / "node_modules" / ".playwright-driver"))
    rows = []
    variants = [(n, smart) for n in [int(s) for s in args.sizes.split(",")] for smart in (False, True)]
    for n, smart in variants:
        base = make_portfolio(n, f"portfolio-{n}{'-smart' if smart else ''}", smart)
        run_env = dict(env, CONSENT_GATES_SPECS=str(base / "specs" / "*.yaml"),
                       CONSENT_GATES_SNAPSHOTS=str(base / "snapshots"),
                       CONSENT_GATES_OUT=str(base / "out"))
        wall, peak, _code = run_measured([binary, "--test-threads", str(args.threads)], run_env)
        results = json.loads((base / "out" / "results.json").read_text())["trials"]
        verdicts = {t["verdict"] for t in results}
        per_trial = sorted(t["duration_ms"] for t in results)
        if not smart:
            plain_started = time.monotonic()
            subprocess.run(["node", "bench/plain-playwright.mjs", str(n), str(args.threads)],
                           cwd=ROOT, check=True, capture_output=True, text=True)
            plain_wall = time.monotonic() - plain_started
        rows.append({
            "specs": n, "settle": "smart" if smart else "quiet", "trials": len(results), "verdicts": ",".join(sorted(verdicts)),
            "wall_s": wall, "per_trial_median_ms": per_trial[len(per_trial) // 2],
            "per_trial_max_ms": per_trial[-1], "wall_per_trial_ms": wall * 1000 / len(results),
            "harness_peak_mb": peak["harness"] / 1024, "chromium_peak_mb": peak["chromium"] / 1024,
            "plain_wall_s": plain_wall, "ratio": wall / plain_wall,
        })
    listing = make_portfolio(500, "list-500")
    list_env = dict(env, CONSENT_GATES_SPECS=str(listing / "specs" / "*.yaml"))
    started = time.monotonic()
    listed = subprocess.run([binary, "--list"], cwd=ROOT, env=list_env, check=True,
                            capture_output=True, text=True).stdout
    list_s = time.monotonic() - started
    count = sum(1 for line in listed.splitlines() if line.endswith(": test"))

    print(f"Threads: {args.threads}; release build; every trial offline; snapshots not committed "
          "(each trial's snapshot is `new`, its consent verdict is what counts).\n")
    print("| specs | settle | trials | verdicts | wall (s) | wall per trial (ms) | trial median / max (ms) "
          "| harness peak RSS (MB) | Chromium peak PSS (MB) | plain script (s) | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['specs']} | {r['settle']} | {r['trials']} | {r['verdicts']} | {r['wall_s']:.1f} | "
              f"{r['wall_per_trial_ms']:.0f} | {r['per_trial_median_ms']} / {r['per_trial_max_ms']} | "
              f"{r['harness_peak_mb']:.0f} | {r['chromium_peak_mb']:.0f} | {r['plain_wall_s']:.1f} | "
              f"{r['ratio']:.2f} |")
    print(f"\n`--list` over 500 specs ({count} trials): {list_s:.2f} s")


if __name__ == "__main__":
    main()
