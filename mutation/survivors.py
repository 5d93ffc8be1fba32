#!/usr/bin/env python3
"""Lists the surviving and uncovered mutants of Stryker JSON reports: file:line, mutator, code, replacement."""
import json, sys, os
for path in sys.argv[1:]:
    rep = json.load(open(path, encoding="utf-8"))
    for f, e in sorted(rep["files"].items()):
        src = e["source"].split("\n")
        for m in sorted(e["mutants"], key=lambda m: m["location"]["start"]["line"]):
            if m["status"] in ("Survived", "NoCoverage"):
                l = m["location"]["start"]["line"]
                print(f"{m['status'][:4]} {os.path.basename(f)}:{l} {m['mutatorName'][:28]:28s} | {src[l-1].strip()[:80]} => {m.get('replacement','')[:50]}")
