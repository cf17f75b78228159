#!/usr/bin/env bash
# Replays a fixed question set through `weseek chat`, each question in a fresh chat, with a fixed seed and greedy
# decoding, and writes one JSON line per question: {"question": ..., "answer": ...}. Run it before and after
# `weseek model adapter add`, then compare the two files with compare.py (docs/adaptation.md).
#
#   tools/adapter-eval/replay.sh questions.txt before.jsonl [weseek options: --data DIR, --model FILE, ...]
#
# WESEEK names the executable (default `weseek`; from a checkout: WESEEK="dotnet run --project src/WeSeek.Host --").
# Lines of the question file that are empty or start with # are skipped. The chats stay in the data directory's
# history under eval-<time>-<n>, like any other chat.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 QUESTIONS OUT.jsonl [weseek options]" >&2
  exit 2
fi
questions=$1
out=$2
shift 2
read -r -a weseek <<< "${WESEEK:-weseek}"
run=$(date +%Y%m%d%H%M%S)
: > "$out"
n=0
while IFS= read -r question || [ -n "$question" ]; do
  if [ -z "$question" ] || [ "${question:0:1}" = "#" ]; then
    continue
  fi
  n=$((n + 1))
  # chat prints a banner line, then "> " before each answer and once more when the input ends.
  answer=$(printf '%s\n' "$question" \
    | "${weseek[@]}" chat --chat "eval-$run-$n" --Model:Seed=42 --Model:Temperature=0 "$@" 2>/dev/null \
    | tail -n +2 | sed -e '1s/^> //' -e '$d')
  python3 -c 'import json, sys; print(json.dumps({"question": sys.argv[1], "answer": sys.argv[2]}, ensure_ascii=False))' "$question" "$answer" >> "$out"
  echo "[$n] $question" >&2
done < "$questions"
echo "wrote $n answers to $out" >&2
