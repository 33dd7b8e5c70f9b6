"""Driving http_update from the tests: runs, kills, its state file, the
served files, and the figures and gates of a kill loop.

The state file layout is docs/integration.md's ("The state file"); this
module reads it with struct, not through the device's header.
"""
import hashlib
import http.client
import mmap
import os
import signal
import struct
import subprocess
import time
import urllib.parse

from nginxctl import die_with_parent

STATE_SIZE = 256
RUNNING = 0xFFFFFFFF
PHASES = ["off", "boot", "resume", "http", "engine", "erase", "program-data",
          "record-body", "record-commit", "digest", "backoff", "done"]
PH = {n: i for i, n in enumerate(PHASES)}

# name: (offset, struct format)
FIELDS = {
    "magic": (0, "8s"), "version": (8, "I"), "phase": (12, "I"),
    "pid": (16, "I"), "boots": (20, "I"), "completes": (24, "I"),
    "exit_status": (28, "I"), "image_changes": (32, "I"),
    "flash_size": (36, "I"), "erase_size": (40, "I"), "page_size": (44, "I"),
    "block_size": (48, "I"), "record_addr": (52, "I"),
    "record_size": (56, "I"), "mirror_addr": (60, "I"),
    "data_addr": (64, "I"), "data_size": (68, "I"), "op_addr": (72, "I"),
    "op_len": (76, "I"), "op_done": (80, "I"), "op_seq": (84, "I"),
    "erase_units": (88, "I"), "programs_data": (92, "I"),
    "programs_record": (96, "I"), "violations": (100, "I"),
    "refused": (104, "I"), "requests": (108, "I"), "retries": (112, "I"),
    "digest_done": (116, "I"), "body_bytes": (120, "Q"),
    "fed_bytes": (128, "Q"), "range_off": (136, "I"),
    "range_len": (140, "I"), "lock_addr": (144, "4I"),
    "lock_len": (160, "4I"), "slices": (176, "I"), "erase_us": (180, "I"),
    "prog_us": (184, "I"), "digest_us": (188, "I"),
}


def parse_state(buf):
    st = {}
    for name, (off, fmt) in FIELDS.items():
        v = struct.unpack_from("<" + fmt, buf, off)
        st[name] = v[0] if len(v) == 1 else list(v)
    return st


def read_state(path):
    with open(path, "rb") as f:
        return parse_state(f.read(STATE_SIZE))


# ------------------------------------------------------------ served files

def manifest_text(data, block_size=None):
    text = "# fwresume image manifest\nsize %d\nsha256 %s\n" % (
        len(data), hashlib.sha256(data).hexdigest())
    if block_size:
        text += "block_size %d\n" % block_size
    return text


def publish_image(www, name, data, mtime):
    """Write name in full under a temporary name, then rename it over the
    old one. mtime makes nginx's ETag (mtime-size) differ from the last
    one's."""
    path = os.path.join(www, name)
    tmp = path + ".publishing"
    with open(tmp, "wb") as f:
        f.write(data)
    os.utime(tmp, (mtime, mtime))
    os.rename(tmp, path)


def publish_manifest(www, name, text):
    path = os.path.join(www, name + ".manifest")
    with open(path + ".publishing", "w") as f:
        f.write(text)
    os.rename(path + ".publishing", path)


def publish(www, name, data, mtime, block_size=None, manifest=None):
    """Replace name and name.manifest, each atomically: the image first,
    then its manifest (docs/integration.md, "Publishing")."""
    publish_image(www, name, data, mtime)
    publish_manifest(www, name, manifest if manifest is not None
                     else manifest_text(data, block_size))


def image_bytes(seed, size):
    """Deterministic test image content."""
    out = bytearray()
    block = hashlib.sha256(b"fotasim-http-%d" % seed).digest()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


def etag_of(url):
    """The server's ETag for url (a HEAD, not through the device)."""
    u = urllib.parse.urlparse(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
    c.request("HEAD", u.path)
    r = c.getresponse()
    etag = r.getheader("ETag")
    c.close()
    return etag


# ------------------------------------------------------------ the device

class Device:
    """One device: a flash file, a state file, a log of every run."""

    def __init__(self, exe, workdir, url, args=(), fresh=True):
        self.exe = exe
        self.dir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.flash = os.path.join(workdir, "flash.img")
        self.state = self.flash + ".state"
        self.logfile = os.path.join(workdir, "device.log")
        self.url = url
        self.args = list(args)
        self.proc = None
        self.runs = 0
        if fresh:
            for f in (self.flash, self.state, self.logfile):
                if os.path.exists(f):
                    os.unlink(f)
        if not os.path.exists(self.state):
            # Made here so that the killer can map it before the first run.
            with open(self.state, "wb") as f:
                f.write(b"\0" * STATE_SIZE)
        fd = os.open(self.state, os.O_RDONLY)
        self._map = mmap.mmap(fd, STATE_SIZE, mmap.MAP_SHARED,
                              mmap.PROT_READ)
        os.close(fd)

    def command(self, extra=()):
        return ([self.exe, "--url", self.url, "--flash", self.flash,
                 "--state", self.state] + self.args + list(extra))

    def start(self, extra=()):
        self.runs += 1
        log = open(self.logfile, "a")
        log.write("=== run %d: %s\n" % (self.runs,
                                        " ".join(self.command(extra))))
        log.flush()
        self.proc = subprocess.Popen(
            self.command(extra), stdin=subprocess.DEVNULL, stdout=log,
            stderr=log, preexec_fn=lambda: die_with_parent(signal.SIGKILL))
        log.close()
        self.started = time.monotonic()
        return self.proc

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise RuntimeError("device run %d did not end within %.0f s "
                               "(log: %s)" % (self.runs, timeout,
                                              self.logfile))

    def run(self, timeout=120, extra=()):
        self.start(extra)
        return self.wait(timeout)

    def kill(self):
        """SIGKILL, reaped: the state file then holds the phase at death."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc:
            self.proc.wait()

    def phase(self):
        return struct.unpack_from("<I", self._map, 12)[0]

    def pid(self):
        return struct.unpack_from("<I", self._map, 16)[0]

    def state_now(self):
        return parse_state(self._map[:STATE_SIZE])

    def log_tail(self, n=15):
        try:
            with open(self.logfile) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def close(self):
        self.kill()
        self._map.close()


# ------------------------------------------------------------ kill loop

# Phases the kill loop aims at. The resume scan and boot are too short to
# aim at (a millisecond): the random instants find them.
TARGETS = ["erase", "program-data", "record-body", "record-commit", "http",
           "random"]


def dwell_s(target, timing, image_size):
    """How long the target phase lasts, seconds: the kill lands at a
    random point inside it."""
    if target == "erase":
        return timing["erase_us"] / 1e6
    if target in ("program-data", "record-body", "record-commit"):
        return timing["prog_us"] / 1e6
    if target == "digest":
        return image_size / 1024 * timing["digest_us"] / 1e6
    if target == "http":
        return 0.005  # the gaps between arriving chunks
    return 0.002  # resume


def kill_run(dev, target, rng, timing, image_size, deadline_s=None,
             random_window=0.5):
    """Start the device and SIGKILL it: at a random instant (target
    'random'), or at a random point inside the next occurrence of the
    target phase. Returns a dict, or None when the device exited first."""
    p = dev.start()
    t0 = time.monotonic()
    if target == "random":
        try:
            p.wait(rng.uniform(0, random_window))
            return None
        except subprocess.TimeoutExpired:
            pass
    else:
        want = PH[target]
        span = dwell_s(target, timing, image_size) * 0.9
        # Every phase but the digest recurs with every block; the digest
        # comes once, after the last block.
        if deadline_s is None:
            deadline_s = 120.0 if target == "digest" else 5.0
        deadline = t0 + deadline_s
        while True:
            if p.poll() is not None:
                return None
            # The phase word counts once this run has written its pid:
            # until then it is the last run's.
            if dev.phase() == want and dev.pid() == p.pid:
                time.sleep(rng.uniform(0, span))
                if dev.phase() == want:
                    break
                # The phase ended first: it is shorter here than dwell_s
                # says (an HTTP wait for a 1 KiB range nginx sends at
                # once, a fast build). Aim earlier next time, or a slow
                # aim lets the download finish before the kills do.
                span *= 0.5
            if time.monotonic() > deadline:
                break  # kill wherever it is
            time.sleep(0.0002)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    st = dev.state_now()
    ph = PHASES[st["phase"]] if st["phase"] < len(PHASES) else "?"
    if st["pid"] != p.pid:
        # Killed before main() wrote its pid: the phase word is the last
        # run's. Power lost while the loader ran.
        ph = "exec"
    where = ph
    if ph == "erase":
        where = "erase-data" if st["op_addr"] >= st["data_addr"] \
            else "erase-record"
    return {"target": target, "phase": ph, "where": where,
            "op_addr": st["op_addr"], "op_len": st["op_len"],
            "op_done": st["op_done"], "slices": st["slices"],
            "boot": st["boots"], "run_s": time.monotonic() - t0,
            "fed": st["fed_bytes"]}


def kill_schedule(n, rng, digest_kills):
    """n targets: the last digest_kills in the final digest (it only runs
    once all blocks are in), the others cycling through TARGETS."""
    plan = []
    while len(plan) < n - digest_kills:
        cycle = TARGETS[:]
        rng.shuffle(cycle)
        plan += cycle
    return plan[:n - digest_kills] + ["digest"] * digest_kills


# ------------------------------------------------------------ figures

def image_gets(log, uri):
    return [e for e in log
            if e["method"] == "GET" and e["uri"] == uri and
            e["status"] in (200, 206)]


def range_start(e):
    if e["status"] == 206 and e["range"].startswith("bytes="):
        return int(e["range"][6:].split("-")[0])
    return 0


def refetch_by_boot(log, uri, size):
    """Bytes nginx sent again (sent before, to any earlier request), per
    boot, in log order."""
    seen = bytearray(size)
    per_boot = {}
    for e in image_gets(log, uri):
        a = range_start(e)
        b = min(size, a + e["sent"])
        if b <= a:
            continue
        again = seen[a:b].count(1)
        seen[a:b] = b"\x01" * (b - a)
        per_boot[e["boot"]] = per_boot.get(e["boot"], 0) + again
    return per_boot


def phase_counts(kills):
    counts = {}
    for k in kills:
        counts[k["phase"]] = counts.get(k["phase"], 0) + 1
        if k["phase"] == "erase":
            counts[k["where"]] = counts.get(k["where"], 0) + 1
    return counts


REQUIRED_PHASES = ["erase", "program-data", "record-body", "record-commit",
                   "digest"]


def check_phases(counts):
    """The phase gate: a kill loop that did not kill in every phase has
    not shown what it claims."""
    return ["no kill landed in phase %s" % p for p in REQUIRED_PHASES
            if counts.get(p, 0) == 0]


def check_bytes(total, size, kills, unit):
    """The re-download gate: every kill may cost the block (or erase unit)
    in flight, nothing more."""
    bound = size + kills * unit
    if total > bound:
        return ["nginx sent %d image bytes, more than %d = %d + %d kills x "
                "%d" % (total, bound, size, kills, unit)]
    return []


def check_refetch(per_boot, unit):
    worst = max(per_boot.values()) if per_boot else 0
    if worst > unit:
        return ["a single kill cost %d bytes sent again, more than %d"
                % (worst, unit)]
    return []
