#!/usr/bin/env python3
"""Reads Stryker.NET mutation-report.json files and prints the score per file and in total.

Score = detected / (detected + undetected), where detected = Killed + Timeout and undetected =
Survived + NoCoverage (Stryker's own formula; Ignored and CompileError mutants do not count).
Killed-only score = Killed / (detected + undetected): a timeout (a hang, or a test host that crashed)
is not counted as a kill. Every line prints both.
Usage: score.py [--files] [--threshold T] [--commit SHA --out FILE] NAME=REPORT...
       score.py --refresh FILE[,FILE...] --tests-commit SHA [--library-files F,...] --out RECORD NAME=REPORT
       score.py --table RECORD      (the record as a markdown table)
       score.py --guard-patterns RECORD LIB [--skip F,...]   (the weakened-test gate, see guards())
       score.py --guard-compare RECORD LIB REPORT [--skip F,...]
       score.py --timeout-patterns REPORT          (the lines of its Timeout mutants, as --mutate spans)
       score.py --reclassify REPORT RERUN_REPORT   (Timeout mutants take their status from the re-run)
       score.py --recheck-patterns REPORT NAME...    (the lines of its mutants Killed only by tests named NAME...)
       score.py --recheck REPORT RERUN_REPORT NAME... (those mutants take their status from the re-run)
       score.py --diff-pattern BASE PATH            (the lines of PATH changed since BASE, as a --mutate span)
       score.py --advance-lines FILES --commit SHA --out RECORD NAME=REPORT
                                                    (a passed changed-lines run moves the entry to SHA)
  With --commit/--out, writes the library's entry of the JSON record {projects: {name: {commit, date,
  counts, score, files: {path: counts}}}} (a full run). With --refresh, replaces some files' counts
  in the entry by those of a later run of those files on the same library source (only the tests
  changed) and recomputes the totals; the entry lists each refresh. An entry with no full run yet is
  built up that way file by file ("partial" until every library file has been run).
  Exit code: 0; 1 when a library scores below --threshold; 3 when no mutant was tested at all
  (a gate that must not pass silently).
"""
import re, sys, json, datetime, argparse, os, hashlib, subprocess

DETECTED = {"Killed", "Timeout"}
UNDETECTED = {"Survived", "NoCoverage"}


def counts(report_path):
    with open(report_path, encoding="utf-8") as f:
        rep = json.load(f)
    per_file = {}
    for path, entry in rep.get("files", {}).items():
        c = {}
        for m in entry.get("mutants", []):
            c[m["status"]] = c.get(m["status"], 0) + 1
        per_file[path] = c
    return per_file


def rel(path):
    """A report's absolute source or test path as a repository path (src/... or tests/...)."""
    path = path.replace(os.sep, "/")
    for top in ("/src/", "/tests/"):
        i = path.rfind(top)
        if i >= 0:
            return path[i + 1:]
    return path


def mutant_key(m):
    """A mutant's identity across runs of the same source: mutator, replacement and location."""
    loc = m["location"]
    text = f'{m["mutatorName"]}|{m.get("replacement", "")}|{loc["start"]["line"]}:{loc["start"]["column"]}-{loc["end"]["line"]}:{loc["end"]["column"]}'
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def guards(report_path, tests_commit):
    """Per source file of a report: the mutants Killed (not timed out) and the test files whose
    tests killed each. The weakened-test gate re-runs exactly these mutants when one of those test
    files changes, and fails if one of them survives: a deleted or weakened assertion is noticed."""
    with open(report_path, encoding="utf-8") as f:
        rep = json.load(f)
    test_file = {}
    for path, entry in rep.get("testFiles", {}).items():
        for t in entry.get("tests", []):
            test_file[t["id"]] = rel(path)
    out = {}
    for path, entry in rep.get("files", {}).items():
        files, killed = [], []
        for m in entry.get("mutants", []):
            if m["status"] != "Killed":
                continue
            by = sorted({test_file[t] for t in m.get("killedBy", []) if t in test_file})
            idx = []
            for t in by:
                if t not in files:
                    files.append(t)
                idx.append(files.index(t))
            loc = m["location"]
            killed.append([mutant_key(m), loc["start"]["line"], loc["end"]["line"], idx])
        out[rel(path)] = {"testsCommit": tests_commit, "tests": files, "killed": killed}
    return out


def raw(s):
    """summarize()'s output back to status counts."""
    return {"Killed": s["killed"], "Timeout": s["timeout"], "Survived": s["survived"],
            "NoCoverage": s["noCoverage"], "Ignored": s["ignored"], "CompileError": s["compileError"]}


def summarize(c):
    det = sum(c.get(s, 0) for s in DETECTED)
    und = sum(c.get(s, 0) for s in UNDETECTED)
    tested = det + und
    score = round(100.0 * det / tested, 2) if tested else None
    killed_only = round(100.0 * c.get("Killed", 0) / tested, 2) if tested else None
    return {"tested": tested, "killedOnly": killed_only, "killed": c.get("Killed", 0), "timeout": c.get("Timeout", 0),
            "survived": c.get("Survived", 0), "noCoverage": c.get("NoCoverage", 0),
            "ignored": c.get("Ignored", 0), "compileError": c.get("CompileError", 0), "score": score}


def table(record_path):
    """Prints the record as the README's markdown table."""
    with open(record_path, encoding="utf-8") as f:
        rec = json.load(f)
    print("| library | killed-only | Stryker score | mutants tested | killed | timeout | survived | no coverage | commit | date |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for name, e in rec["projects"].items():
        if e.get("score") is None:
            print(f"| {name} | pending | | | | | | | {e['commit'][:7]} | {e.get('note', '')} |")
            continue
        again = ""
        if e.get("refreshed"):
            # A library re-recorded file group by file group at one tests commit (its source unchanged
            # since the recorded commit): say how many of its files that commit covers, and when all
            # of them, that the row is one commit's (several sittings, not one).
            latest = {r["file"]: (r.get("testsCommit") or "", r["date"]) for r in e["refreshed"]}
            newest = e["refreshed"][-1].get("testsCommit") or ""
            at = [f for f in e["files"] if latest.get(f, ("",))[0] == newest] if newest else []
            if at and len(at) == len(e["files"]):
                last = max(latest[f][1] for f in at)[:10]
                again = f" (every file re-run at tests {newest[:7]}, in file groups; the last {last})"
            else:
                covers = f"; {len(at)} of {len(e['files'])} files at tests {newest[:7]}" if len(at) > 1 else ""
                again = f" (+{len(e['refreshed'])} one-file re-runs{covers})"
        score = f"{e['score']:.2f}%"
        if e.get("partial"):
            again = ""
            score += f" (partial: {len(e['files'])} of {len(e['files']) + len(e.get('missing', []))} files)"
        ko = f"{100.0 * e['killed'] / e['tested']:.2f}%" if e['tested'] else "n/a"
        print(f"| {name} | {ko} | {score} | {e['tested']} | {e['killed']} | {e['timeout']} | {e['survived']} | "
              f"{e['noCoverage']} | {e['commit'][:7]} | {e['date'][:10]}{again} |")
    return 0


def test_changes(root, since):
    """The test files modified (beyond white space) or deleted since a commit (the working tree
    counts), and the test files only moved since (a rename with identical content, git's R100):
    {old path: new path}. A move with edits counts as changed under both paths (a record names the
    old one, a later record the new one). A changed file that defines no recorded test (a helper) stands for every test
    file beside it in its folder."""
    if subprocess.run(["git", "-C", root, "cat-file", "-e", since + "^{commit}"], capture_output=True).returncode != 0:
        subprocess.run(["git", "-C", root, "fetch", "--quiet", "--unshallow"], capture_output=True)
    out = subprocess.run(["git", "-C", root, "diff", "--name-status", "-M", "--diff-filter=MDR", since, "--", "tests"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"weakened-test gate: cannot diff the tests against {since}: {out.stderr.strip()}")
    changed, moved = set(), {}
    for line in out.stdout.splitlines():
        status, *paths = line.split("\t")
        if status.startswith("R"):
            old, new = paths
            if status == "R100":
                moved[old] = new
            else:
                changed |= {old, new}
        elif status == "M" and subprocess.run(["git", "-C", root, "diff", "-w", "--quiet", since, "--", paths[0]]).returncode == 0:
            continue  # white space only (a reformat): no test changed
        else:
            changed.add(paths[0])
    return {p for p in changed if p.endswith(".cs")}, {o: n for o, n in moved.items() if o.endswith(".cs")}


TEST_ATTRIBUTE = re.compile(r"\[(Fact|Theory|Property)\b")
DECLARED_TYPE = re.compile(r"\b(?:class|record|struct|interface|enum)\s+([A-Za-z_]\w*)")


def helped_tests(root, changed_file, killers):
    """The recorded killers a changed file that killed nothing itself may have weakened. A file that
    defines tests of its own (xunit / FsCheck attributes) is a test file: its tests killed nothing
    recorded, so it guards nothing. Otherwise it is a helper: it stands for the killers in its
    folder that use one of the types it declares (all of the folder's when it was deleted or
    declares none)."""
    folder = os.path.dirname(changed_file)
    beside = [t for t in killers if os.path.dirname(t) == folder]
    path = os.path.join(root, changed_file)
    if not os.path.exists(path):
        return set(beside)
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    if TEST_ATTRIBUTE.search(text):
        return set()
    names = set(DECLARED_TYPE.findall(text))
    if not names:
        return set(beside)
    used = set()
    for t in beside:
        try:
            with open(os.path.join(root, t), encoding="utf-8", errors="replace") as f:
                body = f.read()
        except OSError:
            used.add(t)
            continue
        if any(re.search(r"\b" + re.escape(n) + r"\b", body) for n in names):
            used.add(t)
    return used


def guarded(record, lib, skip, root):
    """The recorded kills a changed test file may have lost: {source file: [killed entries]}, the
    changed test files involved, and the files recorded before per-mutant guards existed."""
    with open(record, encoding="utf-8") as f:
        entry = json.load(f)["projects"][lib]
    cache, selected, involved, unguarded = {}, {}, set(), []
    for path, c in sorted(entry.get("files", {}).items()):
        if path in skip:
            continue
        g = c.get("guards")
        if not g:
            if c.get("killed"):
                unguarded.append(path)
            continue
        since = g["testsCommit"]
        if since not in cache:
            cache[since] = test_changes(root, since)
        changed, moved = cache[since]
        if not changed:
            continue
        defining = {t for k in g["killed"] for t in (g["tests"][i] for i in k[3])}
        defining |= {moved.get(t, t) for t in defining}
        helped = set()
        now = [moved.get(k, k) for k in g["tests"]]  # the recorded killers at their current paths
        for t in changed:
            if t not in defining:
                helped |= {g["tests"][i] for i, k in enumerate(now) if k in helped_tests(root, t, now)}
        hit = {i for i, t in enumerate(g["tests"]) if t in changed or t in helped}
        mutants = [k for k in g["killed"] if hit & set(k[3])]
        if mutants:
            selected[path] = mutants
            involved |= {g["tests"][i] for k in mutants for i in k[3] if i in hit}
    return selected, involved, unguarded


def spans_pattern(path, lines):
    """A Stryker --mutate pattern for these lines of a source file: **/Name.cs{a..b}{c..d}...
    Spans are character offsets into the text Roslyn reads (a UTF-8 BOM is not part of it; the
    sources are LF and within the BMP, so a Python character is one UTF-16 unit)."""
    with open(path, encoding="utf-8-sig") as f:
        text = f.read()
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    starts.append(len(text) + 1)
    spans, first, last = [], None, None
    for ln in sorted(lines) + [None]:
        if first is not None and (ln is None or ln != last + 1):
            spans.append(f"{{{starts[first - 1]}..{starts[last] - 1}}}")
            first = None
        if ln is not None:
            if first is None:
                first = ln
            last = ln
    return "**/" + os.path.basename(path) + "".join(spans)


COMMENT_ONLY = re.compile(r"^\s*(//.*)?$")


def diff_lines(root, base, relpath):
    """The lines of a source file that differ from commit BASE (git diff -U0, white space ignored):
    every added or modified line, and for a hunk that only deletes, the lines on both sides of the
    cut (a deleted statement changes the code around it). A hunk whose removed and added lines are
    all blank or // comments (an XML doc comment, a reworded note) makes no mutant and is left out,
    as is a change of white space alone (a reformat). None when the file is new (the whole file)."""
    out = subprocess.run(["git", "-C", root, "diff", "-U0", "-w", "--no-color", base, "--", relpath],
                         check=True, capture_output=True, text=True).stdout
    if re.search(r"^new file mode", out, re.M) or re.search(r"^--- /dev/null", out, re.M):
        return None
    lines = set()
    hunks = re.split(r"^(?=@@ )", out, flags=re.M)[1:]
    for h in hunks:
        m = re.match(r"@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", h)
        body = [l for l in h.splitlines()[1:] if l[:1] in "+-" and not l.startswith("\\")]
        if all(COMMENT_ONLY.match(l[1:]) for l in body):
            continue
        start, count = int(m.group(1)), int(m.group(2) or "1")
        if count == 0:
            lines |= {ln for ln in (start, start + 1) if ln >= 1}
        else:
            lines |= set(range(start, start + count))
    return lines


def diff_pattern(base, relpath):
    """Prints the --mutate pattern of the lines of relpath changed since base (the whole file when
    it is new; nothing when no line changed)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    lines = diff_lines(root, base, relpath)
    if lines is None:
        print("**/" + os.path.basename(relpath))
        return 0
    total = sum(1 for _ in open(os.path.join(root, relpath), encoding="utf-8"))
    lines = {ln for ln in lines if ln <= total}
    if lines:
        print(spans_pattern(os.path.join(root, relpath), lines))
    return 0


def timeout_patterns(report):
    """The lines of a report's Timeout mutants, one --mutate pattern per file."""
    with open(report, encoding="utf-8") as f:
        rep = json.load(f)
    for path, entry in rep.get("files", {}).items():
        lines = {ln for m in entry.get("mutants", []) if m["status"] == "Timeout"
                 for ln in range(m["location"]["start"]["line"], m["location"]["end"]["line"] + 1)}
        if lines:
            print(spans_pattern(path, lines))
    return 0


def rerun_statuses(rerun):
    """A re-run report's mutants by (repository path, mutant_key)."""
    with open(rerun, encoding="utf-8") as f:
        again = json.load(f)
    return {(rel(path), mutant_key(m)): m for path, entry in again.get("files", {}).items() for m in entry.get("mutants", [])}


def rewrite_report(report, rep):
    """Writes rep over report, keeping the first original beside it as .orig.json."""
    orig = report[:-5] + ".orig.json"
    if os.path.exists(orig):
        os.remove(report)
    else:
        os.replace(report, orig)
    with open(report, "w", encoding="utf-8") as f:
        json.dump(rep, f)


def killed_only_by(rep, names):
    """The report's Killed mutants whose every recorded killer is a test whose name contains one of
    names (tests that have left the Stryker filter since), as (path, mutant) pairs."""
    ids = {t["id"] for entry in rep.get("testFiles", {}).values() for t in entry.get("tests", [])
           if any(n in t["name"] for n in names)}
    for path, entry in rep.get("files", {}).items():
        for m in entry.get("mutants", []):
            killers = set(m.get("killedBy") or [])
            if m["status"] == "Killed" and killers and killers <= ids:
                yield path, m


def recheck_patterns(report, names):
    """The lines of the mutants killed_only_by names, one --mutate pattern per file."""
    with open(report, encoding="utf-8") as f:
        rep = json.load(f)
    lines = {}
    for path, m in killed_only_by(rep, names):
        lines.setdefault(path, set()).update(range(m["location"]["start"]["line"], m["location"]["end"]["line"] + 1))
    for path, ls in lines.items():
        print(spans_pattern(path, ls))
    return 0


def recheck(report, rerun, names):
    """Each mutant killed_only_by names takes the status it got when run again without those tests
    (a mutant the re-run did not reach keeps Killed, and is counted). The report is rewritten
    (rewrite_report)."""
    with open(report, encoding="utf-8") as f:
        rep = json.load(f)
    now = rerun_statuses(rerun)
    moved = {}
    for path, m in list(killed_only_by(rep, names)):
        r = now.get((rel(path), mutant_key(m)))
        status = r["status"] if r is not None and r["status"] in ("Killed", "Survived", "Timeout", "NoCoverage") else "not re-run"
        moved[status] = moved.get(status, 0) + 1
        if r is not None and status != "not re-run":
            m["status"] = status
            m["statusReason"] = f"re-run without {', '.join(names)}: {status} (first run: Killed by them alone)"
            m["killedBy"] = r.get("killedBy", [])
    rewrite_report(report, rep)
    print(f"re-checked without the tests that left the filter: {sum(moved.values())} mutants; "
          + ", ".join(f"{k} {v}" for k, v in sorted(moved.items())))
    return 0


def reclassify(report, rerun):
    """Each Timeout mutant of a run takes the status it got when re-run alone at a longer timeout:
    Killed or Survived when the re-run finished, Timeout (a real hang or crash) when it timed out
    again. The report is rewritten; the original is kept beside it as .orig.json (rewrite_report)."""
    with open(report, encoding="utf-8") as f:
        rep = json.load(f)
    now = rerun_statuses(rerun)
    moved = {}
    for path, entry in rep.get("files", {}).items():
        for m in entry.get("mutants", []):
            if m["status"] != "Timeout":
                continue
            r = now.get((rel(path), mutant_key(m)))
            status = r["status"] if r is not None and r["status"] in ("Killed", "Survived", "Timeout") else "Timeout"
            moved[status] = moved.get(status, 0) + 1
            if status != "Timeout":
                m["status"] = status
                m["statusReason"] = f"re-run alone at a longer timeout: {status} (first run: Timeout)"
                if r is not None:
                    m["killedBy"] = r.get("killedBy", [])
    rewrite_report(report, rep)
    print(f"timeouts re-run at a longer timeout: {sum(moved.values())} re-run; still Timeout (hang or crash) "
          f"{moved.get('Timeout', 0)}, now Killed {moved.get('Killed', 0)}, now Survived {moved.get('Survived', 0)}")
    return 0


def guard_patterns(record, lib, skip, root):
    """Stryker --mutate patterns covering exactly the lines of the selected mutants (text spans)."""
    selected, involved, unguarded = guarded(record, lib, skip, root)
    if unguarded:
        print(f"weakened-test gate: {lib}: {len(unguarded)} files have no per-mutant record yet (recorded before it "
              f"existed; 'mutation/run full {lib}' or 'file --record' adds it): {', '.join(os.path.basename(u) for u in unguarded)}",
              file=sys.stderr)
    for path, mutants in selected.items():
        lines = {ln for k in mutants for ln in range(k[1], k[2] + 1)}
        print(f"weakened-test gate: {lib}: {path}: {len(mutants)} recorded kills to re-check", file=sys.stderr)
        print(spans_pattern(os.path.join(root, path), lines))
    if selected:
        print(f"weakened-test gate: {lib}: changed test files involved: {', '.join(sorted(involved))}", file=sys.stderr)
    return 0


def guard_compare(record, lib, report, skip, root):
    """Fails (1) when a mutant the record has as Killed by a changed test file now survives or was
    not re-tested: the change removed or weakened what killed it."""
    selected, involved, _ = guarded(record, lib, skip, root)
    with open(report, encoding="utf-8") as f:
        rep = json.load(f)
    now = {}
    for path, entry in rep.get("files", {}).items():
        for m in entry.get("mutants", []):
            now[(rel(path), mutant_key(m))] = m
    lost = []
    total = 0
    for path, mutants in selected.items():
        for k in mutants:
            total += 1
            m = now.get((path, k[0]))
            if m is None:
                lost.append(f"  {path}:{k[1]}: a recorded kill was not re-tested (mutant {k[0]} not in the report)")
            elif m["status"] not in DETECTED:
                lost.append(f"  {path}:{k[1]}: {m['mutatorName']} -> '{m.get('replacement', '')[:60]}' was killed at the "
                            f"record, now {m['status']}")
    if lost:
        print(f"weakened-test gate: {lib}: {len(lost)} of {total} recorded kills lost: a test that guarded them was "
              f"deleted or weakened ({', '.join(sorted(involved))}):")
        print("\n".join(lost))
        return 1
    print(f"weakened-test gate: {lib}: all {total} recorded kills of the changed tests still kill")
    return 0


def advance_guards(record, lib, commit, skip, root=None):
    """After a passed weakened-test check: every recorded kill of the changed tests still kills, so
    the guards of the library's files (except the re-recorded ones in skip) now stand for the tests
    at commit; the gate diffs the tests from there. A test file moved since names its new path."""
    root = root or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(record, encoding="utf-8") as f:
        rec = json.load(f)
    moved = 0
    renames = {}
    for path, c in rec["projects"][lib].get("files", {}).items():
        g = c.get("guards")
        if g and path not in skip and g["testsCommit"] != commit:
            if g["testsCommit"] not in renames:
                renames[g["testsCommit"]] = test_changes(root, g["testsCommit"])[1]
            g["tests"] = [renames[g["testsCommit"]].get(t, t) for t in g["tests"]]
            g["testsCommit"] = commit
            moved += 1
    with open(record, "w", encoding="utf-8") as f:
        json.dump(rec, f, indent=2)
        f.write("\n")
    print(f"weakened-test gate: {lib}: the guards of {moved} files now stand for the tests at {commit[:12]}")
    return 0


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "--advance-guards":
        g = argparse.ArgumentParser(prog="score.py --advance-guards")
        g.add_argument("record")
        g.add_argument("lib")
        g.add_argument("commit")
        g.add_argument("--skip", default="")
        ga = g.parse_args(sys.argv[2:])
        return advance_guards(ga.record, ga.lib, ga.commit, {x for x in ga.skip.split(",") if x})
    if len(sys.argv) == 3 and sys.argv[1] == "--table":
        return table(sys.argv[2])
    if len(sys.argv) == 3 and sys.argv[1] == "--timeout-patterns":
        return timeout_patterns(sys.argv[2])
    if len(sys.argv) == 4 and sys.argv[1] == "--diff-pattern":
        return diff_pattern(sys.argv[2], sys.argv[3])
    if len(sys.argv) >= 4 and sys.argv[1] == "--recheck-patterns":
        return recheck_patterns(sys.argv[2], sys.argv[3:])
    if len(sys.argv) >= 5 and sys.argv[1] == "--recheck":
        return recheck(sys.argv[2], sys.argv[3], sys.argv[4:])
    if len(sys.argv) == 4 and sys.argv[1] == "--reclassify":
        return reclassify(sys.argv[2], sys.argv[3])
    if len(sys.argv) >= 4 and sys.argv[1] in ("--guard-patterns", "--guard-compare"):
        g = argparse.ArgumentParser(prog=f"score.py {sys.argv[1]}")
        g.add_argument("record")
        g.add_argument("lib")
        g.add_argument("report", nargs="?")
        g.add_argument("--skip", default="")
        g.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        ga = g.parse_args(sys.argv[2:])
        skip = {x for x in ga.skip.split(",") if x}
        if sys.argv[1] == "--guard-patterns":
            return guard_patterns(ga.record, ga.lib, skip, ga.root)
        return guard_compare(ga.record, ga.lib, ga.report, skip, ga.root)
    ap = argparse.ArgumentParser()
    ap.add_argument("reports", nargs="+", help="NAME=path/to/mutation-report.json")
    ap.add_argument("--commit")
    ap.add_argument("--out")
    ap.add_argument("--files", action="store_true", help="print every file's line")
    ap.add_argument("--threshold", type=float, help="exit 1 when a library's score is below this")
    ap.add_argument("--advance-lines", metavar="FILES", help="comma-separated src/Lib/X.cs: a passed changed-lines run; move the entry to --commit")
    ap.add_argument("--refresh", metavar="FILES", help="comma-separated src/Lib/X.cs: replace their counts in the record")
    ap.add_argument("--library-files", help="with --refresh: comma-separated .cs files of the library (to track a partial entry)")
    ap.add_argument("--tests-commit", help="with --refresh: the commit whose tests the run used")
    ap.add_argument("--changed", help="comma-separated src/Lib/X.cs the run mutated: with no mutant tested, "
                                      "exit 0 only if every one of them is in the report (it has no testable mutant)")
    a = ap.parse_args()
    if a.advance_lines:
        return advance_lines(a)
    if a.refresh:
        return refresh(a)
    projects = {}
    files = {}
    guard = {}
    any_tested = False
    below = []
    for spec in a.reports:
        name, _, path = spec.partition("=")
        per_file = counts(path)
        total = {}
        for path_, c in sorted(per_file.items()):
            for k, v in c.items():
                total[k] = total.get(k, 0) + v
            s = summarize(c)
            if a.files and s["tested"]:
                print(f"  {os.path.relpath(path_):60s} {s['score']:6.2f}% (killed-only {s['killedOnly']:6.2f}%)  tested {s['tested']:4d}  "
                      f"timeout {s['timeout']:3d}  survived {s['survived']:3d}  no-coverage {s['noCoverage']:3d}")
        s = summarize(total)
        projects[name] = s
        files[name] = {rel(p_): summarize(c) for p_, c in sorted(per_file.items()) if c}
        if a.out:
            guard[name] = guards(path, a.commit)
        any_tested |= s["tested"] > 0
        if a.threshold is not None and s["score"] is not None and s["score"] < a.threshold:
            below.append(f"{name} {s['score']:.2f}% < {a.threshold:g}%")
        sc = "n/a" if s["score"] is None else f"{s['score']:.2f}%"
        ko = "n/a" if s["killedOnly"] is None else f"{s['killedOnly']:.2f}%"
        print(f"{name}: score {sc}, killed-only {ko}  mutants tested {s['tested']} (killed {s['killed']}, timeout {s['timeout']}, "
              f"survived {s['survived']}, no coverage {s['noCoverage']}; ignored {s['ignored']}, compile errors {s['compileError']})")
    if a.out:
        # The record keeps one entry per library (its last full run); a run of some libraries
        # updates theirs and keeps the others.
        rec = {"projects": {}}
        if os.path.exists(a.out):
            with open(a.out, encoding="utf-8") as f:
                rec = json.load(f)
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        for name, s in projects.items():
            rec["projects"][name] = {"commit": a.commit, "date": now, **s, "files": files[name]}
            for f_, g in guard[name].items():
                if f_ in rec["projects"][name]["files"]:
                    rec["projects"][name]["files"][f_]["guards"] = g
        with open(a.out, "w", encoding="utf-8") as f:
            json.dump(rec, f, indent=2)
            f.write("\n")
    if not any_tested:
        if a.changed:
            seen = {rel(p_) for spec in a.reports for p_ in counts(spec.partition("=")[2])}
            missing = [c for c in a.changed.split(",") if c and c not in seen]
            if not missing:
                print(f"no testable mutant in the changed files ({a.changed}): Stryker read them and made none "
                      "(or only ignored ones)")
                return 0
            print(f"changed files Stryker did not read: {', '.join(missing)}")
        return 3
    if below:
        print("below the break threshold: " + "; ".join(below))
        return 1
    return 0


def refresh(a):
    """Later one-file runs (same library source, better tests) replace those files' counts in the record.

    An entry without per-file counts (no full run yet) is built up file by file: it stays "partial"
    and lists the library files still missing until every one has been run.
    """
    if not a.out or len(a.reports) != 1:
        print("--refresh needs --out RECORD and one NAME=REPORT")
        return 2
    name, _, path = a.reports[0].partition("=")
    with open(a.out, encoding="utf-8") as f:
        rec = json.load(f)
    entry = rec["projects"].setdefault(name, {"commit": a.commit})
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if a.commit and entry.get("commit") != a.commit:
        # The run files changed since the recorded commit (mutation/run checked that nothing else
        # did): the entry now stands for the new source; the gate diffs from there.
        entry.setdefault("advanced", []).append({"from": entry.get("commit"), "to": a.commit, "date": now,
                                                 "files": [rel(t) for t in a.refresh.split(",")]})
        print(f"{name}: recorded commit {entry.get('commit')} -> {a.commit}")
        entry["commit"] = a.commit
    if "files" not in entry:
        entry.update({"files": {}, "date": now, "partial": True})
        entry.pop("note", None)
    per_file = {rel(p_): c for p_, c in counts(path).items()}
    guard = guards(path, a.tests_commit)
    for target in (rel(t) for t in a.refresh.split(",")):
        new = summarize(per_file.get(target, {}))  # a file with no mutant at all is not in the report
        if target in guard:
            new["guards"] = guard[target]
        old = entry["files"].get(target)
        entry["files"][target] = new
        entry.setdefault("refreshed", []).append({"file": target, "date": now, "testsCommit": a.tests_commit,
                                                  "before": old and old["score"], "after": new["score"]})
        fmt = lambda x: "n/a" if x is None else f"{x:.2f}%"
        print(f"{target}: {fmt(old and old['score'])} -> {fmt(new['score'])} ({new['tested']} tested)")
    if a.library_files:
        # A file deleted or moved out of the library (e.g. into src/Allocator) has no mutants any
        # more: its old counts must not stay in the totals.
        present = set(a.library_files.split(","))
        for gone in sorted(set(entry["files"]) - present):
            c = entry["files"].pop(gone)
            entry.setdefault("removed", []).append({"file": gone, "date": now, "tested": c.get("tested")})
            print(f"{gone}: no longer in the library; its {c.get('tested')} mutants leave the totals")
    total = {}
    for c in entry["files"].values():
        for k, v in raw(c).items():
            total[k] = total.get(k, 0) + v
    entry.update(summarize(total))
    if entry.get("partial"):
        missing = sorted(set(a.library_files.split(",")) - set(entry["files"])) if a.library_files else []
        entry["missing"] = missing
        if not missing:
            entry.pop("partial")
            entry.pop("missing")
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(rec, f, indent=2)
        f.write("\n")
    state = f", partial: {len(entry['missing'])} files not run yet" if entry.get("partial") else ""
    sc = "n/a" if entry["score"] is None else f"{entry['score']:.2f}%"
    print(f"{name} now {sc} ({entry['tested']} tested, {entry['survived']} survived, "
          f"{entry['noCoverage']} no coverage{state})")
    return 0


def advance_lines(a):
    """A changed-lines run (mutation/run changed --record) that passed moves the library's entry to
    the new commit: the gate then diffs from there. The per-file counts stay those of the last
    whole-file runs (they describe each file before these line changes, as a refresh's describe
    other files); the line run's own counts are kept under "advanced" with the files it covered.
    The changed files' per-mutant guards are dropped: their line and column keys moved, so the
    weakened-test gate treats those files as not yet recorded until a whole-file run."""
    if not a.out or not a.commit or len(a.reports) != 1:
        print("--advance-lines needs --commit SHA, --out RECORD and one NAME=REPORT")
        return 2
    name, _, path = a.reports[0].partition("=")
    with open(a.out, encoding="utf-8") as f:
        rec = json.load(f)
    entry = rec["projects"][name]
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    total = {}
    for c in counts(path).values():
        for k, v in c.items():
            total[k] = total.get(k, 0) + v
    run = summarize(total)
    files = [rel(t) for t in a.advance_lines.split(",") if t]
    entry.setdefault("advanced", []).append({"from": entry.get("commit"), "to": a.commit, "date": now,
                                             "scope": "changed lines", "files": files, "lines": run})
    for target in files:
        if target in entry.get("files", {}):
            entry["files"][target].pop("guards", None)
    ko = "n/a" if run["killedOnly"] is None else f"{run['killedOnly']:.2f}%"
    print(f"{name}: recorded commit {entry.get('commit')} -> {a.commit} (changed lines of {len(files)} files: "
          f"{run['tested']} tested, killed-only {ko})")
    entry["commit"] = a.commit
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(rec, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
