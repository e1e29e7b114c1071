"""The benchmark inputs b1-b4 (issue 9), generated deterministically: the same
seed and sizes give the same bytes, names and modes on every run. Nothing
large is committed; the Debian base comes from testdata/fixtures/make-debian-image
(debootstrap, its rootfs tarball cached between runs).
"""
import os
import random
import shutil
import tarfile

from sysenv import run

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


# Turns of b3's shell loop per builder stage: about 1 s of one core of this
# VM when idle (busybox sh, ~3 us a turn). Fixed, so the input is the same
# whatever the load when it is generated.
B3_TURNS = 300000


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


def debian_base(repo, work, cache_dir):
    """The Debian bookworm image of testdata/fixtures/make-debian-image
    (debootstrap --variant=minbase, the mirror read from the host's apt sources,
    the rootfs tarball cached in cache_dir; no kiln code). Returns (layout,
    bytes under /usr), the latter to size b4's RUN."""
    layout = os.path.join(work, "debian-layout")
    run([os.path.join(repo, "testdata", "fixtures", "make-debian-image"), layout, cache_dir])
    usr = 0
    with tarfile.open(os.path.join(cache_dir, "debian-bookworm-minbase.tar")) as t:
        for m in t:
            if m.isfile() and (m.name.startswith("./usr/") or m.name.startswith("usr/")):
                usr += m.size
    return layout, usr


def busybox_base(repo, work):
    """The busybox image of testdata/fixtures/make-busybox-image (independent of kiln)."""
    layout = os.path.join(work, "busybox-layout")
    if not os.path.exists(os.path.join(layout, "index.json")):
        run([os.path.join(repo, "testdata", "fixtures", "make-busybox-image"), layout])
    return layout
