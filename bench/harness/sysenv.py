"""The machine side of bench/run: what it sets up and undoes.

Everything the harness mounts lives in a private mount namespace of its own
(enter_private_namespace), so the host and the other users of this machine
never see the benchmark file system, the hidden blob cache or the
registries.conf.d entry; Undo still takes each of them down in reverse order
at exit (and on SIGINT/SIGTERM), and removes what it created on the host
(the loop image, a cgroup directory it had to make).
"""
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile

NS_ENV = "KILN_BENCH_PRIVATE_NS"

# Debian packages the harness drives (issue 9) and what it needs besides.
PEERS = ["buildah", "crun", "runc", "skopeo", "pigz", "zstd", "hyperfine"]
SUPPORT = ["docker-registry", "debootstrap", "uidmap", "busybox-static", "time", "e2fsprogs"]


def log(*parts):
    print("bench/run:", *parts, file=sys.stderr, flush=True)


def run(argv, check=True, quiet=True, **kw):
    """Runs argv; output goes to stderr (or nowhere when quiet)."""
    out = subprocess.DEVNULL if quiet else sys.stderr
    r = subprocess.run(argv, stdout=out, stderr=subprocess.PIPE if quiet else sys.stderr, **kw)
    if check and r.returncode != 0:
        err = r.stderr.decode(errors="replace").strip() if quiet and r.stderr else ""
        raise RuntimeError(f"`{' '.join(map(str, argv))}` failed with exit {r.returncode}: {err}")
    return r


def output(argv, **kw):
    return subprocess.run(argv, check=True, stdout=subprocess.PIPE, **kw).stdout.decode().strip()


class Undo:
    """A stack of clean-up steps, run in reverse order; errors are reported, not raised."""

    def __init__(self):
        self.steps = []

    def push(self, what, fn):
        self.steps.append((what, fn))

    def run_all(self):
        while self.steps:
            what, fn = self.steps.pop()
            try:
                fn()
            except Exception as e:  # keep undoing the rest
                log(f"undo `{what}` failed: {e}")


def install_signal_exit():
    def handler(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)


def enter_private_namespace(argv):
    """Re-executes this script in a new mount namespace with private propagation."""
    if os.environ.get(NS_ENV) == "1":
        return
    env = dict(os.environ, **{NS_ENV: "1"})
    cmd = ["unshare", "--mount", "--propagation", "private", "--", sys.executable, os.path.realpath(argv[0])] + argv[1:]
    os.execvpe("unshare", cmd, env)


def missing_packages(names):
    missing = []
    for n in names:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", n], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        if b"install ok installed" not in r.stdout:
            missing.append(n)
    return missing


def install_packages(names):
    missing = missing_packages(names)
    if not missing:
        return
    log("installing", " ".join(missing), "(apt-get)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if run(["apt-get", "install", "-y", "--no-install-recommends"] + missing, check=False, env=env).returncode != 0:
        run(["apt-get", "update"], env=env)
        run(["apt-get", "install", "-y", "--no-install-recommends"] + missing, env=env)


def mounts_under(path):
    """Mount points at or below path, deepest first (from /proc/self/mountinfo)."""
    path = os.path.realpath(path)
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].encode().decode("unicode_escape")
            if mp == path or mp.startswith(path + "/"):
                found.append(mp)
    return sorted(found, key=len, reverse=True)


def unmount_under(path):
    for mp in mounts_under(path):
        subprocess.run(["umount", "-l", mp], stderr=subprocess.DEVNULL)


def remove_tree(path):
    if os.path.lexists(path):
        unmount_under(path)
        shutil.rmtree(path, ignore_errors=True)
        if os.path.lexists(path):  # files owned by ids the tree's mode hides
            subprocess.run(["rm", "-rf", "--one-file-system", path])


def make_bench_fs(undo, base_dir, size_gib):
    """A journaled ext4 image loop-mounted at base_dir/fs (MACHINE.md: the root
    ext4 has no journal). Returns (path, description)."""
    img = os.path.join(base_dir, "fs.img")
    mnt = os.path.join(base_dir, "fs")
    os.makedirs(mnt, exist_ok=True)
    try:
        with open(img, "wb") as f:
            f.truncate(size_gib << 30)
        undo.push(f"rm {img}", lambda: os.path.exists(img) and os.unlink(img))
        run(["mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=1,lazy_journal_init=1", img])
        run(["mount", "-o", "loop", img, mnt])
    except Exception as e:
        log(f"no loop-mounted ext4 ({e}); using a plain directory")
        return mnt, f"a plain directory on the host file system (loop mount failed: {e})"
    undo.push(f"umount {mnt}", lambda: (unmount_under(mnt), run(["umount", mnt], check=False)))
    os.chmod(mnt, 0o755)
    return mnt, f"a journaled ext4 image ({size_gib} GiB, sparse) loop-mounted at {mnt}"


def ensure_hugetlb(undo):
    """crun 1.8 refuses to run on this v1/v2 hybrid unless the hugetlb v1
    controller is mounted (MACHINE.md). Returns the runtime buildah should use."""
    if shutil.which("crun") is None:
        return "runc"
    cg = "/sys/fs/cgroup"
    hybrid = os.path.isdir(os.path.join(cg, "unified")) or os.path.isdir(os.path.join(cg, "memory"))
    target = os.path.join(cg, "hugetlb")
    if not hybrid or os.path.ismount(target):
        return "crun"
    try:
        if not os.path.isdir(target):
            os.mkdir(target)
            undo.push(f"rmdir {target}", lambda: os.rmdir(target))
        run(["mount", "-t", "cgroup", "-o", "hugetlb", "cgroup", target])
        undo.push(f"umount {target}", lambda: run(["umount", target], check=False))
        return "crun"
    except Exception as e:
        log(f"cannot mount the hugetlb cgroup ({e}); buildah uses runc")
        return "runc" if shutil.which("runc") else "crun"


BLOB_CACHE = "/var/lib/containers/cache"


def hide_blob_cache(undo):
    """A fresh, private tmpfs over buildah's blob-info cache (issue 9: hidden for
    push timings; a remembered compressed digest would let it skip work)."""
    if not os.path.isdir(BLOB_CACHE):
        os.makedirs(BLOB_CACHE, mode=0o700)
        undo.push(f"rmdir {BLOB_CACHE}", lambda: os.rmdir(BLOB_CACHE))
    if os.path.ismount(BLOB_CACHE):
        run(["umount", BLOB_CACHE])
    else:
        undo.push(f"umount {BLOB_CACHE}", lambda: run(["umount", BLOB_CACHE], check=False))
    run(["mount", "-t", "tmpfs", "-o", "mode=0700,size=64m", "tmpfs", BLOB_CACHE])


REG_D = "/etc/containers/registries.conf.d"


def add_registries_conf(undo, work, name, text):
    """Adds a registries.conf.d entry for this process tree only: a copy of the
    drop-in directory plus `name` is bind-mounted over it (private namespace)."""
    d = tempfile.mkdtemp(prefix="registries.conf.d.", dir=work)
    if os.path.isdir(REG_D):
        for n in os.listdir(REG_D):
            shutil.copy(os.path.join(REG_D, n), d)
    with open(os.path.join(d, name), "w") as f:
        f.write(text)
    os.chmod(d, 0o755)
    if not os.path.isdir(REG_D):
        os.makedirs(REG_D)
        undo.push(f"rmdir {REG_D}", lambda: os.rmdir(REG_D))
    run(["mount", "--bind", d, REG_D])
    undo.push(f"umount {REG_D}", lambda: run(["umount", REG_D], check=False))


def machine():
    """Cores, RAM, kernel, CPU model and the distribution, for the table."""
    mem_kib = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    distro = ""
    if os.path.exists("/etc/os-release"):
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                distro = line.split("=", 1)[1].strip().strip('"')
    return {"cores": os.cpu_count(), "ram_gib": round(mem_kib / (1 << 20), 1), "kernel": platform.release(),
            "cpu": cpu, "distro": distro}


def tool_versions(kiln):
    def ver(argv):
        try:
            return output(argv, stderr=subprocess.DEVNULL).splitlines()[0]
        except Exception:
            return "?"
    git = ver(["git", "-C", os.path.dirname(os.path.dirname(os.path.realpath(__file__))), "describe", "--always", "--dirty"])
    return {"kiln": f"{kiln} (git {git})", "buildah": ver(["buildah", "--version"]), "crun": ver(["crun", "--version"]),
            "runc": ver(["runc", "--version"]), "skopeo": ver(["skopeo", "--version"])}
