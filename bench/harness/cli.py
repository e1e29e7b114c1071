"""bench/run's flow: set up the machine, generate the inputs, run the scenarios
with kiln and buildah alternating, report, undo. See bench/run --help."""
import argparse
import os
import shutil
import subprocess
import tempfile
import time

import inputs as gen
import micro
import report
import sysenv
from measure import Runner
from registry import Registry
from sysenv import log
from tools import Buildah, Kiln

SKIP = 77  # ctest's SKIP_RETURN_CODE for the bench-smoke test
SCENARIOS = ["cold", "warm", "change", "nocache", "push"]
# --smoke: every input and every scenario once, but each scenario on one input
# only, so the whole run takes about a minute (buildah's per-step commits
# dominate: ~1-2 s a step on an idle machine).
SMOKE_PLAN = {"b1": {"cold", "warm", "change"}, "b2": {"cold", "nocache"}, "b3": {"cold"}, "b4": {"cold", "push"}}


def parse_args(argv, repo):
    p = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    p.add_argument("--smoke", action="store_true", help="a tiny version of everything, 1 run each (for CI)")
    p.add_argument("--runs", type=int, help="runs per tool and scenario (default 5; 1 with --smoke)")
    p.add_argument("--kiln", default=os.path.join(repo, "build", "kiln"), help="the kiln binary (default build/kiln)")
    p.add_argument("--only", default="", help="comma-separated inputs to run (b1,b2,b3,b4)")
    p.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated: " + ",".join(SCENARIOS))
    p.add_argument("--no-micro", action="store_true", help="do not run bench/sandbox, bench/registry, ...")
    p.add_argument("--micro", action="store_true", help="run the micro-benchmarks also with --smoke")
    p.add_argument("--readme", help="write the results into this README (default bench/README.md; none with --smoke)")
    p.add_argument("--workdir", default="/var/tmp", help="where the loop image and work files go (default /var/tmp)")
    p.add_argument("--cache-dir", default="/var/tmp/kiln-test-cache",
                   help="the cached debootstrap tarball of the Debian base (default %(default)s, shared with the tests)")
    p.add_argument("--fs-size", type=int, help="size of the loop-mounted ext4 in GiB (default 24; 2 with --smoke)")
    p.add_argument("--buildah-jobs", type=int, help="buildah bud --jobs (default: buildah's own, 1)")
    p.add_argument("--no-install", action="store_true", help="do not apt-get install missing peers")
    p.add_argument("--keep", action="store_true", help="keep the work directory (logs) at exit")
    a = p.parse_args(argv)
    a.runs = a.runs or (1 if a.smoke else 5)
    a.fs_size = a.fs_size or (2 if a.smoke else 24)
    a.micro = a.micro or not (a.smoke or a.no_micro)
    a.kiln = os.path.realpath(a.kiln)
    return a


def preflight(a):
    """Returns an exit code when the run cannot happen, else None."""
    if os.geteuid() != 0:
        log("needs root (it loop-mounts a file system and runs buildah rootful)")
        return SKIP if a.smoke else 2
    if a.smoke or a.no_install:
        needed = {"buildah": "buildah", "docker-registry": "docker-registry", "skopeo": "skopeo",
                  "/usr/bin/time": "time", "busybox": "busybox-static", "newuidmap": "uidmap"}
        missing = [pkg for prog, pkg in needed.items() if shutil.which(prog) is None]
        if missing:
            log(f"skipped: {', '.join(missing)} not installed (apt-get install {' '.join(missing)})")
            return SKIP if a.smoke else 2
    if not os.access(a.kiln, os.X_OK):
        log(f"no kiln binary at `{a.kiln}`: build it with scripts/build, or name it with --kiln")
        return 2
    return None


def make_inputs(a, root, usr_bytes):
    only = set(filter(None, a.only.split(",")))
    want = lambda n: not only or n in only
    out = []
    if want("b1"):
        out.append(gen.make_b1(root))
    if want("b2"):
        out.append(gen.make_b2(root, 200, 2 * 10**6) if a.smoke else gen.make_b2(root, 20000, 200 * 10**6))
    if want("b3"):
        out.append(gen.make_b3(root, 2000 if a.smoke else gen.B3_TURNS))
    if want("b4"):
        if a.smoke:
            out.append(gen.make_b4(root, gen.BUSYBOX, 0, "4 MB", smoke_bytes=4 << 20))
        else:
            copies = max(1, round(300e6 / usr_bytes))
            size = f"~{copies * usr_bytes // 10**6} MB ({copies} copies of /usr)"
            out.append(gen.make_b4(root, gen.DEBIAN, copies, size))
    return out


def kiln_bud_pulls(binary, work, env):
    """Does `kiln bud` pull a FROM image missing from the store by itself?"""
    d = tempfile.mkdtemp(prefix="probe.", dir=work)
    os.chmod(d, 0o755)
    with open(os.path.join(d, "Dockerfile"), "w") as f:
        f.write(f"FROM {gen.BUSYBOX}\nENV PROBE=1\n")
    r = subprocess.run([binary, "--root", os.path.join(d, "store"), "bud", "-q", "-f", os.path.join(d, "Dockerfile"), d],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    sysenv.remove_tree(d)
    if r.returncode != 0:
        log("`kiln bud` did not pull the base by itself; kiln's cold runs pull first:",
            r.stderr.decode(errors="replace").strip()[-300:])
    return r.returncode == 0


def bench_input(runner, inp, scenarios, push_reg, tools):
    """The scenarios of one input; the cold builds (always run) leave both stores warm."""
    rows = []
    cold = runner.scenario(inp, "cold", lambda t: t.cold(inp), prepare_each=lambda t, i: t.reset())
    if "cold" in scenarios or cold.error:
        rows.append(cold)
    if cold.error:
        return rows
    if "warm" in scenarios:
        rows.append(runner.scenario(inp, "warm", lambda t: t.build(inp)))
    if "change" in scenarios:
        rows.append(runner.scenario(inp, "change", lambda t: t.build(inp), prepare=inp.change))
    if "nocache" in scenarios:
        rows.append(runner.scenario(inp, "nocache", lambda t: t.build(inp, no_cache=True)))
    if "push" in scenarios and inp.name == "b4":
        def fresh_registry(_tool, _i):
            push_reg.start(fresh=True)
            sysenv.hide_blob_cache(sysenv.Undo())  # a new empty tmpfs (the first one is on the undo stack)
        rows.append(runner.scenario(inp, "push", lambda t: t.push(inp, f"{push_reg.addr}/bench/{inp.name}-{t.name}:latest"),
                                    prepare_each=fresh_registry))
    for t in tools:
        t.reset()
    return rows


def main(argv, repo):
    a = parse_args(argv, repo)
    code = preflight(a)
    if code is not None:
        return code
    sysenv.enter_private_namespace([os.path.join(repo, "bench", "run")] + argv)
    sysenv.install_signal_exit()
    if not (a.smoke or a.no_install):
        sysenv.install_packages(sysenv.PEERS + sysenv.SUPPORT)
    undo = sysenv.Undo()
    started = time.monotonic()
    load_start = os.getloadavg()[0]
    base = tempfile.mkdtemp(prefix="kiln-bench-run.", dir=a.workdir)
    os.chmod(base, 0o755)
    if a.keep:
        log(f"work directory (kept): {base}")
    else:
        undo.push(f"rm -rf {base}", lambda: sysenv.remove_tree(base))
    try:
        return run_all(a, repo, undo, base, load_start, started)
    except KeyboardInterrupt:
        log("interrupted; undoing")
        return 130
    finally:
        undo.run_all()


def run_all(a, repo, undo, base, load_start, started):
    fs, fs_desc = sysenv.make_bench_fs(undo, base, a.fs_size)
    runtime = sysenv.ensure_hugetlb(undo)
    sysenv.hide_blob_cache(undo)
    work = os.path.join(fs, "w")
    os.makedirs(os.path.join(work, "tmp"), mode=0o1777)
    os.chmod(work, 0o755)
    os.chmod(os.path.join(work, "tmp"), 0o1777)
    regs = []
    for name in ("bases", "push"):
        r = Registry(os.path.join(work, f"registry-{name}"), name)
        os.makedirs(r.root)
        r.start()
        undo.push(f"stop registry {name}", r.stop)
        regs.append(r)
    base_reg, push_reg = regs
    conf = f"""# bench/run: the local registry stands in for Docker Hub's library
[[registry]]
prefix = "docker.io/library"
location = "{base_reg.addr}/library"
insecure = true

[[registry]]
location = "{base_reg.addr}"
insecure = true

[[registry]]
location = "{push_reg.addr}"
insecure = true
"""
    sysenv.add_registries_conf(undo, base, "zz-kiln-bench.conf", conf)
    base_reg.push_layout(gen.busybox_base(repo, base), gen.BUSYBOX, "library/busybox:latest")
    usr_bytes = 0
    only = set(filter(None, a.only.split(",")))
    if not a.smoke and (not only or "b4" in only):
        layout, usr_bytes = gen.debian_base(repo, base, a.cache_dir)
        base_reg.push_layout(layout, gen.DEBIAN, "library/debian:bookworm")
    env = dict(os.environ, TMPDIR=os.path.join(work, "tmp"))
    inps = make_inputs(a, os.path.join(work, "inputs"), usr_bytes)
    bud_pulls = kiln_bud_pulls(a.kiln, work, env)
    kiln = Kiln(a.kiln, os.path.join(work, "kiln-store"), bud_pulls)
    buildah = Buildah(os.path.join(work, "buildah-store"), runtime, a.buildah_jobs)
    runner = Runner([kiln, buildah], a.runs, os.path.join(base, "logs"), env)
    scenarios = set(filter(None, a.scenarios.split(",")))
    rows = []
    for inp in inps:
        log(f"== {inp.title}")
        wanted = scenarios & SMOKE_PLAN[inp.name] if a.smoke else scenarios
        rows += bench_input(runner, inp, wanted, push_reg, [kiln, buildah])
    micro_out = micro.run_micro(repo, os.path.dirname(a.kiln), base, a.smoke) if a.micro else []
    ctx = {
        "smoke": a.smoke, "runs": a.runs, "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": sysenv.machine(), "versions": sysenv.tool_versions(a.kiln), "load": (load_start, os.getloadavg()[0]),
        "fs": fs_desc, "kiln_driver": kiln.storage_driver, "buildah_driver": buildah.storage_driver, "runtime": runtime,
        "buildah_jobs": a.buildah_jobs or 1, "inputs": [i.title for i in inps], "work": work,
        "registries_conf": conf, "micro": micro_out,
        "notes": [f"kiln's cold runs {'are one `kiln bud` (it pulls the bases)' if bud_pulls else 'are `kiln pull BASE && kiln bud ...` (a probe `kiln bud` on an empty store failed to pull the base itself; the reason is in the harness log)'}; "
                  "buildah's are one `buildah bud` (it pulls). Peak RSS is /usr/bin/time -v's: the largest single "
                  "process of the run. Push rows push to a registry restarted with empty storage, with buildah's "
                  "blob-info cache hidden under an empty tmpfs.",
                  f"Total harness time {time.monotonic() - started:.0f} s. Micro-benchmarks (their own sections "
                  "below have their targets):\n\n" + micro.how_to_run()],
    }
    text = report.markdown(ctx, rows)
    print(text)
    readme = a.readme or (None if a.smoke else os.path.join(repo, "bench", "README.md"))
    if readme:
        report.write_readme(readme, text)
        log(f"wrote the results into {readme}")
    failed = [r for r in rows if r.error]
    return 1 if failed and a.smoke else 0
