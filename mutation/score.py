#!/usr/bin/env python3
"""Reads Stryker.NET mutation-report.json files and prints the score per file and in total.

Score = detected / (detected + undetected), where detected = Killed + Timeout and undetected =
Survived + NoCoverage (Stryker's own formula; Ignored and CompileError mutants do not count).
Usage: score.py [--files] [--threshold T] [--commit SHA --out FILE] NAME=REPORT...
       score.py --refresh FILE[,FILE...] --tests-commit SHA [--library-files F,...] --out RECORD NAME=REPORT
       score.py --table RECORD      (the record as a markdown table)
  With --commit/--out, writes the library's entry of the JSON record {projects: {name: {commit, date,
  counts, score, files: {path: counts}}}} (a full run). With --refresh, replaces some files' counts
  in the entry by those of a later run of those files on the same library source (only the tests
  changed) and recomputes the totals; the entry lists each refresh. An entry with no full run yet is
  built up that way file by file ("partial" until every library file has been run).
  Exit code: 0; 1 when a library scores below --threshold; 3 when no mutant was tested at all
  (a gate that must not pass silently).
"""
import json, sys, datetime, argparse, os

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
    """A report's absolute source path as a repository path (src/...)."""
    path = path.replace(os.sep, "/")
    i = path.rfind("/src/")
    return path[i + 1:] if i >= 0 else path


def raw(s):
    """summarize()'s output back to status counts."""
    return {"Killed": s["killed"], "Timeout": s["timeout"], "Survived": s["survived"],
            "NoCoverage": s["noCoverage"], "Ignored": s["ignored"], "CompileError": s["compileError"]}


def summarize(c):
    det = sum(c.get(s, 0) for s in DETECTED)
    und = sum(c.get(s, 0) for s in UNDETECTED)
    tested = det + und
    score = round(100.0 * det / tested, 2) if tested else None
    return {"tested": tested, "killed": c.get("Killed", 0), "timeout": c.get("Timeout", 0),
            "survived": c.get("Survived", 0), "noCoverage": c.get("NoCoverage", 0),
            "ignored": c.get("Ignored", 0), "compileError": c.get("CompileError", 0), "score": score}


def table(record_path):
    """Prints the record as the README's markdown table."""
    with open(record_path, encoding="utf-8") as f:
        rec = json.load(f)
    print("| library | score | mutants tested | killed | timeout | survived | no coverage | commit | date |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for name, e in rec["projects"].items():
        if e.get("score") is None:
            print(f"| {name} | pending | | | | | | {e['commit'][:7]} | {e.get('note', '')} |")
            continue
        again = f" (+{len(e['refreshed'])} one-file re-runs)" if e.get("refreshed") else ""
        score = f"{e['score']:.2f}%"
        if e.get("partial"):
            again = ""
            score += f" (partial: {len(e['files'])} of {len(e['files']) + len(e.get('missing', []))} files)"
        print(f"| {name} | {score} | {e['tested']} | {e['killed']} | {e['timeout']} | {e['survived']} | "
              f"{e['noCoverage']} | {e['commit'][:7]} | {e['date'][:10]}{again} |")
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--table":
        return table(sys.argv[2])
    ap = argparse.ArgumentParser()
    ap.add_argument("reports", nargs="+", help="NAME=path/to/mutation-report.json")
    ap.add_argument("--commit")
    ap.add_argument("--out")
    ap.add_argument("--files", action="store_true", help="print every file's line")
    ap.add_argument("--threshold", type=float, help="exit 1 when a library's score is below this")
    ap.add_argument("--refresh", metavar="FILES", help="comma-separated src/Lib/X.cs: replace their counts in the record")
    ap.add_argument("--library-files", help="with --refresh: comma-separated .cs files of the library (to track a partial entry)")
    ap.add_argument("--tests-commit", help="with --refresh: the commit whose tests the run used")
    a = ap.parse_args()
    if a.refresh:
        return refresh(a)
    projects = {}
    files = {}
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
                print(f"  {os.path.relpath(path_):60s} {s['score']:6.2f}%  tested {s['tested']:4d}  survived {s['survived']:3d}  no-coverage {s['noCoverage']:3d}")
        s = summarize(total)
        projects[name] = s
        files[name] = {rel(p_): summarize(c) for p_, c in sorted(per_file.items()) if c}
        any_tested |= s["tested"] > 0
        if a.threshold is not None and s["score"] is not None and s["score"] < a.threshold:
            below.append(f"{name} {s['score']:.2f}% < {a.threshold:g}%")
        sc = "n/a" if s["score"] is None else f"{s['score']:.2f}%"
        print(f"{name}: score {sc}  mutants tested {s['tested']} (killed {s['killed']}, timeout {s['timeout']}, "
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
        with open(a.out, "w", encoding="utf-8") as f:
            json.dump(rec, f, indent=2)
            f.write("\n")
    if not any_tested:
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
    for target in (rel(t) for t in a.refresh.split(",")):
        new = summarize(per_file.get(target, {}))  # a file with no mutant at all is not in the report
        old = entry["files"].get(target)
        entry["files"][target] = new
        entry.setdefault("refreshed", []).append({"file": target, "date": now, "testsCommit": a.tests_commit,
                                                  "before": old and old["score"], "after": new["score"]})
        fmt = lambda x: "n/a" if x is None else f"{x:.2f}%"
        print(f"{target}: {fmt(old and old['score'])} -> {fmt(new['score'])} ({new['tested']} tested)")
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


if __name__ == "__main__":
    sys.exit(main())
