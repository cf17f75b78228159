#!/usr/bin/env python3
"""Compares two replays of the same question set (replay.sh), before and after an adapter.

    python3 tools/adapter-eval/compare.py before.jsonl after.jsonl [--markdown review.md]

Prints, per question, whether the answer changed and flags answers that look worse: empty, the fallback sent when
the model stops while reasoning, a refusal where there was none, or much shorter. It cannot tell a better answer from
a worse one; it tells you which ones to read. --markdown writes them side by side for that reading. Exit status 1
when any answer is flagged, so a script can stop before `weseek model adapter add` reaches production.
"""
import json
import sys

FALLBACK = "抱歉"  # Model:CutOffReply and most refusals start so; see docs/adaptation.md.
REFUSALS = ("抱歉", "无法", "不能回答", "I can't", "I cannot")


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def flags(before, after):
    found = []
    if not after.strip():
        found.append("empty")
    if any(after.startswith(r) for r in REFUSALS) and not any(before.startswith(r) for r in REFUSALS):
        found.append("refuses now")
    if before.strip() and len(after) < len(before) / 3:
        found.append("much shorter")
    return found


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    before, after = load(argv[1]), load(argv[2])
    if [b["question"] for b in before] != [a["question"] for a in after]:
        print("the two files are not replays of the same question set", file=sys.stderr)
        return 2
    changed = flagged = 0
    rows = []
    for i, (b, a) in enumerate(zip(before, after), 1):
        same = b["answer"] == a["answer"]
        changed += not same
        f = [] if same else flags(b["answer"], a["answer"])
        flagged += bool(f)
        print(f"{i:3} {'same   ' if same else 'changed'} {len(b['answer']):5} -> {len(a['answer']):5}  {', '.join(f)}  {b['question'][:40]}")
        rows.append((b["question"], b["answer"], a["answer"], f))
    print(f"{changed} of {len(before)} answers changed, {flagged} flagged")
    if "--markdown" in argv:
        with open(argv[argv.index("--markdown") + 1], "w", encoding="utf-8") as md:
            for q, b, a, f in rows:
                md.write(f"### {q}\n\n{'**' + ', '.join(f) + '**' if f else ''}\n\n| before | after |\n|---|---|\n")
                md.write(f"| {b.replace('|', '｜').replace(chr(10), '<br>')} | {a.replace('|', '｜').replace(chr(10), '<br>')} |\n\n")
    return 1 if flagged else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
