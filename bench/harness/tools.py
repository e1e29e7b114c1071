"""The two builders under test, as command lines. Each tool keeps its store in
its own directory on the benchmark file system; reset() makes it fresh."""
import os
import shlex
import subprocess

from sysenv import remove_tree


class Kiln:
    name = "kiln"

    def __init__(self, binary, root, bud_pulls):
        self.binary = binary
        self.root = root
        self.bud_pulls = bud_pulls  # does `kiln bud` pull a missing FROM image itself?
        self.storage_driver = "overlay (native, in kiln's user namespace)"

    def _kiln(self):
        return [self.binary, "--root", self.root]

    def reset(self):
        remove_tree(self.root)

    def build(self, inp, no_cache=False):
        argv = self._kiln() + ["bud", "--progress=json", "--storage-driver", "overlay", "-f", inp.dockerfile,
                               "-t", inp.tag]
        if no_cache:
            argv.append("--no-cache")
        return argv + [inp.context]

    def cold(self, inp):
        """A build on a fresh store: the bases come from the registry."""
        if self.bud_pulls:
            return self.build(inp)
        pulls = [shlex.join(self._kiln() + ["pull", "-q", b]) + " >/dev/null" for b in inp.bases]
        return ["sh", "-c", " && ".join(pulls + ["exec " + shlex.join(self.build(inp))])]

    def push(self, inp, dest):
        return self._kiln() + ["push", "-q", "--tls-verify=false", inp.tag, f"docker://{dest}"]


class Buildah:
    name = "buildah"

    def __init__(self, root, runtime, jobs=None):
        self.root = root
        self.runtime = runtime
        self.jobs = jobs
        self.storage_driver = f"overlay (native, rootful), runtime {runtime}"

    def _buildah(self):
        return ["buildah", "--root", os.path.join(self.root, "root"), "--runroot", os.path.join(self.root, "run"),
                "--storage-driver", "overlay"]

    def reset(self):
        if os.path.isdir(self.root):
            for sub in (["rm", "--all"], ["rmi", "--all", "--force"]):
                subprocess.run(self._buildah() + sub, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        remove_tree(self.root)

    def build(self, inp, no_cache=False):
        argv = self._buildah() + ["bud", "--layers", "--network", "host", "--runtime", self.runtime]
        if self.jobs:
            argv += ["--jobs", str(self.jobs)]
        argv += ["-f", inp.dockerfile, "-t", inp.tag]
        if no_cache:
            argv.append("--no-cache")
        return argv + [inp.context]

    def cold(self, inp):
        return self.build(inp)  # bud pulls missing bases

    def push(self, inp, dest):
        return self._buildah() + ["push", "--tls-verify=false", inp.tag, f"docker://{dest}"]
