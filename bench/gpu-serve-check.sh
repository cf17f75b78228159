#!/bin/bash
# The GPU route of docs/deploy.md, end to end on a machine with an NVIDIA GPU, the CUDA toolkit and CMake and no
# network: tools/build-llama.sh --cuda builds llama.cpp 815a2a591, `weseek model serve` loads a synthesised r1-7b
# through it with Model:Llama:GpuLayers=auto, and the script checks that every layer went to the GPU and measures
# time to first token and tokens per second over the OpenAI-compatible API.
#
# Beside the repository checkout that travels to the machine, in .devgpu/ (ignored by git):
#   llama.tar.xz   llama.cpp's sources at 815a2a591 (git archive 815a2a591 CMakeLists.txt CMakePresets.json cmake ggml
#                  include src licenses LICENSE scripts vendor common | xz), at its top or under llama.cpp/
#   weseek.tar.xz  dotnet publish src/WeSeek.Host -c Release -r linux-x64 --self-contained -o weseek (under weseek/)
# Run: bash bench/gpu-serve-check.sh "$PWD"   (ARCH=90 by default: the H100/H200's; JOBS=cores)
# Results in /tmp/gpu-serve: check.md (the numbers), build.log, serve.log, requests.log.
set -uo pipefail
REPO=${1:?the repository checkout}
W=/tmp/gpu-serve
rm -rf "$W" && mkdir -p "$W" && cd "$W" || exit 1
export PATH=/usr/local/cuda/bin:$PATH DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
PORT=${PORT:-18080}
say() { echo "$*" | tee -a "$W/check.md"; }

tar -xJf "$REPO/.devgpu/weseek.tar.xz"
WESEEK=$W/weseek/weseek
[ -x "$WESEEK" ] || { echo "no weseek/weseek in weseek.tar.xz"; exit 1; }

start=$(date +%s)
if ! bash "$REPO/tools/build-llama.sh" --cuda --arch "${ARCH:-90}" --src "$REPO/.devgpu/llama.tar.xz" --out "$W/llama-cuda" > "$W/build.log" 2>&1; then
    tail -30 "$W/build.log"; echo "build failed"; exit 1
fi
say "# GPU route check ($(date -u +%Y-%m-%d))"
say ""
say "- GPU: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader)"
say "- CUDA: $(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p'); tools/build-llama.sh --cuda --arch ${ARCH:-90}: $(( $(date +%s) - start )) s"
say "- $(tail -2 "$W/build.log" | head -1)"

export WESEEK_HOME=$W/data
"$WESEEK" model synth --shape r1-7b --dtype q4_k_m --out "$W/r1-7b.gguf" > "$W/synth.log" 2>&1 || { tail "$W/synth.log"; exit 1; }
say "- model: synthesised r1-7b, Q4_K_M, $(du -m "$W/r1-7b.gguf" | cut -f1) MiB"

# llama.cpp's own log (LLama at Information) says how many layers it offloaded.
"$WESEEK" model serve --model "$W/r1-7b.gguf" --urls "http://127.0.0.1:$PORT" --max-batch-size 16 \
    --Model:Llama:NativeLibraryPath="$W/llama-cuda/libllama.so" --Model:Llama:GpuLayers=auto \
    --Logging:LogLevel:LLama=Information > "$W/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null' EXIT
for _ in $(seq 1 180); do
    curl -fsS "http://127.0.0.1:$PORT/health/ready" > /dev/null 2>&1 && break
    kill -0 $SERVER 2>/dev/null || { tail -30 "$W/serve.log"; echo "model serve exited"; exit 1; }
    sleep 1
done
curl -fsS "http://127.0.0.1:$PORT/health/ready" > /dev/null || { tail -30 "$W/serve.log"; echo "not ready after 180 s"; exit 1; }
offloaded=$(grep -o 'offloaded [0-9]*/[0-9]* layers to GPU' "$W/serve.log" | tail -1)
say "- llama.cpp: ${offloaded:-no 'offloaded' line in serve.log}"
say "- KV plan: $(grep -o 'KV: [^;]*' "$W/serve.log" | head -1)"

# One conversation at a time, streamed: time to first token and output tokens per second, 5 times.
say ""
say "| request | time to first token (s) | output tokens | tokens/s after the first |"
say "|---|---|---|---|"
for i in 1 2 3 4 5; do
    body="{\"model\":\"r1-7b\",\"stream\":true,\"max_tokens\":256,\"temperature\":0.6,\"user\":\"check-$i\",\"messages\":[{\"role\":\"user\",\"content\":\"请介绍一下你自己，第 $i 次。\"}]}"
    python3 - "$PORT" "$body" >> "$W/check.md" 2>> "$W/requests.log" <<'EOF'
import json, sys, time, urllib.request
port, body = sys.argv[1], sys.argv[2]
request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat/completions", body.encode(), {"Content-Type": "application/json"})
start = time.monotonic(); first = None; tokens = 0
with urllib.request.urlopen(request, timeout=300) as response:
    for line in response:
        line = line.decode().strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        delta = json.loads(line[6:])["choices"][0].get("delta", {})
        if delta.get("content") or delta.get("reasoning_content"):
            tokens += 1
            first = first or time.monotonic()
end = time.monotonic()
rate = (tokens - 1) / (end - first) if first and tokens > 1 and end > first else 0
print(f"| {json.loads(body)['user']} | {first - start:.3f} | {tokens} | {rate:.1f} |")
EOF
    tail -1 "$W/check.md"
done

gpu=$(curl -fsS "http://127.0.0.1:$PORT/metrics" 2>/dev/null | grep '^hw_gpu_memory_usage_bytes' | head -1)
say ""
say "- GPU memory while serving (/metrics): ${gpu:-none exported}"
say "- nvidia-smi: $(nvidia-smi --query-gpu=memory.used --format=csv,noheader)"
cat "$W/check.md"
