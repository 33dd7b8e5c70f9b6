#!/usr/bin/env python3
"""Run a CI recipe of docs/ci/ here, step by step, as its CI server would.

    ci_recipes.py github|gitlab SRC_ROOT BUILD_DIR SCENARIO [RECIPE]

RECIPE (default docs/ci/github-workflow.yml or docs/ci/gitlab-ci.yml) lets
a test hand in a deliberately broken copy and see this runner fail.

Each job runs in its own fresh clone of SRC_ROOT (the server's checkout),
with the recipe's own shell lines: GitHub's `run:` steps, with the matrix
expanded and ${{ matrix.* }} substituted, GitLab's `script:` lines with
`parallel: N` expanded to CI_NODE_INDEX 1..N. The server's own actions are
played by this script: checkout (the clone), upload-artifact and
download-artifact (copying between jobs), GitLab artifacts (a later stage
sees an earlier stage's paths). `apt-get` steps are skipped (the packages
are here; the scripts check that themselves), FOTASIM_BUILD points the
scripts at BUILD_DIR instead of a build per job, and SCENARIO overrides
the recipe's scenario to keep the test short. Then the artifacts a user
would open must exist: the merged database, report.html, summary.md
(leading with the verdict), every shard's JUnit file, and on GitHub the
job summary. Exit 0 when they do, 1 otherwise.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def clone(src, dest):
    subprocess.run(["git", "clone", "-q", src, dest], check=True)
    # A dirty working tree (a developer's run) is tested as it is.
    for rel in subprocess.run(["git", "-C", src, "ls-files", "-m", "-o",
                               "--exclude-standard"], check=True,
                              capture_output=True, text=True).stdout.split():
        if rel.startswith("build") or rel.startswith("results/"):
            continue
        s, d = os.path.join(src, rel), os.path.join(dest, rel)
        if os.path.isfile(s):
            os.makedirs(os.path.dirname(d), exist_ok=True)
            shutil.copy2(s, d)


def sh(cmd, cwd, env, log):
    print("  $ " + cmd, flush=True)
    r = subprocess.run(["bash", "-eo", "pipefail", "-c", cmd], cwd=cwd,
                       env=env, capture_output=True, text=True)
    log.write(r.stdout + r.stderr)
    return r.returncode


def github(src, build, scenario, work, recipe):
    wf = yaml.safe_load(open(recipe or os.path.join(
        src, "docs/ci/github-workflow.yml")))
    env0 = dict(os.environ, FOTASIM_BUILD=build, CI="true")
    env0.update({k: str(v) for k, v in (wf.get("env") or {}).items()})
    env0["SCENARIO"] = scenario
    store = os.path.join(work, "artifacts")
    summary = os.path.join(work, "step-summary.md")
    open(summary, "w").close()
    done = {}
    log = open(os.path.join(work, "log.txt"), "w")
    for name, job in wf["jobs"].items():  # in order: needs come first
        for need in ([job["needs"]] if isinstance(job.get("needs"), str)
                     else job.get("needs") or []):
            if need not in done:
                fail("job %s needs %s, which has not run" % (name, need))
        matrix = (job.get("strategy") or {}).get("matrix") or {}
        keys = list(matrix)
        combos = [{}]
        for k in keys:
            combos = [dict(c, **{k: v}) for c in combos for v in matrix[k]]
        results = []
        for combo in combos:
            ws = os.path.join(work, "%s-%s" % (name, "-".join(
                str(v) for v in combo.values()) or "0"))
            env = dict(env0, GITHUB_STEP_SUMMARY=summary)
            print("job %s %s" % (name, combo or ""), flush=True)
            ok = True
            for step in job["steps"]:
                cond = str(step.get("if", "success()"))
                if not ok and "always()" not in cond:
                    continue
                def subst(text):
                    return re.sub(r"\$\{\{\s*matrix\.(\w+)\s*\}\}",
                                  lambda m: str(combo[m.group(1)]), str(text))
                if "run" in step:
                    cmd = subst(step["run"])
                    if cmd.lstrip().startswith("apt-get"):
                        print("  (skipped: %s)" % cmd, flush=True)
                        continue
                    rc = sh(cmd, ws, env, log)
                    if rc:
                        print("  -> exit %d" % rc, flush=True)
                        ok = False
                    continue
                uses = step["uses"].split("@")[0]
                w = {k: subst(v) for k, v in (step.get("with") or {}).items()}
                if uses == "actions/checkout":
                    clone(src, ws)
                elif uses == "actions/upload-artifact":
                    dest = os.path.join(store, w["name"])
                    srcp = os.path.join(ws, w["path"])
                    if not os.path.exists(srcp):
                        fail("%s: upload-artifact: no %s" % (name, w["path"]))
                    shutil.copytree(srcp, dest, dirs_exist_ok=True)
                elif uses == "actions/download-artifact":
                    dest = os.path.join(ws, w.get("path", "."))
                    os.makedirs(dest, exist_ok=True)
                    for a in sorted(glob.glob(os.path.join(
                            store, w.get("pattern", "*")))):
                        target = dest if w.get("merge-multiple") else \
                            os.path.join(dest, os.path.basename(a))
                        shutil.copytree(a, target, dirs_exist_ok=True)
                elif uses == "mikepenz/action-junit-report":
                    files = glob.glob(os.path.join(ws, w["report_paths"]))
                    if not files:
                        fail("%s: no JUnit files at %s" % (name,
                                                           w["report_paths"]))
                    for f in files:
                        if subprocess.run(["xmllint", "--noout", f]).returncode:
                            fail("%s: %s is not XML" % (name, f))
                else:
                    fail("%s: no stand-in for action %s" % (name, uses))
            results.append((ws, ok))
        done[name] = results
    ws, ok = done["merge"][0]
    check(ws, "results/all.db", "results/all-report", ok, log)
    shards = glob.glob(os.path.join(ws, "shards/shard-*.junit.xml"))
    if len(shards) != len(done["shard"]):
        fail("%d shard JUnit files for %d shards" % (len(shards),
                                                     len(done["shard"])))
    first = open(summary).readline()
    if not first.startswith("\u2714"):
        fail("the job summary starts: " + first)
    print("ok: github: %d shards, merged, reported, job summary: %s"
          % (len(done["shard"]), first.strip()))


def gitlab(src, build, scenario, work, recipe):
    ci = yaml.safe_load(open(recipe or os.path.join(
        src, "docs/ci/gitlab-ci.yml")))
    if ci.get("image") != "debian:12":
        fail("the GitLab recipe's image is %r, not debian:12" % ci.get("image"))
    env0 = dict(os.environ, FOTASIM_BUILD=build, CI="true")
    env0.update({k: str(v) for k, v in (ci.get("variables") or {}).items()})
    env0["SCENARIO"] = scenario
    log = open(os.path.join(work, "log.txt"), "w")
    passed = {}  # artifacts from earlier stages: copied into later jobs
    stage_of = {n: j["stage"] for n, j in ci.items()
                if isinstance(j, dict) and "script" in j}
    last_ws = None
    for stage in ci["stages"]:
        for name in [n for n, s in stage_of.items() if s == stage]:
            job = ci[name]
            n = int(job.get("parallel", 1))
            for i in range(1, n + 1):
                ws = os.path.join(work, "%s-%d" % (name, i))
                clone(src, ws)
                for rel, path in passed.items():
                    shutil.copytree(path, os.path.join(ws, rel),
                                    dirs_exist_ok=True)
                env = dict(env0)
                if n > 1:
                    env.update(CI_NODE_INDEX=str(i), CI_NODE_TOTAL=str(n))
                print("job %s %d/%d" % (name, i, n), flush=True)
                for cmd in job["script"]:
                    rc = sh(cmd, ws, env, log)
                    if rc:
                        fail("%s %d: `%s` exited %d (log %s)" % (
                            name, i, cmd, rc, log.name))
                art = job.get("artifacts") or {}
                for p in art.get("paths", []):
                    if not os.path.exists(os.path.join(ws, p)):
                        fail("%s %d: artifact path %s missing" % (name, i, p))
                junit = (art.get("reports") or {}).get("junit")
                if junit:
                    files = glob.glob(os.path.join(ws, junit))
                    if not files:
                        fail("%s %d: no JUnit report at %s" % (name, i, junit))
                for p in art.get("paths", []):
                    # Later stages see this job's artifacts (merged).
                    key = p.rstrip("/")
                    keep = os.path.join(work, "passed", key)
                    shutil.copytree(os.path.join(ws, p), keep,
                                    dirs_exist_ok=True)
                    passed[key] = keep
                last_ws = ws
    check(last_ws, "results/all.db", "results/all-report", True, log)
    print("ok: gitlab: parallel torture, merged, reported")


def check(ws, db, report, ok, log):
    if not ok:
        fail("the merge job failed (log %s)" % log.name)
    for rel in (db, report + "/report.html", report + "/summary.md"):
        p = os.path.join(ws, rel)
        if not os.path.exists(p) or not os.path.getsize(p):
            fail("no %s" % rel)
    first = open(os.path.join(ws, report, "summary.md")).readline()
    if not first.startswith("\u2714"):
        fail("summary.md starts: " + first)


def main():
    which, src, build, scenario = sys.argv[1:5]
    recipe = os.path.abspath(sys.argv[5]) if len(sys.argv) > 5 else None
    work = tempfile.mkdtemp(prefix="ci-recipe-")
    try:
        {"github": github, "gitlab": gitlab}[which](
            os.path.abspath(src), os.path.abspath(build), scenario, work,
            recipe)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
