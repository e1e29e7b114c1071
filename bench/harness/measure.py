"""Timed runs: wall time (monotonic clock around the process), peak RSS from
/usr/bin/time -v, the 1-minute load average at the start, and kiln's own
--progress=json step timings. Scenarios alternate the tools (A B A B ...)."""
import json
import os
import re
import shlex
import statistics
import subprocess
import time

from sysenv import log

# Target ratios kiln/buildah (medians, same run), issue 9.
TARGETS = {("b1", "cold"): 0.2, ("b1", "warm"): 0.1, ("b1", "change"): 0.2,
           ("b2", "cold"): 0.3, ("b2", "warm"): 0.05, ("b3", "cold"): 0.4,
           ("b4", "cold"): 0.5, ("b4", "push"): 0.5}
SCENARIO_TITLES = {"cold": "cold (fresh stores, bases pulled)", "warm": "cached (nothing changed)",
                   "change": "one-file change", "nocache": "--no-cache", "push": "push to the local registry"}


class Sample:
    def __init__(self, seconds, rss_kib, cpu, load, ok, log_prefix, kiln_events=None):
        self.seconds = seconds
        self.rss_kib = rss_kib
        self.cpu = cpu  # user + system seconds of the whole process tree
        self.load = load
        self.ok = ok
        self.log_prefix = log_prefix
        self.kiln_events = kiln_events or []


def _kiln_events(err_path):
    events = []
    try:
        with open(err_path, errors="replace") as f:
            for line in f:
                if line.startswith("{"):
                    try:
                        events.append(json.loads(line))
                    except ValueError:
                        pass
    except OSError:
        pass
    return events


def run_timed(argv, log_prefix, env=None):
    """Runs argv once under /usr/bin/time -v after a sync (so neither tool pays
    for the other's dirty pages); stdout/stderr go to log_prefix.out/.err."""
    subprocess.run(["sync"])
    tfile = log_prefix + ".time"
    load = os.getloadavg()[0]
    with open(log_prefix + ".out", "wb") as out, open(log_prefix + ".err", "wb") as err:
        err.write((shlex.join(argv) + "\n").encode())
        err.flush()
        t0 = time.monotonic()
        p = subprocess.run(["/usr/bin/time", "-v", "-o", tfile] + argv, stdout=out, stderr=err, env=env)
        seconds = time.monotonic() - t0
    rss, cpu = 0, 0.0
    try:
        text = open(tfile).read()
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
        rss = int(m.group(1)) if m else 0
        cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", text))
    except OSError:
        pass
    return Sample(seconds, rss, cpu, load, p.returncode == 0, log_prefix, _kiln_events(log_prefix + ".err"))


class Row:
    """One (input, scenario): the samples of both tools and the commands."""

    def __init__(self, inp, scenario):
        self.input = inp
        self.scenario = scenario
        self.samples = {}   # tool name -> [Sample]
        self.commands = {}  # tool name -> command line (one run's)
        self.error = ""

    def add(self, tool, argv, sample):
        self.samples.setdefault(tool.name, []).append(sample)
        self.commands[tool.name] = argv
        if not sample.ok and not self.error:
            tail = open(sample.log_prefix + ".err", errors="replace").read().strip().splitlines()[-3:]
            self.error = f"{tool.name} failed (exit non-zero): " + " | ".join(tail)

    def times(self, tool):
        return [s.seconds for s in self.samples.get(tool, []) if s.ok]

    def median(self, tool):
        t = self.times(tool)
        return statistics.median(t) if t else None

    def ratio(self):
        k, b = self.median("kiln"), self.median("buildah")
        return k / b if k is not None and b else None

    def cpu_median(self, tool):
        c = [s.cpu for s in self.samples.get(tool, []) if s.ok]
        return statistics.median(c) if c else None

    def cpu_ratio(self):
        k, b = self.cpu_median("kiln"), self.cpu_median("buildah")
        return k / b if k is not None and b else None

    def target(self):
        return TARGETS.get((self.input.name, self.scenario))

    def peak_rss_mib(self, tool):
        s = self.samples.get(tool, [])
        return max(x.rss_kib for x in s) / 1024 if s else None

    def load(self):
        s = [x.load for v in self.samples.values() for x in v]
        return (min(s), max(s)) if s else (0, 0)


class Runner:
    def __init__(self, tools, runs, logs, env):
        self.tools = tools
        self.runs = runs
        self.logs = logs
        self.env = env
        os.makedirs(logs, exist_ok=True)

    def _one(self, row, tool, argv, i):
        prefix = os.path.join(self.logs, f"{row.input.name}-{row.scenario}-{tool.name}-{i}")
        s = run_timed(argv, prefix, self.env)
        row.add(tool, argv, s)
        log(f"{row.input.name} {row.scenario:8} {tool.name:8} run {i + 1}: {s.seconds:7.2f} s  "
            f"{s.rss_kib / 1024:6.0f} MiB  load {s.load:.1f}{'' if s.ok else '  FAILED'}")
        return s.ok

    def scenario(self, inp, scenario, command, prepare=None, prepare_each=None):
        """Runs `command(tool)` runs times per tool, alternating tools.
        prepare(i) runs once before run i of all tools; prepare_each(tool, i)
        before each tool's run i (not timed)."""
        row = Row(inp, scenario)
        for i in range(self.runs):
            if prepare:
                prepare(i)
            for tool in self.tools:
                if prepare_each:
                    prepare_each(tool, i)
                if not self._one(row, tool, command(tool), i):
                    return row
        return row
