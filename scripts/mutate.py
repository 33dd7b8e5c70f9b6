#!/usr/bin/env python3
"""Mutation testing of the fwresume engine (core/src/*.c).

Each mutant is one small change to one engine source file: an operator
flip, a constant moved by one, a deleted statement, an early return or an
`if` forced one way. A mutant is built in a scratch copy of the tree (one
configured build per worker; the real tree is never written) and judged:
first by the torture campaign, then by the CMocka unit suite. The summary
scores how many behaviour-changing mutants the judges kill.

docs/mutation.md explains the outcomes, the options and the last full run.
Python 3 standard library only.
"""

import argparse
import bisect
import difflib
import io
import json
import os
import random
import re
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINE_FILES = ("core/src/fwr_crc32.c", "core/src/fwr_engine.c")
DEFAULT_SCENARIOS = (
    "scenarios/nor-1m-4k.ini",
    "scenarios/nand-ecc-badblocks.ini",
    "scenarios/nor-1m-1k-small-blocks.ini",
    "scenarios/nested-cuts.ini",
    "scenarios/bitflip-storm.ini",
)
DEFAULT_CAMPAIGN = "scenarios/campaign-ci.ini"
REVIEWED = "tests/mutate/equivalent.txt"  # equivalent by review
UNIT_TEST = "core_engine"  # ctest name and executable (tests/core)
SELF_TEST = {
    "expect": "tests/mutate/self-test.expect",
    "scenarios": ["scenarios/nested-cuts.ini"],
    "unit_filter": "test_crc32_*",
    "timeout": 5.0,
}
OUTCOMES = ("not-built", "equivalent", "killed-campaign", "killed-unit",
            "timeout", "survived")
BUILD_TIMEOUT = 900.0
# What fotasim says when its watchdog stops the uncut update of a hanging
# engine (docs/torture.md, Watchdog): "the uncut update does not complete:
# the engine ran 2 s of CPU time, the watchdog's budget for it, ...".
WATCHDOG_HANG = "the watchdog's budget for it"


# ------------------------------------------------------------ tokens

@dataclass
class Token:
    text: str
    kind: str  # ident, num, str, punct
    start: int  # offset in the source
    pp: bool = False  # inside a #define body


TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<comment>/\*.*?\*/|//[^\n]*)
  | (?P<str>"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')
  | (?P<num>\.?\d(?:[eEpP][+-]|[\w.])*)
  | (?P<ident>[A-Za-z_]\w*)
  | (?P<punct><<=|>>=|\.\.\.|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\|
               |[*/%+\-&^|]=|\#\#|\S)
""", re.S | re.X)
DEFINE_RE = re.compile(r"#\s*define\s+\w+(?!\()")


def directive_end(src, pos):
    """Offset of the newline ending the directive at pos (continuations
    joined)."""
    end = src.find("\n", pos)
    while end > 0 and src[end - 1] == "\\":
        end = src.find("\n", end + 1)
    return len(src) if end < 0 else end


def tokenize(src, start=0, end=None, pp=False):
    """C tokens of src[start:end]: comments dropped, directives other than
    an object-like #define dropped, #define bodies marked pp."""
    end = len(src) if end is None else end
    tokens, pos, line_start = [], start, True
    while pos < end:
        if line_start and src[pos] == "#" and not pp:
            stop = directive_end(src, pos)
            define = DEFINE_RE.match(src, pos, stop)
            if define:
                tokens += tokenize(src, define.end(), stop, pp=True)
            pos = stop
            continue
        m = TOKEN_RE.match(src, pos, end)
        kind = m.lastgroup
        if kind == "ws":
            line_start = line_start or "\n" in m.group()
        else:
            line_start = False
            if kind != "comment":
                tokens.append(Token(m.group(), kind, pos, pp))
        pos = m.end()
    return tokens


# ------------------------------------------------------------ mutants

@dataclass
class Mutant:
    file: str  # path relative to the tree root
    start: int  # replaced span of the source
    end: int
    replacement: str
    kind: str  # ror, lcr, aor, bor, neg, cst, del, ret, if1, if0
    mutation: str  # readable description
    line: int = 0
    id: str = ""

    def apply(self, src):
        return src[:self.start] + self.replacement + src[self.end:]


KEYWORDS = {
    "auto", "break", "case", "char", "const", "continue", "default", "do",
    "double", "else", "enum", "extern", "float", "for", "goto", "if",
    "inline", "int", "long", "register", "restrict", "return", "short",
    "signed", "sizeof", "static", "struct", "switch", "typedef", "union",
    "unsigned", "void", "volatile", "while",
}
DECL_WORDS = {
    "char", "const", "double", "enum", "extern", "float", "int", "long",
    "short", "signed", "static", "struct", "union", "unsigned", "void",
    "volatile", "typedef",
}
# Operator flips: (kind, needs a binary operator, replacements).
OPERATOR_FLIPS = {
    "==": ("ror", False, ["!="]), "!=": ("ror", False, ["=="]),
    "<": ("ror", False, ["<="]), "<=": ("ror", False, ["<"]),
    ">": ("ror", False, [">="]), ">=": ("ror", False, [">"]),
    "&&": ("lcr", False, ["||"]), "||": ("lcr", False, ["&&"]),
    "+": ("aor", True, ["-"]), "-": ("aor", True, ["+"]),
    "/": ("aor", False, ["*"]),
    "++": ("aor", False, ["--"]), "--": ("aor", False, ["++"]),
    "+=": ("aor", False, ["-="]), "-=": ("aor", False, ["+="]),
    "&": ("bor", True, ["|"]), "|": ("bor", False, ["&"]),
    "<<": ("bor", False, [">>"]), ">>": ("bor", False, ["<<"]),
    "&=": ("bor", False, ["|="]), "|=": ("bor", False, ["&="]),
}
INT_RE = re.compile(r"(0[xX][0-9a-fA-F]+|[1-9]\d*|0)([uUlL]*)")


def is_operand_end(tok):
    """Can tok end an operand (so that the next + - & is binary)?"""
    if tok.kind in ("num", "str"):
        return True
    if tok.kind == "ident":
        return tok.text not in KEYWORDS
    return tok.text in (")", "]")


def operator_mutants(path, tokens):
    out = []
    for i, tok in enumerate(tokens):
        if tok.kind != "punct":
            continue
        end = tok.start + len(tok.text)
        if tok.text in ("!", "~"):
            out.append(Mutant(path, tok.start, end, "", "neg",
                              f"delete '{tok.text}'"))
            continue
        flip = OPERATOR_FLIPS.get(tok.text)
        if not flip:
            continue
        kind, binary_only, repls = flip
        if binary_only and not (i and is_operand_end(tokens[i - 1])):
            continue
        for r in repls:
            out.append(Mutant(path, tok.start, end, r, kind,
                              f"'{tok.text}' -> '{r}'"))
    return out


def format_int(text, value):
    """value spelled like the literal text (base, digit case, suffix)."""
    body, suffix = INT_RE.fullmatch(text).groups()
    if body[:2].lower() == "0x":
        digits = format(value, "0%dx" % (len(body) - 2))
        if body[2:] != body[2:].lower():
            digits = digits.upper()
        return body[:2] + digits + suffix
    return str(value) + suffix


def constant_mutants(path, tokens):
    out = []
    for tok in tokens:
        m = INT_RE.fullmatch(tok.text) if tok.kind == "num" else None
        if not m:
            continue
        value = int(m.group(1), 0)
        news = {0: [1], 1: [0, 2]}.get(value, [value - 1, value + 1])
        for v in news:
            r = format_int(tok.text, v)
            out.append(Mutant(path, tok.start, tok.start + len(tok.text), r,
                              "cst", f"{tok.text} -> {r}"))
    return out


def matching(tokens, i):
    """Index of the bracket closing the one at tokens[i]."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    opener, closer, depth = tokens[i].text, pairs[tokens[i].text], 0
    for j in range(i, len(tokens)):
        depth += (tokens[j].text == opener) - (tokens[j].text == closer)
        if depth == 0:
            return j
    raise ValueError("unbalanced brackets")


def statement_end(tokens, i):
    """Index of the ';' ending the statement starting at tokens[i]."""
    while tokens[i].text != ";":
        i = matching(tokens, i) + 1 if tokens[i].text in "([{" else i + 1
    return i


def short(src, a, b, width=48):
    text = " ".join(src[a:b].split())
    return text if len(text) <= width else text[:width - 3] + "..."


class StatementWalker:
    """Walks function bodies and collects the statement-level mutants:
    expression statements deleted, if conditions forced to 1 and to 0."""

    def __init__(self, path, src, tokens):
        self.path, self.src, self.tokens, self.out = path, src, tokens, []

    def span(self, a, b):
        """Source offsets covering tokens[a..b]."""
        last = self.tokens[b]
        return self.tokens[a].start, last.start + len(last.text)

    def block(self, i):
        """Statements of the block opening at tokens[i]; index past it."""
        close = matching(self.tokens, i)
        i += 1
        while i < close:
            i = self.statement(i)
        return close + 1

    def statement(self, i):
        t = self.tokens[i].text
        if t == "{":
            return self.block(i)
        if t == "if":
            close = matching(self.tokens, i + 1)
            self.if_guard(i + 1, close)
            j = self.statement(close + 1)
            if j < len(self.tokens) and self.tokens[j].text == "else":
                j = self.statement(j + 1)
            return j
        if t in ("while", "for", "switch"):
            return self.statement(matching(self.tokens, i + 1) + 1)
        if t == "do":
            j = self.statement(i + 1)
            return statement_end(self.tokens, j) + 1
        end = statement_end(self.tokens, i)
        first = self.tokens[i]
        if not (first.text in KEYWORDS or first.text in DECL_WORDS
                or first.text.endswith("_t") or first.text == ";"):
            a, b = self.span(i, end)
            self.out.append(Mutant(self.path, a, b, "{}", "del",
                                   f"delete '{short(self.src, a, b)}'"))
        return end + 1

    def if_guard(self, open_, close):
        a, b = self.span(open_, close)
        cond = short(self.src, a + 1, b - 1, 36)
        for v in ("1", "0"):
            self.out.append(Mutant(self.path, a, b, f"({v})", "if" + v,
                                   f"if ({cond}) -> if ({v})"))


def function_bodies(tokens):
    """(name, return type tokens, index of '{') of each function
    definition."""
    out, i, decl_start = [], 0, 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.pp or tok.text == ";":
            decl_start = i + 1
        elif tok.text == "{":
            close = matching(tokens, i)
            if i and tokens[i - 1].text == ")":
                depth, j = 0, i - 1
                while True:  # back to the '(' of the parameter list
                    depth += (tokens[j].text == ")") - (tokens[j].text == "(")
                    if depth == 0:
                        break
                    j -= 1
                out.append((tokens[j - 1].text,
                            [t.text for t in tokens[decl_start:j - 1]], i))
            i, decl_start = close, close + 1
        i += 1
    return out


def statement_mutants(path, src, tokens):
    walker = StatementWalker(path, src, tokens)
    out = []
    for name, rtype, brace in function_bodies(tokens):
        walker.block(brace)
        if "*" in rtype:
            continue  # no early return for a pointer: a NULL crash only
        value = "" if "void" in rtype else " 0"
        at = tokens[brace].start + 1
        out.append(Mutant(path, at, at, f" return{value};", "ret",
                          f"return{value} at entry of {name}()"))
    return out + walker.out


def line_of(src):
    starts = [0] + [i + 1 for i, c in enumerate(src) if c == "\n"]
    return lambda off: bisect.bisect_right(starts, off)


def all_mutants(sources):
    """Every mutant of every file, sorted, with ids m0001..."""
    out = []
    for path in sorted(sources):
        src = sources[path]
        tokens = tokenize(src)
        found = (operator_mutants(path, tokens) +
                 constant_mutants(path, tokens) +
                 statement_mutants(path, src, tokens))
        lines = line_of(src)
        for m in found:
            m.line = lines(m.start)
        out += sorted(found, key=lambda m: (m.start, m.end, m.kind,
                                            m.replacement))
    for n, m in enumerate(out, 1):
        m.id = f"m{n:04d}"
    return out


def select(mutants, only, max_n, seed):
    if only:
        wanted = {x for arg in only for x in arg.split(",") if x}
        unknown = wanted - {m.id for m in mutants}
        if unknown:
            sys.exit(f"mutate: no such mutant: {', '.join(sorted(unknown))}")
        mutants = [m for m in mutants if m.id in wanted]
    if max_n is not None and max_n < len(mutants):
        mutants = sorted(random.Random(seed).sample(mutants, max_n),
                         key=lambda m: m.id)
    return mutants


def diff_hunk(m, src):
    new = m.apply(src)
    return "".join(difflib.unified_diff(
        src.splitlines(True), new.splitlines(True),
        f"a/{m.file}", f"b/{m.file}", n=2))


# ------------------------------------------------------------ processes

class Groups:
    """Process groups of running commands, so that all can be killed."""

    def __init__(self):
        self.lock, self.pgids, self.stopping = threading.Lock(), set(), False

    def run(self, argv, cwd, log, timeout, env=None):
        """Run argv in its own process group, output to log. Returns (exit
        status or None on timeout, seconds). On timeout the whole group is
        killed."""
        if self.stopping:
            raise KeyboardInterrupt
        t0 = time.monotonic()
        with open(log, "ab") as out:
            p = subprocess.Popen(argv, cwd=cwd, stdout=out,
                                 stderr=subprocess.STDOUT, env=env,
                                 stdin=subprocess.DEVNULL,
                                 start_new_session=True)
            with self.lock:
                self.pgids.add(p.pid)
            try:
                rc = p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                rc = None  # the leader is not reaped: its group is ours
                self.kill(p.pid)
                p.wait()
            with self.lock:
                self.pgids.discard(p.pid)
        return rc, time.monotonic() - t0

    def kill(self, pgid):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def kill_all(self):
        self.stopping = True
        for pgid in list(self.pgids):
            self.kill(pgid)


GROUPS = Groups()


# ------------------------------------------------------------ workers

def git(root, *argv):
    return subprocess.run(["git"] + list(argv), cwd=root, check=True,
                          capture_output=True).stdout


def snapshot(root, worktree):
    """The tree to mutate, read once, so that every worker builds the same
    state whatever others edit meanwhile: the files of HEAD, or with
    worktree those of the working tree (tracked and untracked, not
    ignored). Returns ({path: bytes}, what it is)."""
    if not worktree:
        commit = git(root, "rev-parse", "HEAD").decode().strip()
        tar = tarfile.open(fileobj=io.BytesIO(git(root, "archive", commit)))
        return ({m.name: tar.extractfile(m).read() for m in tar.getmembers()
                 if m.isfile()}, commit)
    names = git(root, "ls-files", "-z", "--cached", "--others",
                "--exclude-standard").decode().split("\0")
    return ({n: (root / n).read_bytes() for n in names
             if n and (root / n).is_file()}, "working tree")


class Worker:
    """A scratch copy of the tree and its configured Release build."""

    def __init__(self, home, files, jobs):
        self.home, self.files, self.jobs = Path(home), files, jobs
        self.src, self.build = self.home / "src", self.home / "build"
        # The unit suite again under ASan + UBSan: an out-of-bounds read
        # or a misaligned load changes nothing a Release judge can see.
        self.build_san = self.home / "build-san"
        self.original = {}  # engine file -> stripped object bytes

    @property
    def fotasim(self):
        return self.build / "sim/harness/fotasim"

    @property
    def unit(self):
        return self.build / "tests/core" / UNIT_TEST

    @property
    def unit_san(self):
        return self.build_san / "tests/core" / UNIT_TEST

    def log(self, name):
        return self.home / f"{name}.log"

    def write(self, name, data):
        p = self.src / name
        if not p.is_file() or p.read_bytes() != data:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)

    def prepare(self):
        """Copy the snapshot, configure once (Ninja when installed: its
        rebuilds are 3x faster than make's), build the unchanged engine."""
        for name, data in self.files.items():
            self.write(name, data)
        log = self.log("prepare")
        log.write_bytes(b"")
        for build, extra in ((self.build, []),
                             (self.build_san, ["-DFOTASIM_SANITIZE=ON"])):
            if (build / "CMakeCache.txt").is_file():
                continue
            rc, _ = GROUPS.run(
                ["cmake", "-S", str(self.src), "-B", str(build),
                 "-DCMAKE_BUILD_TYPE=Release", "-DBUILD_TESTING=ON"] +
                extra + (["-G", "Ninja"] if shutil.which("ninja") else []),
                self.home, log, BUILD_TIMEOUT)
            if rc != 0:
                raise RuntimeError("cmake configure failed: " +
                                   first_error(log, self.src))
        if not self.make(["fotasim", UNIT_TEST], log) or \
                not self.make([UNIT_TEST], log, self.build_san):
            raise RuntimeError("the unchanged tree does not build: " +
                               first_error(log, self.src))
        self.original = {f: self.object_code(f) for f in ENGINE_FILES}

    def make(self, targets, log, build=None):
        rc, _ = GROUPS.run(["cmake", "--build", str(build or self.build),
                            "--parallel",
                            str(self.jobs), "--target"] + targets,
                           self.home, log, BUILD_TIMEOUT)
        return rc == 0

    def object_code(self, name):
        """The file's object code, debug sections stripped."""
        obj = (self.build / "core/CMakeFiles/fwresume.dir/src" /
               (Path(name).name + ".o"))
        stripped = self.home / "stripped.o"
        subprocess.run(["strip", "--strip-debug", "-o", str(stripped),
                        str(obj)], check=True)
        return stripped.read_bytes()

    def apply(self, mutant, sources):
        """The engine files as this mutant has them (None: unchanged)."""
        for name in ENGINE_FILES:
            src = sources[name]
            if mutant and mutant.file == name:
                src = mutant.apply(src)
            self.write(name, src.encode())


# ------------------------------------------------------------ judges

@dataclass
class Judge:
    name: str
    stage: str  # campaign or unit
    argv: list  # {fotasim}, {unit}, {db}, {src}/ are filled per worker
    timeout: float = 0.0

    def command(self, worker, db):
        subst = {"{fotasim}": str(worker.fotasim), "{unit}": str(worker.unit),
                 "{unit_san}": str(worker.unit_san), "{db}": str(db)}
        return [subst.get(a, a).replace("{src}/", f"{worker.src}/")
                for a in self.argv]


def tree_path(path, worker):
    """A file of the tree as the worker's copy has it ({src}/...), so that
    judges read the snapshot's scenarios; other files as they are."""
    p = Path(path).resolve()
    if p.is_relative_to(ROOT):
        rel = p.relative_to(ROOT)
        if (worker.src / rel).is_file():
            return f"{{src}}/{rel}"
    return str(p)


def has_campaign(fotasim):
    """Help text of `fotasim campaign`, or None when there is no such
    command."""
    p = subprocess.run([str(fotasim), "campaign", "--help"],
                       capture_output=True, text=True, timeout=60)
    return p.stdout + p.stderr if p.returncode == 0 else None


# Options of `fotasim campaign` used when its help lists them: the
# database in the judge's scratch directory, stop at the first failing
# trial (a mutant is killed once), no line per passing run.
CAMPAIGN_FLAGS = (("--db", ["{db}"]), ("--fail-fast", []), ("--quiet", []))


def campaign_judges(args, worker):
    """--judge-scenarios; else `fotasim campaign FILE` when the file (by
    default DEFAULT_CAMPAIGN) and the command exist; else the default
    scenarios."""
    if args.judge_scenarios:
        return scenario_judges(args.judge_scenarios, worker)
    file = tree_path(args.campaign or ROOT / DEFAULT_CAMPAIGN, worker)
    exists = Path(file.replace("{src}/", f"{worker.src}/")).is_file()
    help_text = has_campaign(worker.fotasim) if exists else None
    if help_text is not None:
        argv = ["{fotasim}", "campaign", file]
        for flag, extra in CAMPAIGN_FLAGS:
            if flag in help_text:
                argv += [flag] + extra
        argv += shlex.split(args.campaign_args or "")
        return [Judge(f"campaign {Path(file).name}", "campaign", argv)]
    if args.campaign:
        why = ("fotasim has no campaign command" if exists
               else f"{args.campaign}: no such file")
        print(f"mutate: {why}; judging with the scenario list",
              file=sys.stderr)
    return scenario_judges([ROOT / s for s in DEFAULT_SCENARIOS], worker)


def scenario_judges(paths, worker):
    return [Judge(Path(p).stem, "campaign",
                  ["{fotasim}", "run", tree_path(p, worker), "--db", "{db}",
                   "--quiet"]) for p in paths]


def unit_judge(unit_filter):
    argv = ["{unit}"] + ([unit_filter] if unit_filter else [])
    return Judge(UNIT_TEST, "unit", argv)


def unit_san_judge(unit_filter):
    argv = ["{unit_san}"] + ([unit_filter] if unit_filter else [])
    return Judge(UNIT_TEST + " (ASan+UBSan)", "unit", argv)


def judge_env():
    """CMocka on stdout, stopping at the first failed test (abort): a
    killed mutant need not run the rest of the suite."""
    env = dict(os.environ, CMOCKA_MESSAGE_OUTPUT="STDOUT",
               CMOCKA_TEST_ABORT="1")
    env.pop("ASAN_OPTIONS", None)
    return env


def watchdog_hang(log):
    """Did fotasim's watchdog stop a hang, and nothing else fail? A
    campaign lists each refused combination with its reason: when one of
    them is not the watchdog's (a contract breach on every row, say), the
    mutant was killed, not hung, whatever some rows ran into."""
    text = log.read_text(errors="replace")
    if WATCHDOG_HANG not in text:
        return False
    refused = [line for line in text.splitlines() if " refused: " in line]
    return all(WATCHDOG_HANG in line for line in refused)


def run_judge(judge, worker, timeout):
    """(exit status or None on timeout, seconds, what it said: the unit
    test that failed, or a campaign's first failing trial, and whether
    fotasim's watchdog reported a hang anywhere in its output)."""
    scratch = Path(tempfile.mkdtemp(prefix="judge-", dir=worker.home))
    log = scratch / "out.log"
    try:
        rc, secs = GROUPS.run(judge.command(worker, scratch / "r.db"),
                              scratch, log, timeout, judge_env())
        # The whole output, not the shortened line: the words come late
        # in a long message, later still under a long path.
        return rc, secs, judge_said(judge, log), watchdog_hang(log)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def judge_said(judge, log):
    lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines()
             if ln.strip()]
    if judge.stage == "unit":
        started = [ln.split()[-1] for ln in lines if ln.startswith("[ RUN")]
        return started[-1] if started else ""
    failing = [ln for ln in lines if ln.startswith("FAIL")]
    return (failing or lines or [""])[0][:160]


# ------------------------------------------------------------ evaluation

@dataclass
class Result:
    id: str
    file: str
    line: int
    kind: str
    mutation: str
    outcome: str
    seconds: float
    stage: str = ""  # where it was killed or timed out
    detail: str = ""
    diff: str = field(default="", repr=False)


def first_error(log, src_dir):
    for ln in log.read_text(errors="replace").splitlines():
        if ": error: " in ln:
            return ln.strip().replace(f"{src_dir}/", "")[:160]
    return "build failed"


def exit_status(rc):
    if rc is None:
        return "timed out"
    return f"exit {rc}" if rc >= 0 else signal.Signals(-rc).name


def evaluate(m, worker, sources, judges, reviewed=None):
    t0 = time.monotonic()

    def result(outcome, stage="", detail=""):
        return Result(m.id, Path(m.file).name, m.line, m.kind, m.mutation,
                      outcome, round(time.monotonic() - t0, 1), stage, detail,
                      diff_hunk(m, sources[m.file]))

    if reviewed and m.id in reviewed:
        # Shown equivalent by reading the code (the reason is in the file):
        # no judge could kill it, so it is not counted against the scores.
        return result("equivalent", "review", reviewed[m.id])
    worker.apply(m, sources)
    log = worker.log("build")
    log.write_bytes(b"")
    if not worker.make(["fwresume"], log):
        return result("not-built", detail=first_error(log, worker.src))
    if worker.object_code(m.file) == worker.original[m.file]:
        return result("equivalent")
    if not worker.make(["fotasim", UNIT_TEST], log):
        return result("not-built", detail=first_error(log, worker.src))
    for judge in judges:
        # The sanitizer build only for the mutants that get that far.
        if "{unit_san}" in judge.argv and \
                not worker.make([UNIT_TEST], log, worker.build_san):
            return result("not-built", detail=first_error(log, worker.src))
        rc, _, said, hang = run_judge(judge, worker, judge.timeout)
        if rc is None:
            return result("timeout", judge.stage,
                          f"{judge.name}: killed after {judge.timeout:.0f} s")
        if rc != 0 and hang:
            # The harness's own watchdog stopped a hang of the uncut
            # update: a timeout, caught sooner than the judge's.
            return result("timeout", judge.stage,
                          f"{judge.name}: harness watchdog: {said}")
        if rc != 0:
            outcome = ("killed-campaign" if judge.stage == "campaign"
                       else "killed-unit")
            return result(outcome, judge.stage,
                          f"{judge.name} {exit_status(rc)}: {said}")
    return result("survived")


def baseline(worker, judges, args):
    """The unchanged engine must pass every judge; sets their timeouts."""
    for judge in judges:
        rc, secs, said, _ = run_judge(judge, worker, args.timeout or 3600.0)
        print(f"baseline  {judge.name:<28} exit {rc}  {secs:6.1f} s",
              flush=True)
        if rc != 0:
            sys.exit(f"mutate: the unchanged engine fails {judge.name} "
                     f"({exit_status(rc)}: {said}): nothing to judge mutants "
                     "against")
        judge.timeout = args.timeout or max(args.min_timeout,
                                            args.timeout_factor * secs)


# ------------------------------------------------------------ reporting

def result_line(r):
    where = f"{r.file}:{r.line}"
    detail = f"  [{r.detail}]" if r.detail else ""
    return (f"{r.id}  {where:<17} {r.mutation:<58} {r.outcome:<15} "
            f"{r.seconds:6.1f} s{detail}")


def summary(results):
    """Counts, scores over the behaviour-changing mutants, and the summary
    lines. A timeout counts as a kill, of the stage it happened in."""
    n = {o: sum(r.outcome == o for r in results) for o in OUTCOMES}
    t_campaign = sum(r.outcome == "timeout" and r.stage == "campaign"
                     for r in results)
    changing = len(results) - n["not-built"] - n["equivalent"]
    reviewed = sum(r.outcome == "equivalent" and r.stage == "review"
                   for r in results)

    def score(killed):
        return f"{100.0 * killed / changing:.1f} %" if changing else "n/a"

    campaign = score(n["killed-campaign"] + t_campaign)
    combined = score(n["killed-campaign"] + n["killed-unit"] + n["timeout"])
    return {
        "total": len(results), "counts": n, "behaviour_changing": changing,
        "campaign_score": campaign, "combined_score": combined,
        "lines": [
            f"mutants: {len(results)} total, {n['not-built']} not built, "
            f"{n['equivalent']} equivalent ({reviewed} by review, "
            f"{REVIEWED}; the rest same object code), "
            f"{n['killed-campaign']} killed by campaign, "
            f"{n['killed-unit']} killed by unit suite only, "
            f"{n['timeout']} timeouts, {n['survived']} survived",
            f"campaign score: {campaign}",
            f"combined score: {combined}",
        ],
    }


KIND_NAMES = {
    "ror": "relational", "lcr": "logical", "aor": "arithmetic",
    "bor": "bitwise", "neg": "drop ! or ~", "cst": "constant",
    "del": "delete statement", "ret": "early return", "if1": "if (1)",
    "if0": "if (0)",
}


def kind_table(results):
    """Outcomes per mutation kind, as a Markdown table."""
    head = "| kind | " + " | ".join(OUTCOMES) + " |"
    lines = [head, "|---" * (len(OUTCOMES) + 1) + "|"]
    for kind, name in KIND_NAMES.items():
        mine = [r for r in results if r.kind == kind]
        if mine:
            cells = [str(sum(r.outcome == o for r in mine)) for o in OUTCOMES]
            lines.append(f"| {kind} ({name}) | " + " | ".join(cells) + " |")
    return lines


def write_survivors(path, results):
    with open(path, "w") as out:
        for r in sorted(results, key=lambda r: r.id):
            if r.outcome == "survived":
                out.write(f"{r.id}  {r.file}:{r.line}  {r.mutation}\n")
                out.write(r.diff + "\n")


class JsonLog:
    def __init__(self, path):
        self.lock = threading.Lock()
        self.out = open(path, "w") if path else None

    def write(self, record):
        if self.out:
            with self.lock:
                self.out.write(json.dumps(record) + "\n")
                self.out.flush()


def read_json(path):
    """Results and judges of a JSON lines file written by a run."""
    results, judges = [], []
    for ln in Path(path).read_text().splitlines():
        rec = json.loads(ln)
        kind = rec.pop("type")
        if kind == "mutant":
            results.append(Result(**rec))
        elif kind == "run":
            judges = rec["judges"]
    return results, judges


# ------------------------------------------------------------ expectations

def read_expect(path, mutants, sources):
    """Lines 'outcome | file | mutation | text on the line': each must name
    exactly one mutant. Returns {id: outcome}."""
    want = {}
    for n, ln in enumerate(Path(path).read_text().splitlines(), 1):
        if not ln.strip() or ln.lstrip().startswith("#"):
            continue
        outcome, file, mutation, text = (x.strip() for x in ln.split(" | "))
        hits = [m for m in mutants if Path(m.file).name == file and
                m.mutation == mutation and
                text in line_text(m, sources[m.file])]
        if len(hits) != 1 or outcome not in OUTCOMES:
            sys.exit(f"mutate: {path}:{n}: names {len(hits)} mutants "
                     f"(or outcome '{outcome}' unknown)")
        want[hits[0].id] = outcome
    return want


def read_reviewed(path, mutants, sources):
    """Lines 'file | mutation | text on the line | why it is equivalent':
    mutants shown equivalent by review. Returns {id: reason}; a line that
    names no mutant (the code moved on) is reported, not silently kept."""
    out = {}
    if not Path(path).is_file():
        return out
    for n, ln in enumerate(Path(path).read_text().splitlines(), 1):
        if not ln.strip() or ln.lstrip().startswith("#"):
            continue
        parts = [x.strip() for x in ln.split(" | ")]
        if len(parts) != 4:
            sys.exit(f"mutate: {path}:{n}: expected 'file | mutation | "
                     "text on the line | reason'")
        file, mutation, text, reason = parts
        # "mutation #N": the N-th of several on the same text, in order.
        nth = None
        if " #" in mutation and mutation.rsplit(" #", 1)[1].isdigit():
            mutation, nth = mutation.rsplit(" #", 1)
            nth = int(nth)
        hits = [m for m in mutants if Path(m.file).name == file and
                m.mutation == mutation and
                lines_match(m, sources[m.file], text)]
        if nth is not None:
            hits = hits[nth - 1:nth] if 0 < nth <= len(hits) else []
        if len(hits) != 1:
            print(f"mutate: {path}:{n}: names {len(hits)} mutants: "
                  "review it again", file=sys.stderr)
            continue
        out[hits[0].id] = f"by review: {reason}"
    return out


def lines_match(m, src, text):
    """text is in the mutant's line; 'a \\ b' is a in the line before and
    b in the mutant's line."""
    parts = text.split(" \\ ")
    lines = src[:src.find("\n", m.start)].split("\n")[-len(parts):]
    return len(lines) == len(parts) and all(p in ln for p, ln in
                                            zip(parts, lines))


def line_text(m, src):
    a = src.rfind("\n", 0, m.start) + 1
    return src[a:src.find("\n", m.start)]


def check_expect(want, results):
    bad = [r for r in results if want.get(r.id, r.outcome) != r.outcome]
    for r in bad:
        print(f"self-test: {r.id} {r.file}:{r.line} {r.mutation}: expected "
              f"{want[r.id]}, got {r.outcome}", file=sys.stderr)
    print(f"self-test: {len(want) - len(bad)} of {len(want)} "
          "classifications as expected")
    return not bad


# ------------------------------------------------------------ main

def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="scripts/mutate",
        description="Mutation testing of the engine (docs/mutation.md).")
    p.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                   help="mutants judged at once (default: nproc)")
    p.add_argument("--seed", type=int, default=1,
                   help="sampling seed for --max (default 1)")
    p.add_argument("--max", type=int, metavar="N",
                   help="judge a seeded sample of N mutants")
    p.add_argument("--only", action="append", metavar="ID[,ID...]",
                   help="judge only these mutants (repeatable)")
    p.add_argument("--list", action="store_true",
                   help="print the selected mutants and exit")
    p.add_argument("--judge-scenarios", nargs="+", metavar="FILE",
                   help="campaign: fotasim run each in turn")
    p.add_argument("--campaign", metavar="FILE",
                   help="campaign: fotasim campaign FILE (default "
                        f"{DEFAULT_CAMPAIGN} when it and the command exist)")
    p.add_argument("--campaign-args", metavar="ARGS",
                   help="more options for fotasim campaign, e.g. "
                        "'--budget 30s'")
    p.add_argument("--unit-filter", metavar="GLOB",
                   help=f"CMocka test filter for {UNIT_TEST}")
    p.add_argument("--timeout", type=float, metavar="S",
                   help="fixed timeout per judge command")
    p.add_argument("--timeout-factor", type=float, default=5.0,
                   help="else: this times the baseline's time (default 5)")
    p.add_argument("--min-timeout", type=float, default=30.0,
                   help="and at least this (default 30 s)")
    p.add_argument("--worktree", action="store_true",
                   help="mutate the working tree as it is now (default: "
                        "HEAD, untouched by others' edits in progress)")
    p.add_argument("--work", metavar="DIR",
                   help="scratch builds here, kept for the next run "
                        "(default: a temporary /tmp/mut-* removed after)")
    p.add_argument("--json", metavar="FILE",
                   default=str(ROOT / "results/mutation.jsonl"),
                   help="JSON lines output (default results/mutation.jsonl)")
    p.add_argument("--survivors", metavar="FILE",
                   help="write the survivors with their diff hunks")
    p.add_argument("--from-json", metavar="FILE",
                   help="print lines and summary of an earlier run's JSON")
    p.add_argument("--self-test", action="store_true",
                   help="judge the fixed sample of "
                        f"{SELF_TEST['expect']} and check each outcome")
    args = p.parse_args(argv)
    if args.self_test:
        args.judge_scenarios = [ROOT / s for s in SELF_TEST["scenarios"]]
        args.unit_filter = SELF_TEST["unit_filter"]
        args.timeout = args.timeout or SELF_TEST["timeout"]
    return args


def report_json(args):
    results, judges = read_json(args.from_json)
    print("judges: " + ", ".join(judges))
    for r in sorted(results, key=lambda r: r.id):
        print(result_line(r))
    print("\n".join(kind_table(results) + summary(results)["lines"]))
    if args.survivors:
        write_survivors(args.survivors, results)


def prepare_workers(home, files, n, jobs):
    workers = [Worker(Path(home) / f"w{k}", files, jobs) for k in range(n)]
    with ThreadPoolExecutor(n) as pool:
        for f in [pool.submit(w.prepare) for w in workers]:
            f.result()
    return workers


def run_mutants(mutants, workers, judges, jlog, sources, reviewed=None):
    """Judge every mutant, each on a free worker; results in id order."""
    free, lock, results = list(workers), threading.Lock(), []

    def job(m):
        with lock:
            w = free.pop()
        try:
            return evaluate(m, w, sources, judges, reviewed)
        finally:
            with lock:
                free.append(w)

    with ThreadPoolExecutor(len(workers)) as pool:
        futures = [pool.submit(job, m) for m in mutants]
        try:
            for fut in as_completed(futures):
                r = fut.result()
                results.append(r)
                print(result_line(r), flush=True)
                jlog.write(dict(type="mutant", **asdict(r)))
        except KeyboardInterrupt:
            for fut in futures:
                fut.cancel()
            GROUPS.kill_all()
            raise
    return sorted(results, key=lambda r: r.id)


def main(argv):
    args = parse_args(argv)
    if args.from_json:
        return report_json(args) or 0
    files, tree = snapshot(ROOT, args.worktree)
    sources = {f: files[f].decode() for f in ENGINE_FILES}
    mutants = all_mutants(sources)
    want = read_expect(ROOT / SELF_TEST["expect"], mutants, sources) \
        if args.self_test else {}
    chosen = select(mutants, args.only or list(want), args.max, args.seed)
    # The self-test checks the judges, not the review list.
    reviewed = {} if args.self_test else \
        read_reviewed(ROOT / REVIEWED, mutants, sources)
    if args.list:
        for m in chosen:
            print(f"{m.id}  {Path(m.file).name}:{m.line:<5} {m.mutation}")
        return 0
    jobs = max(1, min(args.jobs, len(chosen)))
    home = args.work or tempfile.mkdtemp(prefix="mut-")
    try:
        workers = prepare_workers(home, files, jobs,
                                  max(1, (os.cpu_count() or 1) // jobs))
        judges = campaign_judges(args, workers[0])
        judges.append(unit_judge(args.unit_filter))
        judges.append(unit_san_judge(args.unit_filter))
        baseline(workers[0], judges, args)
        if args.json:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        jlog = JsonLog(args.json)
        jlog.write(dict(type="run", tree=tree,
                        judges=[j.name for j in judges],
                        mutants_in_tree=len(mutants), selected=len(chosen),
                        seed=args.seed, max=args.max, jobs=jobs,
                        started=time.strftime("%Y-%m-%d %H:%M:%S")))
        print(f"tree: {tree}", flush=True)
        print(f"judging {len(chosen)} of {len(mutants)} mutants with "
              f"{', '.join(j.name for j in judges)} (-j {jobs})", flush=True)
        results = run_mutants(chosen, workers, judges, jlog, sources,
                              reviewed)
    finally:
        if not args.work:
            shutil.rmtree(home, ignore_errors=True)
    s = summary(results)
    jlog.write(dict(type="summary", **{k: v for k, v in s.items()
                                       if k != "lines"}))
    print("\n".join(kind_table(results) + s["lines"]))
    if args.survivors:
        write_survivors(args.survivors, results)
    return 1 if want and not check_expect(want, results) else 0


def interrupted(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, interrupted)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # aborts dump no core
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        GROUPS.kill_all()
        sys.exit(130)
    except RuntimeError as e:
        sys.exit(f"mutate: {e}")
