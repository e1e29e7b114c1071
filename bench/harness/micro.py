"""The micro-benchmarks the other issues name, run from bench/run (full mode,
unless --no-micro): each is its own script with its own README section; here
they run one after the other and their printed tables are collected."""
import os
import subprocess

from sysenv import log

# name, script (relative to the repository), how to call it, what it needs built.
MICRO = [
    ("bench/sandbox", "bench/sandbox", "bench/sandbox BUILD_DIR [RUNS]  (needs: ninja -C BUILD_DIR kiln_executor_tool kiln-sandbox)",
     ["kiln_executor_tool", "kiln-sandbox"]),
    ("bench/registry", "bench/registry/run", "KILN=BUILD_DIR/kiln RUNS=3 BENCH_DIR=DIR bench/registry/run", []),
    ("bench/layers", "bench/layers/run.sh", "bench/layers/run.sh [RESULTS.md]  (configures and builds build-bench/ itself)", []),
    ("bench/stepwise", "bench/stepwise", "bench/stepwise BUILD_DIR  (see its header)", ["kiln"]),
]


def how_to_run():
    return "\n".join(f"- `{usage}`" for _name, _script, usage, _targets in MICRO)


def run_micro(repo, build, work, smoke, timeout=1800):
    """Runs every micro-benchmark present; returns [(name, output)]."""
    results = []
    for name, script, _usage, targets in MICRO:
        path = os.path.join(repo, script)
        if not os.path.exists(path):
            results.append((name, f"not present in this checkout ({script}); skipped"))
            continue
        if targets:
            r = subprocess.run(["ninja", "-C", build, "-j2"] + targets, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if r.returncode != 0:
                results.append((name, f"could not build {' '.join(targets)}:\n{r.stdout.decode(errors='replace')[-2000:]}"))
                continue
        env = dict(os.environ, KILN=os.path.join(build, "kiln"), BENCH_DIR=os.path.join(work, "micro-registry"),
                   RUNS="1" if smoke else "3", KILN_BENCH_REPS="1" if smoke else "3")
        if name == "bench/sandbox":
            argv = [path, build, "5" if smoke else "200"]
        elif name == "bench/stepwise":
            argv = [path, build]
        else:
            argv = [path]
        log(f"micro-benchmark {name}: {' '.join(argv)}")
        try:
            r = subprocess.run(argv, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
            text = r.stdout.decode(errors="replace")
            if r.returncode != 0:
                text += f"\n(exit {r.returncode}) " + r.stderr.decode(errors="replace")[-1500:]
        except subprocess.TimeoutExpired:
            text = f"timed out after {timeout} s"
        results.append((name, text))
    return results
