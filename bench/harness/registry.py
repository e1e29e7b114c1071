"""A docker-registry (the reference distribution server) on 127.0.0.1."""
import os
import shutil
import socket
import subprocess
import time
import urllib.request

from sysenv import run


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Registry:
    """One docker-registry process with its storage under `root`. Stopped by
    stop() (registered on the undo stack by the caller), by its pid only."""

    def __init__(self, root, name):
        self.root = root
        self.name = name
        self.port = free_port()
        self.addr = f"127.0.0.1:{self.port}"
        self.proc = None
        self.started_once = False

    def start(self, fresh=False):
        """Starts (or restarts, on the same port) the registry and waits until
        /v2/ answers. The first start retries on new free ports, in case
        another process took the one free_port() found before the registry
        bound it."""
        for _ in range(3):
            if self._start_once(fresh):
                return
            if self.started_once:
                break
            self.port = free_port()
            self.addr = f"127.0.0.1:{self.port}"
        raise RuntimeError(f"docker-registry `{self.name}` did not start; see {self.root}/registry.log")

    def _start_once(self, fresh):
        self.stop()
        storage = os.path.join(self.root, "storage")
        if fresh:
            shutil.rmtree(storage, ignore_errors=True)
        os.makedirs(storage, exist_ok=True)
        config = os.path.join(self.root, "config.yml")
        with open(config, "w") as f:
            f.write(f"""version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
http:
  addr: {self.addr}
""")
        log = open(os.path.join(self.root, "registry.log"), "ab")
        self.proc = subprocess.Popen(["docker-registry", "serve", config], stdout=log, stderr=log)
        log.close()
        for _ in range(400):  # polls readiness for up to ~20 s (or until the process exits)
            try:
                urllib.request.urlopen(f"http://{self.addr}/v2/", timeout=1).read()
                self.started_once = True
                return True
            except Exception:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        return False

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def push_layout(self, layout, ref_name, dest_repo_tag):
        """Copies an OCI layout's image (named ref_name) into this registry with skopeo."""
        run(["skopeo", "copy", "-q", "--dest-tls-verify=false", f"oci:{layout}:{ref_name}",
             f"docker://{self.addr}/{dest_repo_tag}"])
