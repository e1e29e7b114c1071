"""The benchmark inputs b1-b4 (issue 9), generated deterministically: the same
seed and sizes give the same bytes, names and modes on every run. Nothing
large is committed; the Debian base is built once with debootstrap and cached.
"""
import hashlib
import json
import os
import random
import shutil
import subprocess
import time

from sysenv import log, output, run

BUSYBOX = "docker.io/library/busybox:latest"
DEBIAN = "docker.io/library/debian:bookworm"
EPOCH = 1700000000  # mtime of every generated file


class Input:
    def __init__(self, name, title, root, bases, change_file):
        self.name = name
        self.title = title
        self.dockerfile = os.path.join(root, "Dockerfile")
        self.context = os.path.join(root, "ctx")
        self.bases = bases
        self.change_file = os.path.join(self.context, change_file)
        self.tag = f"bench/{name}:latest"

    def change(self, n):
        """The one-file change of run n: new bytes in one context file."""
        with open(self.change_file, "a") as f:
            f.write(f"change {n}\n")


def _write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    os.chmod(path, mode)
    os.utime(path, (EPOCH, EPOCH))


def _start(root, name, dockerfile):
    d = os.path.join(root, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "ctx"))
    with open(os.path.join(d, "Dockerfile"), "w") as f:
        f.write(dockerfile)
    return d


def make_b1(root):
    """b1: FROM busybox and 10 small RUN/ENV/COPY steps."""
    d = _start(root, "b1", f"""FROM {BUSYBOX}
ENV APP_HOME=/app LANG=C.UTF-8
RUN mkdir -p /app/etc && echo one > /app/one
COPY config.txt /app/etc/config.txt
RUN cat /app/etc/config.txt | wc -c > /app/config.size
ENV STAGE=build
WORKDIR /app
COPY src/ /app/src/
RUN ls -lR /app/src > /app/listing
LABEL org.example.bench=b1
RUN echo done > /app/done
""")
    ctx = os.path.join(d, "ctx")
    _write(os.path.join(ctx, "config.txt"), "name=b1\nlevel=3\n")
    for i in range(5):
        _write(os.path.join(ctx, "src", f"mod{i}.c"), f"int mod{i}(void) {{ return {i}; }}\n")
    return Input("b1", "b1 trivial: FROM busybox, 10 small RUN/ENV/COPY steps", d, [BUSYBOX], "src/mod2.c")


def _text_pool(rng, size):
    words = ["int", "return", "struct", "const", "static", "void", "if", "else", "for", "while", "char",
             "include", "define", "buffer", "size_t", "error", "value", "result", "config", "kiln", "layer",
             "(", ")", "{", "}", ";", "=", "+", "0", "1", "->", "\n", "    ", "//", "x", "y", "i", "n"]
    out, n = [], 0
    while n < size:
        w = rng.choice(words)
        out.append(w)
        n += len(w) + 1
    return " ".join(out).encode()[:size]


def make_b2(root, files, total_bytes):
    """b2: FROM busybox, COPY of a `files`-file context of about `total_bytes`:
    100 files per directory, sizes uniform around the mean, nine in ten
    text-like (compressible), one in ten random bytes."""
    d = _start(root, "b2", f"""FROM {BUSYBOX}
COPY data/ /data/
""")
    rng = random.Random(2)
    pool = _text_pool(rng, 4 << 20)
    mean = max(1, total_bytes // files)
    for i in range(files):
        size = rng.randint(1, 2 * mean - 1)
        if i % 10 == 9:
            data = rng.randbytes(size)
        else:
            off = rng.randrange(0, len(pool) - size) if size < len(pool) else 0
            data = pool[off:off + size]
        _write(os.path.join(d, "ctx", "data", f"d{i // 100:03d}", f"f{i % 100:03d}.dat"), data)
    change = os.path.join("data", f"d{(files // 2) // 100:03d}", f"f{(files // 2) % 100:03d}.dat")
    return Input("b2", f"b2 copy-heavy: FROM busybox, COPY of a {files}-file / {total_bytes // 10**6} MB context",
                 d, [BUSYBOX], change)


def _cpu_loop(n, salt):
    # busybox sh arithmetic: pure CPU in one process, a few hundred ns per turn.
    return (f"i=0; s={salt}; while [ $i -lt {n} ]; do s=$(( (s * 31 + i) % 1000003 )); i=$((i + 1)); done; "
            f"mkdir -p /out && echo $s > /out/result")


def make_b3(root, loop_turns):
    """b3: two independent builder stages doing CPU work, a final stage copying from both."""
    d = _start(root, "b3", f"""FROM {BUSYBOX} AS left
COPY left.src /src/
RUN {_cpu_loop(loop_turns, 1)}

FROM {BUSYBOX} AS right
COPY right.src /src/
RUN {_cpu_loop(loop_turns, 2)}

FROM {BUSYBOX}
COPY --from=left /out/result /left
COPY --from=right /out/result /right
COPY final.txt /final.txt
RUN cat /left /right /final.txt > /summary
""")
    ctx = os.path.join(d, "ctx")
    _write(os.path.join(ctx, "left.src"), "left\n")
    _write(os.path.join(ctx, "right.src"), "right\n")
    _write(os.path.join(ctx, "final.txt"), "final\n")
    return Input("b3", f"b3 multi-stage: two independent CPU stages ({loop_turns} shell-loop turns each) + a final stage",
                 d, [BUSYBOX], "final.txt")


def make_b4(root, base, copies, title_size, smoke_bytes=0):
    """b4: FROM the Debian base, a RUN writing ~300 MB (copies of /usr), small steps.
    In smoke mode the base is busybox and the RUN writes smoke_bytes."""
    if smoke_bytes:
        big = f"mkdir /data && dd if=/dev/zero of=/data/zero bs=4096 count={smoke_bytes // 4096} 2>/dev/null"
    else:
        big = f"mkdir /data && for i in $(seq 1 {copies}); do cp -a /usr /data/usr$i; done"
    d = _start(root, "b4", f"""FROM {base}
RUN {big}
ENV APP_HOME=/srv/app
WORKDIR /srv/app
COPY app.conf /srv/app/app.conf
RUN echo built > /srv/app/stamp && ls -l /srv/app > /srv/app/listing
CMD ["/bin/sh"]
""")
    _write(os.path.join(d, "ctx", "app.conf"), "listen=8080\n")
    what = "busybox (smoke)" if smoke_bytes else "a debootstrap'd Debian bookworm (minbase)"
    return Input("b4", f"b4 debian: FROM {what}, a RUN writing {title_size}, then small steps",
                 d, [base], "app.conf")


def calibrate_loop(seconds):
    """Shell-loop turns that take about `seconds` of one core here (busybox sh)."""
    n = 20000
    script = _cpu_loop(n, 1).replace("mkdir -p /out && echo $s > /out/result", "true")
    t0 = time.monotonic()
    subprocess.run(["busybox", "sh", "-c", script], check=True)
    per_turn = (time.monotonic() - t0) / n
    return max(1000, int(round(seconds / per_turn, -3)))


def _sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _blob(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", digest), "wb") as f:
        f.write(data)
    return digest


def debian_base(cache_dir, mirror, suite="bookworm"):
    """An OCI layout of `debootstrap --variant=minbase SUITE` (one gzip layer,
    hand-written JSON, no kiln or buildah code), cached in cache_dir by suite
    and mirror. Returns (layout, metadata)."""
    key = hashlib.sha256(f"{suite}|{mirror}|minbase|v1".encode()).hexdigest()[:12]
    layout = os.path.join(cache_dir, f"debian-{suite}-minbase-{key}")
    meta_path = os.path.join(layout, "bench-meta.json")
    if os.path.exists(meta_path):
        return layout, json.load(open(meta_path))
    log(f"debootstrap --variant=minbase {suite} from {mirror} (cached in {layout})")
    work = os.path.join(cache_dir, "tmp")
    shutil.rmtree(work, ignore_errors=True)
    rootfs = os.path.join(work, "rootfs")
    os.makedirs(work)
    t0 = time.monotonic()
    run(["debootstrap", "--variant=minbase", suite, rootfs, mirror])
    for sub in ["var/cache/apt/archives", "var/lib/apt/lists"]:
        p = os.path.join(rootfs, sub)
        for n in os.listdir(p) if os.path.isdir(p) else []:
            if n not in ("partial", "lock"):
                fp = os.path.join(p, n)
                os.unlink(fp) if os.path.isfile(fp) else None
    usr_bytes = int(output(["du", "-sb", os.path.join(rootfs, "usr")]).split()[0])
    tar = os.path.join(work, "layer.tar")
    run(["tar", "--sort=name", "--numeric-owner", f"--mtime=@{EPOCH}", "--clamp-mtime", "--format=posix",
         "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime", "--exclude=./dev/*",
         "-C", rootfs, "-cf", tar, "."])
    diff_id = _sha256_file(tar)
    run(["sh", "-c", f"pigz -n -6 -c '{tar}' > '{tar}.gz'"])
    tmp_layout = layout + ".tmp"
    shutil.rmtree(tmp_layout, ignore_errors=True)
    os.makedirs(os.path.join(tmp_layout, "blobs", "sha256"))
    layer_digest = _sha256_file(tar + ".gz")
    layer_size = os.path.getsize(tar + ".gz")
    os.rename(tar + ".gz", os.path.join(tmp_layout, "blobs", "sha256", layer_digest))
    arch = output(["dpkg", "--print-architecture"])
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(EPOCH))
    config = {"created": created, "architecture": arch, "os": "linux",
              "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["bash"]},
              "rootfs": {"type": "layers", "diff_ids": [f"sha256:{diff_id}"]},
              "history": [{"created": created, "created_by": f"debootstrap --variant=minbase {suite} {mirror}"}]}
    cfg = json.dumps(config, sort_keys=True).encode()
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": f"sha256:{_blob(tmp_layout, cfg)}", "size": len(cfg)},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                            "digest": f"sha256:{layer_digest}", "size": layer_size}]}
    man = json.dumps(manifest, sort_keys=True).encode()
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": f"sha256:{_blob(tmp_layout, man)}",
        "size": len(man), "annotations": {"org.opencontainers.image.ref.name": DEBIAN}}]}
    with open(os.path.join(tmp_layout, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(tmp_layout, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    meta = {"usr_bytes": usr_bytes, "layer_bytes": os.path.getsize(tar), "blob_bytes": layer_size,
            "suite": suite, "mirror": mirror, "debootstrap_seconds": round(time.monotonic() - t0, 1)}
    with open(os.path.join(tmp_layout, "bench-meta.json"), "w") as f:
        json.dump(meta, f)
    shutil.rmtree(layout, ignore_errors=True)
    os.rename(tmp_layout, layout)
    shutil.rmtree(work, ignore_errors=True)
    return layout, meta


def busybox_base(repo, work):
    """The busybox image of testdata/fixtures/make-busybox-image (independent of kiln)."""
    layout = os.path.join(work, "busybox-layout")
    if not os.path.exists(os.path.join(layout, "index.json")):
        run([os.path.join(repo, "testdata", "fixtures", "make-busybox-image"), layout])
    return layout
