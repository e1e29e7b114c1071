#!/usr/bin/env python3
"""Generates the crafted (malicious) layer archives in malicious/.

Written with python3's tarfile and hand-built bytes, never with kiln, so the
extractor is tested against an independent writer. Each archive is small.
The test (tests/layers/corpus_test.cc) extracts every archive into
SANDBOX/target, in both modes, and checks that nothing outside the target
changed: SANDBOX/outside/canary, SANDBOX/outside itself, /etc/passwd, and
that no file named kiln-layers-pwned appeared in /tmp or /etc.

Run: python3 testdata/layers/make_corpus.py   (rewrites malicious/*.tar)
"""
import io
import os
import tarfile

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "malicious")
MTIME = 1600000000


def info(name, kind=tarfile.REGTYPE, data=b"", link="", mode=0o644, size=None):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.mtime = MTIME
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    ti.linkname = link
    ti.size = len(data) if size is None else size
    return ti, data


def f(name, data=b"pwned\n", mode=0o644):
    return info(name, data=data, mode=mode)


def d(name, mode=0o755):
    return info(name, tarfile.DIRTYPE, mode=mode)


def sym(name, target):
    return info(name, tarfile.SYMTYPE, link=target, mode=0o777)


def hard(name, target):
    return info(name, tarfile.LNKTYPE, link=target)


def write(name, entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for ti, data in entries:
            tar.addfile(ti, io.BytesIO(data) if ti.type == tarfile.REGTYPE or ti.type == tarfile.AREGTYPE else None)
    with open(os.path.join(HERE, name), "wb") as out:
        out.write(buf.getvalue())


def write_raw(name, data):
    with open(os.path.join(HERE, name), "wb") as out:
        out.write(data)


def header(name, size, kind=b"0", link=b""):
    """A ustar header block with a correct checksum."""
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108] = b"0000644\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = (b"%011o\0" % size) if size < 8**11 else size.to_bytes(12, "big")  # GNU base-256 for huge sizes
    if size >= 8**11:
        h[124] |= 0x80
    h[136:148] = b"%011o\0" % MTIME
    h[148:156] = b" " * 8
    h[156:157] = kind
    h[157:157 + len(link)] = link
    h[257:263] = b"ustar\0"
    h[263:265] = b"00"
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def main():
    os.makedirs(HERE, exist_ok=True)
    for old in os.listdir(HERE):
        if old.endswith(".tar"):
            os.remove(os.path.join(HERE, old))
    # 1-3: tar-slip and absolute names.
    write("01-dotdot.tar", [f("../outside/pwned")])
    write("02-dotdot-nested.tar", [d("a/"), f("a/../../outside/pwned")])
    write("03-absolute.tar", [f("/tmp/kiln-layers-pwned"), f("/etc/kiln-layers-pwned")])
    # 4-7: symlinks, then files through them.
    write("04-symlink-parent-relative.tar", [sym("esc", "../outside"), f("esc/pwned"), f("esc/canary")])
    write("05-symlink-parent-absolute.tar", [sym("esc", "/tmp"), f("esc/kiln-layers-pwned")])
    write("06-symlink-chain.tar", [sym("a", "b"), sym("b", "../../.."), f("a/tmp/kiln-layers-pwned"),
                                   f("a/outside/canary")])
    write("07-symlink-to-etc.tar", [sym("etc", "/etc"), f("etc/kiln-layers-pwned"), f("etc/passwd", b"root::0:0::/:/bin/sh\n")])
    # 8-10: hard links out of the root.
    write("08-hardlink-etc-passwd.tar", [hard("pw", "/etc/passwd"), f("pw", b"root::0:0::/:/bin/sh\n")])
    write("09-hardlink-dotdot.tar", [hard("canary", "../outside/canary"), f("canary")])
    write("10-hardlink-via-symlink.tar", [sym("s", "../outside"), hard("h", "s/canary"), f("h")])
    # 11-14: whiteouts and opaque markers in odd places.
    write("11-whiteout-dotdot.tar", [f(".wh..."), f("a/.wh...", b"")])
    write("12-whiteout-escape.tar", [f("../.wh.outside", b""), f("../outside/.wh.canary", b"")])
    write("13-whiteout-through-symlink.tar", [sym("esc", "../outside"), f("esc/.wh.canary", b""),
                                              sym("root", "/"), f("root/etc/.wh.passwd", b"")])
    write("14-opaque-odd-places.tar", [f(".wh..wh..opq", b""), d(".wh..wh..opq/"), f("a/.wh..wh..opq/b"),
                                       f(".wh.x/y"), sym("up", ".."), f("up/.wh..wh..opq", b"")])
    # 15-17: duplicates that replace an entry with a symlink to outside, then write.
    write("15-duplicate-symlink-then-file.tar", [f("f", b"first"), sym("f", "../outside/canary"), f("f", b"pwned")])
    write("16-dir-replaced-by-symlink.tar", [d("d/"), sym("d", "../outside"), f("d/pwned")])
    write("17-symlink-then-dir.tar", [sym("d", "../outside"), d("d/"), f("d/pwned")])
    # 18-21: broken or hostile headers.
    write_raw("18-huge-size.tar", header(b"huge", 8 << 30) + b"x" * 1024)
    write_raw("19-truncated.tar", header(b"trunc", 100000) + b"y" * 3000)
    body = b" path=../outside/pwned\n"
    n = len(body) + 1
    while len(str(n)) + len(body) != n:
        n += 1
    rec = str(n).encode() + body
    write_raw("20-pax-path-dotdot.tar", header(b"PaxHeader/x", len(rec), b"x") + rec.ljust(512, b"\0") +
              header(b"innocent", 6) + b"pwned\n".ljust(512, b"\0") + b"\0" * 1024)
    huge_pax = b"99999999999 path=x\n"
    write_raw("21-pax-huge-record.tar", header(b"PaxHeader/y", len(huge_pax), b"x") + huge_pax.ljust(512, b"\0") +
              header(b"y", 0) + b"\0" * 1024)
    # 22-23: GNU long names and device nodes escaping.
    write("22-gnu-longname-dotdot.tar", [f("../" * 40 + "outside/pwned")], fmt=tarfile.GNU_FORMAT)
    dev, _ = info("../outside/dev", tarfile.CHRTYPE, mode=0o666)
    dev.devmajor, dev.devminor = 1, 3
    write("23-device-escape.tar", [(dev, b""), sym("esc", "../outside"), info("esc/fifo", tarfile.FIFOTYPE)])


if __name__ == "__main__":
    main()
