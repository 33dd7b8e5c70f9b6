#!/usr/bin/env python3
"""The http tests: examples/http_update against a real nginx.

  http_tests.py killloop --exe HTTP_UPDATE --workdir DIR [--kills N] ...
  http_tests.py change | norange | errors | torn | gates | cli ...

Each test starts its own nginx (nginxctl.py) under DIR, stops it at the
end whatever happens, and checks the flash with fwr_check.py, which reads
it from the documented format alone. Exit status 0 when the test passes.
"""
import argparse
import os
import random
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fwr_check  # noqa: E402
from devctl import (Device, PH, check_bytes, check_phases,  # noqa: E402
                    check_refetch, etag_of, image_bytes, image_gets,
                    kill_run, kill_schedule, manifest_text, phase_counts,
                    publish, publish_image, publish_manifest, read_state,
                    refetch_by_boot)
from nginxctl import Nginx, NginxError, free_port  # noqa: E402

MTIME0 = 1700000000  # served files' mtimes: nginx's ETag is mtime-size
ERASE_UNIT = 4096

FAILURES = []


def fail(msg):
    FAILURES.append(msg)
    print("FAIL: " + msg, flush=True)


def note(msg):
    print(msg, flush=True)


def timing_args(t):
    return ["--erase-us", str(t["erase_us"]), "--prog-us", str(t["prog_us"]),
            "--digest-us", str(t["digest_us"]), "--slices", str(t["slices"])]


def check_flash(dev, served, flash_size, block_size, etag, label,
                stats=None):
    with open(dev.flash, "rb") as f:
        flash = f.read()
    probs, rep = fwr_check.check(flash, served, flash_size, block_size, etag,
                                 stats)
    for line in rep:
        note("  fwr_check: " + line)
    for p in probs:
        fail("%s: %s" % (label, p))
    if not probs:
        note("  fwr_check: PASS (%s)" % label)
    return not probs


def device_counters_clean(dev, label):
    st = read_state(dev.state)
    if st["violations"] or st["refused"]:
        fail("%s: the device broke a NOR rule %d times, wrote to locked "
             "flash %d times" % (label, st["violations"], st["refused"]))
    return st


# ------------------------------------------------------------ killloop

def cmd_killloop(a):
    rng = random.Random(a.seed)
    size, bs = a.image_size, a.block_size
    unit = max(bs, ERASE_UNIT)
    timing = {"erase_us": a.erase_us, "prog_us": a.prog_us,
              "digest_us": a.digest_us, "slices": a.slices}
    data = image_bytes(a.seed, size)
    t_start = time.monotonic()
    with Nginx(os.path.join(a.workdir, "nginx"), rate=a.rate) as ng:
        publish(ng.www, "fw.bin", data, MTIME0, block_size=bs)
        uri = "/%s/fw.bin" % a.location if a.location else "/fw.bin"
        url = ng.url(uri)
        etag = etag_of(url)
        note("kill loop: seed %d, %d kills planned, %d-byte image in %d-byte "
             "blocks from %s (ETag %s), nginx on port %d, limit_rate %s"
             % (a.seed, a.kills, size, bs, url, etag, ng.port, a.rate))
        note("device timing: sector erase %d us, page program %d us, digest "
             "%d us/KiB, %d slices per op, tears by %s; resume policy %s"
             % (a.erase_us, a.prog_us, a.digest_us, a.slices, a.tear,
                a.verify))
        dev = Device(a.exe, os.path.join(a.workdir, "device"), url,
                     timing_args(timing) +
                     ["--flash-size", str(a.flash_size), "--tear", a.tear,
                      "--verify", a.verify,
                      "--retries", "3", "--backoff-ms", "50"])
        nd = max(2, a.kills // 10)
        plan = kill_schedule(a.kills, rng, nd)
        kills = []
        early = None

        def one(target):
            k = kill_run(dev, target, rng, timing, size)
            if k is None:
                note("run %d ended by itself (status %d), aimed at %s"
                     % (dev.runs, dev.proc.returncode, target))
                return dev.proc.returncode
            kills.append(k)
            if a.verbose:
                op = ""
                if k["phase"] in ("erase", "program-data", "record-body",
                                  "record-commit"):
                    unit = ERASE_UNIT if k["phase"] == "erase" else 256
                    n = k["slices"] * max(1, -(-k["op_len"] // unit))
                    op = "op 0x%06x+%d, %d/%d slices done" % (
                        k["op_addr"], k["op_len"], k["op_done"], n)
                note("kill %3d: aimed at %-13s landed in %-13s %.3f s into "
                     "run %d, %d bytes fed so far %s"
                     % (len(kills), k["target"], k["where"], k["run_s"],
                        dev.runs, k["fed"], op))
            return None

        def top_up(phases):
            # A phase no kill has landed in yet (an unlucky schedule, a
            # loaded machine) gets a few more kills aimed at it.
            for p in phases:
                tries = 0
                while early is None and tries < 8 and \
                        phase_counts(kills).get(p, 0) == 0:
                    tries += 1
                    if one(p) is not None:
                        return dev.proc.returncode
            return None

        for target in plan[:-nd]:
            early = one(target)
            if early is not None:
                break
        if early is None:
            early = top_up(["erase", "program-data", "record-body",
                            "record-commit"])
        for target in plan[-nd:]:
            if early is not None:
                break
            early = one(target)
        if early is None:
            early = top_up(["digest"])
        if early not in (None, 0):
            fail("the device exited %d during the kill loop:\n%s"
                 % (early, dev.log_tail()))
        rc = dev.run(timeout=300)
        if rc != 0:
            fail("final run exited %d:\n%s" % (rc, dev.log_tail()))
        boot_final = read_state(dev.state)["boots"]
        rc = dev.run(timeout=60)
        boot_idle = read_state(dev.state)["boots"]
        if rc != 0:
            fail("a run on the complete part exited %d" % rc)
        dev.close()
    wall = time.monotonic() - t_start
    log = ng.log()

    stats = {}
    correct = check_flash(dev, data, a.flash_size, bs, etag,
                          "flash after the loop", stats)
    if bs < ERASE_UNIT and not stats.get("VOID"):
        fail("blocks smaller than the erase unit, yet no VOID in the log: "
             "no kill landed mid erase group")
    st = device_counters_clean(dev, "kill loop")
    gets = image_gets(log, uri)
    total = sum(e["sent"] for e in gets)
    idle = [e for e in gets if e["boot"] == str(boot_idle)]
    if idle:
        fail("the run on the complete part fetched %d image ranges"
             % len(idle))
    per_boot = refetch_by_boot(log, uri, size)
    counts = phase_counts(kills)
    for p in check_phases(counts) + check_bytes(total, size, len(kills),
                                                unit) + \
            check_refetch(per_boot, unit):
        fail(p)
    if len(kills) < a.min_kills:
        fail("only %d kills (at least %d wanted)" % (len(kills), a.min_kills))

    worst_boot = max(per_boot, key=per_boot.get) if per_boot else None
    worst = per_boot.get(worst_boot, 0) if worst_boot else 0
    order = ["exec", "boot", "resume", "http", "engine", "erase", "erase-data",
             "erase-record", "program-data", "record-body", "record-commit",
             "digest", "backoff"]
    note("")
    note("kills: %d, %d runs in all (the last two: to COMPLETE, then one "
         "on the complete part, boots %d and %d)"
         % (len(kills), dev.runs, boot_final, boot_idle))
    note("kills per phase: " + ", ".join(
        "%s %d" % (p, counts.get(p, 0)) for p in order))
    note("image correct at the end: %s (checked from the flash file by "
         "fwr_check.py)" % ("yes" if correct else "NO"))
    note("bytes fetched (nginx access log, image GETs): %d for a %d-byte "
         "image: +%d (%.1f%%) over %d kills, bound %d + %d x %d = %d"
         % (total, size, total - size, 100.0 * (total - size) / size,
            len(kills), size, len(kills), unit, size + len(kills) * unit))
    note("device received %d body bytes and fed %d to the engine"
         % (st["body_bytes"], st["fed_bytes"]))
    note("worst re-fetch after one kill: %d bytes (boot %s); %d of %d runs "
         "re-fetched anything" % (worst, worst_boot, sum(
             1 for v in per_boot.values() if v), len(per_boot)))
    note("flash: %d sector erases, %d data page programs, %d record "
         "programs; programs that would set a bit %d, writes into locked "
         "flash %d (0 wanted)"
         % (st["erase_units"], st["programs_data"], st["programs_record"],
            st["violations"], st["refused"]))
    note("wall time %.1f s" % wall)


# ------------------------------------------------------------ change

FAST = {"erase_us": 2000, "prog_us": 200, "digest_us": 50, "slices": 4}


def wait_fed(dev, base, want, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if dev.proc.poll() is not None:
            return False
        if dev.state_now()["fed_bytes"] - base >= want:
            return True
        time.sleep(0.005)
    return False


def wait_midblock(dev, timeout):
    """Until a response is half received: fed bytes not block-aligned."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if dev.proc.poll() is not None:
            return False
        if dev.state_now()["fed_bytes"] % 4096:
            return True
        time.sleep(0.0005)
    return False


def cmd_change(a):
    sizes = [160 * 1024, 120001, 96 * 1024 + 513, 100000]
    imgs = [image_bytes(20 + i, s) for i, s in enumerate(sizes)]
    with Nginx(os.path.join(a.workdir, "nginx"), rate="256k") as ng:
        url = ng.url("/slow/fw.bin")
        publish(ng.www, "fw.bin", imgs[0], MTIME0)
        dev = Device(a.exe, os.path.join(a.workdir, "device"), url,
                     timing_args(FAST) + ["--retries", "4",
                                          "--backoff-ms", "100"])
        # 1. Replaced while the device downloads.
        dev.start()
        if not wait_fed(dev, 0, len(imgs[0]) // 3, 60):
            fail("the device did not get a third of image A:\n" +
                 dev.log_tail())
        publish(ng.www, "fw.bin", imgs[1], MTIME0 + 100)
        note("image A (%d bytes) replaced by B (%d bytes) after %d bytes "
             "fed" % (len(imgs[0]), len(imgs[1]),
                      dev.state_now()["fed_bytes"]))
        rc = dev.wait(120)
        if rc != 0:
            fail("device exited %d after the change:\n%s"
                 % (rc, dev.log_tail()))
        check_flash(dev, imgs[1], 1 << 20, 4096, etag_of(url),
                    "B after a change mid-download")
        st = dev.state_now()
        if st["image_changes"] < 1:
            fail("the device did not report the image change")
        # 2. Replaced while the device is dead: killed mid-download of C,
        # D published, the device restarted: D, and C's records void.
        publish(ng.www, "fw.bin", imgs[2], MTIME0 + 200)
        base = dev.state_now()["fed_bytes"]
        dev.start()
        if not wait_fed(dev, base, len(imgs[2]) // 2, 60):
            fail("the device did not get half of image C")
        dev.kill()
        publish(ng.www, "fw.bin", imgs[3], MTIME0 + 300)
        note("killed after %d bytes of C; D (%d bytes) published"
             % (dev.state_now()["fed_bytes"] - base, len(imgs[3])))
        rc = dev.run(120)
        if rc != 0:
            fail("device exited %d on D:\n%s" % (rc, dev.log_tail()))
        check_flash(dev, imgs[3], 1 << 20, 4096, etag_of(url),
                    "D after a change while off")
        # 3. The same size and content class, only the ETag moves (the
        # file is re-published with a new mtime): a new identity too.
        publish(ng.www, "fw.bin", imgs[3], MTIME0 + 400)
        rc = dev.run(120)
        if rc != 0:
            fail("device exited %d on D re-published:\n%s"
                 % (rc, dev.log_tail()))
        check_flash(dev, imgs[3], 1 << 20, 4096, etag_of(url),
                    "D re-published under a new ETag")
        # 4. The image replaced first and its manifest 0.7 s later (a
        # publisher that renames them apart): the device, seeing a new
        # ETag under the old manifest (same size: Content-Length cannot
        # tell), waits for the manifest.
        e0, e1 = image_bytes(30, 64 * 1024), image_bytes(31, 64 * 1024)
        publish(ng.www, "fw.bin", e0, MTIME0 + 500)
        base = dev.state_now()["fed_bytes"]
        dev.start()
        if not wait_fed(dev, base, len(e0) // 3, 60):
            fail("the device did not get a third of image E0")
        publish_image(ng.www, "fw.bin", e1, MTIME0 + 600)
        time.sleep(0.7)
        publish_manifest(ng.www, "fw.bin", manifest_text(e1))
        rc = dev.wait(120)
        if rc != 0:
            fail("device exited %d on E1:\n%s" % (rc, dev.log_tail()))
        check_flash(dev, e1, 1 << 20, 4096, etag_of(url),
                    "E1, its manifest published late")
        device_counters_clean(dev, "change")
        dev.close()
    with open(dev.logfile) as f:
        log = f.read()
    for what in ("new image", "but the manifest did not"):
        if what not in log:
            fail("the device log does not show '%s'" % what)


# ------------------------------------------------------------ norange

def cmd_norange(a):
    rng = random.Random(a.seed)
    data = image_bytes(40, 96 * 1024 + 100)
    timing = {"erase_us": 4000, "prog_us": 400, "digest_us": 200,
              "slices": 4}
    with Nginx(os.path.join(a.workdir, "nginx")) as ng:
        publish(ng.www, "fw.bin", data, MTIME0)
        uri = "/norange/fw.bin"
        url = ng.url(uri)
        dev = Device(a.exe, os.path.join(a.workdir, "device"), url,
                     timing_args(timing) + ["--retries", "3",
                                            "--backoff-ms", "50"])
        kills = []
        for target in ["program-data", "record-commit", "http", "erase",
                       "random", "record-body", "digest"]:
            k = kill_run(dev, target, rng, timing, len(data))
            if k is None:
                break
            kills.append(k)
        rc = dev.run(120)
        if rc != 0:
            fail("device exited %d:\n%s" % (rc, dev.log_tail()))
        etag = etag_of(url)
        dev.close()
    log = ng.log()
    gets = image_gets(log, uri)
    codes = sorted(set(e["status"] for e in gets))
    note("%d image GETs with Range, answered %s; %d kills (%s); nginx sent "
         "%d bytes for a %d-byte image" % (
             len(gets), codes, len(kills),
             ", ".join(k["where"] for k in kills),
             sum(e["sent"] for e in gets), len(data)))
    if codes != [200]:
        fail("the no-Range location answered %s, not only 200" % codes)
    if not [e for e in gets if e["range"].startswith("bytes=")]:
        fail("the device sent no Range header")
    check_flash(dev, data, 1 << 20, 4096, etag, "without Range support")
    device_counters_clean(dev, "norange")


# ------------------------------------------------------------ errors

def expect_exit(dev, want, within, label, extra=()):
    t = time.monotonic()
    rc = dev.run(timeout=within + 30, extra=extra)
    dt = time.monotonic() - t
    ok = rc == want and dt <= within
    note("%-44s exit %d (want %d) in %.2f s (bound %.0f s)%s"
         % (label, rc, want, dt, within, "" if ok else "  <-- FAIL"))
    if rc != want:
        fail("%s: exit %d, want %d:\n%s" % (label, rc, want, dev.log_tail()))
    elif dt > within:
        fail("%s: took %.1f s, bound %.0f s" % (label, dt, within))
    return rc


def cmd_errors(a):
    small = image_bytes(50, 32 * 1024)
    retry = ["--retries", "2", "--backoff-ms", "50", "--connect-timeout-ms",
             "1000"] + timing_args(FAST)
    work = a.workdir
    with Nginx(os.path.join(work, "nginx"), rate="256k") as ng:
        publish(ng.www, "fw.bin", small, MTIME0)
        with open(os.path.join(ng.www, "orphan.bin.manifest"), "w") as f:
            f.write("size 100\nsha256 %s\n" % ("00" * 32))
        publish(ng.www, "bad.bin", small, MTIME0,
                manifest="size 32768\nsha256 not-hex\n")
        publish(ng.www, "short.bin", small, MTIME0,
                manifest="size 30000\nsha256 %s\n" % ("ab" * 32))
        big = image_bytes(51, 1 << 20)
        publish(ng.www, "big.bin", big, MTIME0)
        wrong = image_bytes(52, len(small))
        publish(ng.www, "wrong.bin", small, MTIME0,
                manifest=manifest_text(wrong))

        def dev_for(name, path):
            return Device(a.exe, os.path.join(work, name), path, retry)

        d = dev_for("missing", ng.url("/missing/fw.bin"))
        expect_exit(d, 4, 3, "manifest 404")
        n = [e for e in ng.log() if e["uri"] == "/missing/fw.bin.manifest"]
        if len(n) != 3:
            fail("manifest 404: %d requests, want 3 (1 + 2 retries)" % len(n))
        expect_exit(dev_for("orphan", ng.url("/orphan.bin")), 4, 3,
                    "image 404 (manifest present)")
        expect_exit(dev_for("e503", ng.url("/e503/fw.bin")), 4, 3,
                    "every answer 503")
        expect_exit(dev_for("refused",
                            "http://127.0.0.1:%d/fw.bin" % free_port()),
                    5, 3, "connection refused")
        expect_exit(dev_for("stall", ng.url("/stall/fw.bin")), 5, 6,
                    "range requests stall (1 byte/s)",
                    extra=["--stall-s", "1", "--stall-bps", "512",
                           "--retries", "1"])
        expect_exit(dev_for("bad", ng.url("/bad.bin")), 6, 3,
                    "manifest not valid")
        expect_exit(dev_for("short", ng.url("/short.bin")), 6, 3,
                    "manifest size is not Content-Length")
        expect_exit(dev_for("big", ng.url("/big.bin")), 6, 3,
                    "image larger than the data area")
        expect_exit(dev_for("wrong", ng.url("/wrong.bin")), 7, 20,
                    "bytes do not hash to the manifest")
        # Connection resets: the workers SIGKILLed mid-download; the device
        # retries and completes, nothing lost but the bytes in flight.
        data = image_bytes(53, 160 * 1024)
        publish(ng.www, "reset.bin", data, MTIME0)
        d = dev_for("reset", ng.url("/slow/reset.bin"))
        d.start()
        resets = 0
        for frac in (0.25, 0.5, 0.75):
            # Mid-response: part of a block in (a reset between requests
            # is retried inside libcurl, unseen). The workers are looked
            # up first: scanning /proc takes longer than a response.
            workers = ng.workers()
            if wait_fed(d, 0, int(len(data) * frac), 60) and \
                    wait_midblock(d, 10):
                for pid in workers:
                    os.kill(pid, signal.SIGKILL)
                resets += 1
                time.sleep(0.1)  # the master starts new workers
        rc = d.wait(120)
        note("%-44s exit %d after %d resets" % ("connection resets", rc,
                                                 resets))
        if rc != 0 or resets != 3:
            fail("resets: exit %d after %d resets:\n%s"
                 % (rc, resets, d.log_tail()))
        check_flash(d, data, 1 << 20, 4096, etag_of(ng.url("/reset.bin")),
                    "after connection resets")
        with open(d.logfile) as f:
            if "retry" not in f.read():
                fail("resets: the device log shows no retry")
        for dd in (d,):
            dd.close()


# ------------------------------------------------------------ torn

def wait_phase(dev, phase, cond, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if dev.proc.poll() is not None:
            return False
        if dev.phase() == phase and dev.pid() == dev.proc.pid and \
                cond(dev.state_now()):
            return True
        time.sleep(0.0005)
    return False


def cmd_torn(a):
    """A kill inside an op leaves a torn op in the flash file, read after
    the process is gone; the next run recovers from exactly that."""
    A = image_bytes(60, 64 * 1024)
    B = image_bytes(61, 64 * 1024)
    with Nginx(os.path.join(a.workdir, "nginx")) as ng:
        url = ng.url("/fw.bin")
        publish(ng.www, "fw.bin", A, MTIME0)
        dev = Device(a.exe, os.path.join(a.workdir, "device"), url,
                     timing_args(FAST))
        if dev.run(60) != 0:
            fail("image A did not complete")
        st = read_state(dev.state)
        data_addr = st["data_addr"]
        publish(ng.www, "fw.bin", B, MTIME0 + 100)

        def torn(label, phase, cond, slow, check):
            dev.start(extra=slow)
            if not wait_phase(dev, phase, cond, 30):
                fail("%s: phase never seen:\n%s" % (label, dev.log_tail()))
                dev.kill()
                return
            s = dev.state_now()
            per = (s["erase_us"] if phase == PH["erase"] else s["prog_us"])
            # Into the middle of the op: about half of its slices.
            time.sleep(per / 1e6 * 0.5)
            dev.kill()
            s = read_state(dev.state)
            with open(dev.flash, "rb") as f:  # plain reads, process gone
                flash = f.read()
            check(label, s, flash)

        def erase_check(label, s, flash):
            if s["phase"] != PH["erase"]:
                fail("%s: died in %d, not in the erase" % (label, s["phase"]))
                return
            a0 = s["op_addr"] + (s["op_done"] // s["slices"]) * ERASE_UNIT
            unit = flash[a0:a0 + ERASE_UNIT]
            old = A[a0 - data_addr:a0 - data_addr + ERASE_UNIT]
            ff = sum(1 for x in unit if x == 0xFF)
            same = sum(1 for x, y in zip(unit, old) if x == y and y != 0xFF)
            note("%s: unit 0x%06x after %d of %d slices: %d bytes erased, "
                 "%d still image A's" % (label, a0, s["op_done"] %
                                          s["slices"], s["slices"], ff, same))
            if not (ff > 0 and same > 0):
                fail("%s: the unit is not partly erased" % label)

        def prog_check(label, s, flash):
            if s["phase"] not in (PH["program-data"], PH["record-body"]):
                fail("%s: died in %d, not in a program" % (label, s["phase"]))
                return
            a0, n = s["op_addr"], s["op_len"]
            got = flash[a0:a0 + n]
            if s["phase"] == PH["program-data"]:
                want = B[a0 - data_addr:a0 - data_addr + n]
            else:
                want = None
            ff = sum(1 for x in got if x == 0xFF)
            if want is not None:
                done = sum(1 for x, y in zip(got, want) if x == y != 0xFF)
                note("%s: page 0x%06x+%d after %d of %d slices: %d bytes "
                     "programmed, %d still erased"
                     % (label, a0, n, s["op_done"], s["slices"], done, ff))
                ok = done > 0 and ff > 0 and got != want
            else:
                note("%s: record body 0x%06x+%d after %d of %d slices: %d "
                     "of its bytes still erased: %s"
                     % (label, a0, n, s["op_done"], s["slices"], ff,
                        got.hex()))
                ok = 0 < ff < n
            if not ok:
                fail("%s: the range is not partly programmed" % label)

        slow_erase = ["--erase-us", "60000", "--slices", "8"]
        torn("torn erase", PH["erase"],
             lambda s: s["op_addr"] >= data_addr, slow_erase, erase_check)
        slow_prog = ["--prog-us", "40000", "--slices", "8"]
        torn("torn data program", PH["program-data"], lambda s: True,
             slow_prog, prog_check)
        torn("torn record body", PH["record-body"],
             lambda s: s["op_len"] > 8, slow_prog, prog_check)
        # Recovery from exactly these torn states.
        rc = dev.run(60)
        if rc != 0:
            fail("recovery run exited %d:\n%s" % (rc, dev.log_tail()))
        check_flash(dev, B, 1 << 20, 4096, etag_of(url),
                    "recovered from the torn ops")
        device_counters_clean(dev, "torn")
        dev.close()


# ------------------------------------------------------------ gates

def flip(buf, off):
    b = bytearray(buf)
    b[off] ^= 0x01
    return bytes(b)


def cmd_gates(a):
    """Every gate of these tests, shown failing on an input that is wrong
    in exactly one way (and passing on the right one)."""
    data = image_bytes(70, 48 * 1024 + 77)
    with Nginx(os.path.join(a.workdir, "nginx")) as ng:
        url = ng.url("/fw.bin")
        publish(ng.www, "fw.bin", data, MTIME0)
        etag = etag_of(url)
        dev = Device(a.exe, os.path.join(a.workdir, "device"), url,
                     timing_args(FAST))
        if dev.run(60) != 0:
            fail("the clean download failed:\n" + dev.log_tail())
        with open(dev.flash, "rb") as f:
            good = f.read()
        lay = fwr_check.layout(len(good))

        def expect(label, flash, served, want_ok, etag_=etag, pattern=""):
            probs, _ = fwr_check.check(flash, served, len(good), 4096, etag_)
            ok = not probs
            shown = probs[0] if probs else "pass"
            good_ = ok == want_ok and (not pattern or
                                       any(pattern in p for p in probs))
            note("%-46s %s%s" % (label, shown[:110],
                                 "" if good_ else "  <-- FAIL"))
            if not good_:
                fail("gate %s: %s" % (label, probs or "passed"))

        expect("checker, the right image", good, data, True)
        expect("checker, one data byte wrong",
               flip(good, lay["data_addr"] + 12345), data, False,
               pattern="data area differs")
        expect("checker, served file one byte off", good,
               flip(data, 999), False, pattern="digest")
        expect("checker, another ETag", good, data, False,
               etag_='"deadbeef-1"', pattern="ETag")
        # The COMPLETE entry erased in both copies: as a cut before it.
        hs, ss = fwr_check.header_size(1), fwr_check.slot_size(1, 4)
        b = bytearray(good)
        hit = 0
        for base in (lay["record_addr"], lay["mirror_addr"]):
            for k in range((lay["record_size"] - hs) // ss):
                s = fwr_check.parse_slot(good, base + hs + k * ss)
                if s["state"] == "valid" and s["type"] == 0xC3:
                    off = base + hs + k * ss
                    b[off:off + ss] = b"\xff" * ss
                    hit += 1
        if hit != 2:
            fail("gate setup: %d COMPLETE slots found, want 2" % hit)
        expect("checker, no COMPLETE record", bytes(b), data, False,
               pattern="COMPLETE")
        # The CLI gives the same verdicts as exit statuses.
        bad = os.path.join(a.workdir, "bad.img")
        with open(bad, "wb") as f:
            f.write(flip(good, lay["data_addr"] + 7))
        served = os.path.join(ng.www, "fw.bin")
        chk = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "fwr_check.py")
        for path, want in ((dev.flash, 0), (bad, 1)):
            rc = subprocess.run([sys.executable, chk, path, served,
                                 "--etag", etag], stdout=subprocess.DEVNULL
                                ).returncode
            note("%-46s exit %d (want %d)" % ("fwr_check.py " +
                                              os.path.basename(path), rc,
                                              want))
            if rc != want:
                fail("fwr_check.py on %s: exit %d, want %d" % (path, rc,
                                                                want))
        # The device itself finds the bad byte at boot (full policy:
        # every block re-hashed) and downloads that block again.
        with open(dev.flash, "r+b") as f:
            f.seek(lay["data_addr"] + 5000)
            c = f.read(1)
            f.seek(lay["data_addr"] + 5000)
            f.write(bytes([c[0] ^ 0x80]))
        rc = dev.run(60)
        if rc != 0:
            fail("the device did not repair the flipped byte: exit %d" % rc)
        check_flash(dev, data, 1 << 20, 4096, etag,
                    "the device re-downloaded the corrupt block")
        with open(dev.logfile) as f:
            runs = f.read().split("=== run")
        nb = (len(data) + 4095) // 4096
        if "%d blocks of 4096" % nb not in runs[-1] or \
                "%d blocks on flash" % (nb - 1) not in runs[-1]:
            fail("the repair run did not find exactly one bad block:\n" +
                 runs[-1])
        dev.close()

    # The kill loop's own gates on made-up figures.
    def gate(label, probs, want_fail):
        ok = bool(probs) == want_fail
        note("%-46s %s%s" % (label, probs[0] if probs else "pass",
                             "" if ok else "  <-- FAIL"))
        if not ok:
            fail("gate %s" % label)

    size, unit = 262144, 4096
    gate("bytes gate, at the bound", check_bytes(size + 20 * unit, size, 20,
                                                 unit), False)
    gate("bytes gate, one byte over", check_bytes(size + 20 * unit + 1, size,
                                                  20, unit), True)
    full = {"erase": 3, "program-data": 4, "record-body": 2,
            "record-commit": 2, "digest": 2}
    gate("phase gate, every phase", check_phases(full), False)
    gate("phase gate, no digest kill", check_phases(
        dict(full, digest=0)), True)
    gate("re-fetch gate, one unit", check_refetch({2: unit, 3: 0}, unit),
         False)
    gate("re-fetch gate, one unit and a byte", check_refetch(
        {2: unit + 1}, unit), True)
    log = [{"method": "GET", "uri": "/fw.bin", "status": 206, "sent": 4096,
            "range": "bytes=0-4095", "boot": "1"},
           {"method": "GET", "uri": "/fw.bin", "status": 206, "sent": 4096,
            "range": "bytes=0-4095", "boot": "2"},
           {"method": "GET", "uri": "/fw.bin", "status": 200, "sent": 8192,
            "range": "bytes=4096-8191", "boot": "3"}]
    per = refetch_by_boot(log, "/fw.bin", 16384)
    gate("re-fetch count from a made-up log", [] if per == {
        "1": 0, "2": 4096, "3": 4096} else ["counted %s" % per], False)


# ------------------------------------------------------------ cli

def cmd_cli(a):
    def run(args):
        p = subprocess.run([a.exe] + args, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        return p.returncode, p.stdout + p.stderr

    rc, out = run(["--help"])
    if rc != 0:
        fail("--help exited %d" % rc)
    for word in ("--url", "--flash", "--state", "--erase-us", "--prog-us",
                 "--digest-us", "--slices", "--tear", "--block-size",
                 "--retries", "--backoff-ms", "--stall-s", "--max-changes",
                 "Exit status"):
        if word not in out:
            fail("--help does not mention %s" % word)
    for st in range(2, 9):
        if "\n  %d  " % st not in out:
            fail("--help does not document exit status %d" % st)
    for args, label in (([], "no --url"), (["--url"], "--url without value"),
                        (["--nope", "x"], "unknown option"),
                        (["--url", "http://x/", "--block-size", "3000"],
                         "block size not a power of 2"),
                        (["--url", "http://x/", "--slices", "0"],
                         "no slices")):
        rc, out = run(args)
        note("%-30s exit %d" % (label, rc))
        if rc != 2:
            fail("%s: exit %d, want 2" % (label, rc))
    rc, out = run(["--print-layout"])
    lay = fwr_check.layout(1 << 20)
    if rc != 0 or "0x%06x" % lay["data_addr"] not in out:
        fail("--print-layout does not give the checker's data address "
             "0x%06x:\n%s" % (lay["data_addr"], out))
    os.makedirs(a.workdir, exist_ok=True)
    f = os.path.join(a.workdir, "wrong-size.img")
    with open(f, "wb") as fh:
        fh.write(b"\xff" * 4096)
    rc, out = run(["--url", "http://127.0.0.1:9/x", "--flash", f])
    note("%-30s exit %d" % ("flash file of the wrong size", rc))
    if rc != 3:
        fail("a flash file of the wrong size: exit %d, want 3" % rc)


# ------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("test", choices=["killloop", "change", "norange",
                                     "errors", "torn", "gates", "cli"])
    ap.add_argument("--exe", required=True, help="the http_update binary")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--kills", type=int, default=24)
    ap.add_argument("--min-kills", type=int, default=20)
    ap.add_argument("--image-size", type=int, default=256 * 1024)
    ap.add_argument("--block-size", type=int, default=4096)
    ap.add_argument("--flash-size", type=int, default=1 << 20)
    ap.add_argument("--location", default="slow")
    ap.add_argument("--rate", default="64k")
    ap.add_argument("--erase-us", type=int, default=8000)
    ap.add_argument("--prog-us", type=int, default=1000)
    ap.add_argument("--digest-us", type=int, default=400)
    ap.add_argument("--slices", type=int, default=8)
    ap.add_argument("--tear", default="region", choices=["region", "bits"])
    ap.add_argument("--verify", default="full", choices=["full", "trusted"])
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    a.workdir = os.path.abspath(a.workdir)
    os.makedirs(a.workdir, exist_ok=True)
    # A SIGTERM (ctest's timeout, a CI cancel) unwinds through the
    # with-blocks, so nginx is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        globals()["cmd_" + a.test](a)
    except NginxError as e:
        fail(str(e))
    if FAILURES:
        print("\n%s: FAILED (%d)" % (a.test, len(FAILURES)))
        return 1
    print("\n%s: PASSED" % a.test)
    return 0


if __name__ == "__main__":
    sys.exit(main())
