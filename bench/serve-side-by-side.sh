#!/bin/bash
# llama-server and `weseek model serve` side by side on one model, one context size and one number of slots,
# under the loads bench/WeSeek.Benchmarks/ServeLoad.cs generates; the tables are appended to $OUT.
#
#   bench/serve-side-by-side.sh LLAMA_SERVER MODEL [CTX=8192] [SLOTS=8] [GPU_LAYERS=0] [NATIVE_LIB]
#
# LLAMA_SERVER is built from llama.cpp 815a2a591 (the commit LLamaSharp 0.30.0 matches; bench/gpu-run.sh shows
# how); NATIVE_LIB is that build's libllama.so for WeSeek on a GPU. LOADS picks the loads (default below; each is
# "name users turns tokens ids"). Both servers run at once but are loaded one after the other; each gets one
# warm-up request first. BENCH overrides how the benchmark program is started (a published binary on a device);
# WESEEK_ARGS adds settings to WeSeek's server (--Model:Llama:…), LLAMA_ARGS to llama-server's; PIN prefixes both
# servers' command lines (for example "taskset -c 0,1": the load generator stays off their cores).
set -euo pipefail
LLAMA_SERVER=$1
MODEL=$2
CTX=${3:-8192}
SLOTS=${4:-8}
NGL=${5:-0}
LIB=${6:-}
BENCH=${BENCH:-dotnet bench/WeSeek.Benchmarks/bin/Release/net10.0/WeSeek.Benchmarks.dll}
OUT=${OUT:-/tmp/serve-side-by-side.md}
LOGS=${LOGS:-/tmp}
LOADS=${LOADS:-"interleaved 16 6 32 on;interleaved 16 6 32 off;concurrent 8 2 32 on"}

# shellcheck disable=SC2086
${PIN:-} "$LLAMA_SERVER" -m "$MODEL" -c "$CTX" -np "$SLOTS" -ngl "$NGL" --host 127.0.0.1 --port 8091 \
  --reasoning-format deepseek --no-webui ${LLAMA_ARGS:-} > "$LOGS/llama-server.log" 2>&1 &
LLAMA_PID=$!
# shellcheck disable=SC2086
 ${PIN:-} $BENCH --suite model-serve --model "$MODEL" -- --urls http://127.0.0.1:8092 --Model:Llama:ContextSize="$CTX" \
  --Model:Llama:MaxSequences="$SLOTS" --Model:Llama:GpuLayers="$NGL" ${LIB:+--Model:Llama:NativeLibraryPath=$LIB} \
  --Storage:DataDirectory="$LOGS/weseek-data" --Logging:LogLevel:Default=Warning ${WESEEK_ARGS:-} > "$LOGS/weseek-serve.log" 2>&1 &
WESEEK_PID=$!
trap 'kill $LLAMA_PID $WESEEK_PID 2>/dev/null; wait 2>/dev/null' EXIT

{
  echo "Model $(basename "$MODEL"), context $CTX, $SLOTS slots, GPU layers $NGL; llama-server: $("$LLAMA_SERVER" --version 2>&1 | grep -m1 version || true)"
  echo
} >> "$OUT"
IFS=';' read -ra loads <<< "$LOADS"
for load in "${loads[@]}"; do
  read -r name users turns tokens ids <<< "$load"
  # shellcheck disable=SC2086
  $BENCH --suite serve-load --servers llama-server=http://127.0.0.1:8091,weseek=http://127.0.0.1:8092 \
    --load "$name" --users "$users" --turns "$turns" --tokens "$tokens" --ids "$ids" --out "$OUT" || true
done
