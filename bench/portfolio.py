#!/usr/bin/env python3
"""Benchmark: a generated portfolio of N copies of the example shop spec x 4 states, offline.

Reports the suite's wall time, each trial's median and p95 wall time, peak memory of the harness
process (excluding Chromium) and of Chromium (proportional set size summed over its processes),
`--list` time for 500 specs, and the same visits done in the same run by a plain playwright-core
script (bench/plain-playwright.mjs) with equal semantics: waiting the controlled clock's horizon
(30 s without a request) in real time after each action, which is what a plain script must do to see
the same delayed requests; and, for reference, with the old 500 ms quiet rule.

Usage: bench/portfolio.py [--sizes 1,10,50] [--horizon-sizes 1,10,50] [--threads 2] [--debug]
(run ./scripts/setup first). --horizon-sizes limits the plain script waiting the horizon (about
2.5 min of waiting per trial) to the sizes given. Prints a Markdown section for BENCHMARKS.md.
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


def build_binary(release=True):
    out = subprocess.run(
        ["cargo", "test", *(["--release"] if release else []), "--test", "specs", "--no-run",
         "--message-format=json"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("target", {}).get("name") == "specs" \
                and msg.get("executable"):
            return msg["executable"]
    raise SystemExit("cannot find the specs test binary")


def make_portfolio(n, name):
    """n copies of specs/shop.yaml under target/bench/<name>/specs (inside the repository, so the
    spec's paths stay inside it)."""
    base = WORK / name
    shutil.rmtree(base, ignore_errors=True)
    (base / "specs").mkdir(parents=True)
    text = (ROOT / "specs" / "shop.yaml").read_text()
    text = text.replace("../examples/", "../../../../examples/")
    for i in range(n):
        (base / "specs" / f"shop-{i:03}.yaml").write_text(text)
    return base


def percentile(sorted_ms, p):
    """Nearest-rank percentile of a sorted list."""
    k = max(0, min(len(sorted_ms) - 1, -(-p * len(sorted_ms) // 100) - 1))
    return sorted_ms[k]


def plain(n, threads, quiet_ms):
    started = time.monotonic()
    out = subprocess.run(["node", "bench/plain-playwright.mjs", str(n), str(threads), str(quiet_ms)],
                         cwd=ROOT, check=True, capture_output=True, text=True).stdout
    wall = time.monotonic() - started
    durations = sorted(json.loads(out.strip().splitlines()[-1])["durations_ms"])
    return wall, durations


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
    ap.add_argument("--horizon-sizes", default="1,10,50")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--debug", action="store_true", help="use the debug build (no release build)")
    args = ap.parse_args()
    binary = build_binary(release=not args.debug)
    env = dict(os.environ, CI="true")
    env.setdefault("PLAYWRIGHT_DRIVER_PATH", str(ROOT / "node_modules" / ".playwright-driver"))
    horizon_sizes = {int(s) for s in args.horizon_sizes.split(",") if s}
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        base = make_portfolio(n, f"portfolio-{n}")
        run_env = dict(env, CONSENT_GATES_SPECS=str(base / "specs" / "*.yaml"),
                       CONSENT_GATES_SNAPSHOTS=str(base / "snapshots"),
                       CONSENT_GATES_OUT=str(base / "out"))
        load = os.getloadavg()[0]
        wall, peak, _code = run_measured([binary, "--test-threads", str(args.threads)], run_env)
        results = json.loads((base / "out" / "results.json").read_text())["trials"]
        per_trial = sorted(t["duration_ms"] for t in results)
        row = {
            "specs": n, "trials": len(results),
            "verdicts": ",".join(sorted({t["verdict"] for t in results})),
            "wall_s": wall, "median": percentile(per_trial, 50), "p95": percentile(per_trial, 95),
            "harness_peak_mb": peak["harness"] / 1024, "chromium_peak_mb": peak["chromium"] / 1024,
            "load": load,
        }
        row["quiet_wall_s"], quiet = plain(n, args.threads, 500)
        row["quiet_median"], row["quiet_p95"] = percentile(quiet, 50), percentile(quiet, 95)
        if n in horizon_sizes:
            row["horizon_wall_s"], horizon = plain(n, args.threads, 30000)
            row["horizon_median"], row["horizon_p95"] = percentile(horizon, 50), percentile(horizon, 95)
        rows.append(row)
    listing = make_portfolio(500, "list-500")
    list_env = dict(env, CONSENT_GATES_SPECS=str(listing / "specs" / "*.yaml"))
    started = time.monotonic()
    listed = subprocess.run([binary, "--list"], cwd=ROOT, env=list_env, check=True,
                            capture_output=True, text=True).stdout
    list_s = time.monotonic() - started
    count = sum(1 for line in listed.splitlines() if line.endswith(": test"))

    build = "debug" if args.debug else "release"
    print(f"Threads: {args.threads}; {build} build; every trial offline; snapshots not committed "
          "(each trial's snapshot is `new`, its consent verdict is what counts).\n")
    print("| specs | trials | verdicts | load avg at start | wall (s) | trial median / p95 (ms) "
          "| harness peak RSS (MB) | Chromium peak PSS (MB) "
          "| plain, 30 s horizon: wall (s), trial median / p95 (ms) | ratio "
          "| plain, 500 ms quiet: wall (s), trial median / p95 (ms) | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if "horizon_wall_s" in r:
            horizon = (f"{r['horizon_wall_s']:.1f}, {r['horizon_median']} / {r['horizon_p95']} | "
                       f"{r['wall_s'] / r['horizon_wall_s']:.3f}")
        else:
            horizon = "not run | –"
        print(f"| {r['specs']} | {r['trials']} | {r['verdicts']} | {r['load']:.1f} | {r['wall_s']:.1f} | "
              f"{r['median']} / {r['p95']} | {r['harness_peak_mb']:.0f} | {r['chromium_peak_mb']:.0f} | "
              f"{horizon} | {r['quiet_wall_s']:.1f}, {r['quiet_median']} / {r['quiet_p95']} | "
              f"{r['wall_s'] / r['quiet_wall_s']:.2f} |")
    print(f"\n`--list` over 500 specs ({count} trials): {list_s:.2f} s")


if __name__ == "__main__":
    main()
