#!/bin/bash
# The GPU batching table of docs/benchmarks.md, on a machine with an NVIDIA GPU, CUDA, CMake and Ninja and no
# network. Prepare two archives beside the repository checkout that travels to it, in .devgpu/ (ignored):
#   llama.tar.xz  llama.cpp at 815a2a5915f22ce6a760c676389c5dfe8535c08f (the commit LLamaSharp 0.30.0 matches), under llama.cpp/:
#                 git archive <commit> CMakeLists.txt CMakePresets.json cmake common ggml include src tools vendor licenses LICENSE scripts
#                 with tools/CMakeLists.txt reduced to add_subdirectory(batched-bench), (mtmd), (ui) and (server)
#                 (the server builds without its web page when the page cannot be downloaded)
#   bench.tar.xz  dotnet publish bench/WeSeek.Benchmarks -c Release -r linux-x64 --self-contained -o bench
#                 (keep runtimes/linux-x64/native/avx2 for the CPU-side model synthesis)
# Then run, in the background so that it outlives one call: setsid nohup bash bench/gpu-run.sh "$PWD" &
# Progress and results: /tmp/gpu/run.log, anchor.log (llama-batched-bench), table.md (WeSeek's scheduler).
# KV_SHAPE=r1-1.5b (for example) adds the KV-reuse table for that shape on the GPU: kv.md.
# SERVE=1 adds llama-server and `weseek model serve` side by side (bench/serve-side-by-side.sh) on r1-7b, 64 slots:
# serve.md. ONLY_SERVE=1 skips the batching table. BATCH_SAMPLERS="managed backend" runs the batching table once per
# Model:Llama:Sampler (table-<sampler>.md); SERVE_SAMPLERS likewise for the side by side (serve-<sampler>.md).
# BUILD_SCRIPT=1 also builds the library with tools/build-llama.sh --cuda and serves r1-7b through it with
# GpuLayers=auto (build-script.md). CPU_SIDE=1 adds llama-server against `weseek model serve` on the synthesised 0.5B
# on two pinned cores of this machine, both through this CUDA build with no GPU visible (the same CPU kernels), WeSeek
# once per KV layout in CPU_LAYOUTS (cpu-<layout>.md). CPU_ONLY=1 builds llama.cpp without CUDA and runs only that
# (no GPU needed; a quiet machine with more cores than the two pinned). BUILD_TARGETS="llama-batched-bench llama" saves
# the server's build when only the batching table runs.
REPO=$1
W=/tmp/gpu
mkdir -p $W && cd $W
exec > $W/run.log 2>&1
set -x
export PATH=/usr/local/cuda/bin:$PATH DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
tar -xJf $REPO/.devgpu/bench.tar.xz
tar -xJf $REPO/.devgpu/llama.tar.xz
CUDA_FLAGS="-DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90"; [ -n "$CPU_ONLY" ] && CUDA_FLAGS= && CPU_SIDE=1 ONLY_SERVE=1 SERVE= KV_SHAPE= BUILD_SCRIPT=
# shellcheck disable=SC2086
( cd llama.cpp && cmake -B build -G Ninja $CUDA_FLAGS -DBUILD_SHARED_LIBS=ON \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF \
    -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF -DCMAKE_BUILD_TYPE=Release > $W/cmake.log 2>&1 \
  && cmake --build build -j 14 --target ${BUILD_TARGETS:-llama-batched-bench llama-server llama} > $W/build.log 2>&1; echo "build exit $?" > $W/build.done ) &
BUILD_PID=$!
if [ -n "$BUILD_SCRIPT" ]; then
  ( nice -n 19 bash $REPO/tools/build-llama.sh --cuda --src $REPO/.devgpu/llama.tar.xz --arch 90 --jobs 6 --out $W/llama-script \
      > $W/build-script.log 2>&1; echo "build-script exit $?" > $W/build-script.done ) &
fi
# The model is made on the CPU backend while llama.cpp builds; the benchmark then finds it and skips synthesis.
[ -z "$CPU_ONLY" ] && { ./bench/WeSeek.Benchmarks --suite synth --shape r1-7b > $W/synth.log 2>&1; echo "synth exit $?" > $W/synth.done; }
[ -n "$KV_SHAPE" ] && ./bench/WeSeek.Benchmarks --suite synth --shape $KV_SHAPE > $W/synth-kv.log 2>&1
wait $BUILD_PID # Only the main build: the build-script one runs on beside the benchmarks (niced, 6 jobs).
MODEL=$(tail -1 $W/synth.log 2>/dev/null)
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > $W/gpu.txt || true
lscpu > $W/cpu.txt
if [ -z "$ONLY_SERVE" ]; then
  ./llama.cpp/build/bin/llama-batched-bench -m $MODEL -c 8192 -b 2048 -ub 512 -npp 32 -ntg 64 -npl 1,4,16,64 -ngl 99 -kvu > $W/anchor.log 2>&1
  for sampler in ${BATCH_SAMPLERS:-managed}; do
    LD_LIBRARY_PATH=$W/llama.cpp/build/bin ./bench/WeSeek.Benchmarks --suite batching --shape r1-7b --counts ${COUNTS:-1,4,16,64} --tokens 64 \
      --native-lib $W/llama.cpp/build/bin/libllama.so --gpu-layers 99 --sampler $sampler --out $W/table-$sampler.md > $W/bench-$sampler.log 2>&1
  done
fi
if [ -n "$SERVE" ]; then
  for sampler in ${SERVE_SAMPLERS:-managed}; do
    mkdir -p $W/serve-$sampler
    LD_LIBRARY_PATH=$W/llama.cpp/build/bin BENCH=./bench/WeSeek.Benchmarks OUT=$W/serve-$sampler.md LOGS=$W/serve-$sampler \
      WESEEK_ARGS="--Model:Llama:Sampler=$sampler" \
      LOADS=${SERVE_LOADS:-"concurrent 64 2 128 on;interleaved 16 6 32 on;interleaved 16 6 32 off"} \
      bash $REPO/bench/serve-side-by-side.sh ./llama.cpp/build/bin/llama-server $MODEL 65536 64 99 $W/llama.cpp/build/bin/libllama.so > $W/serve-$sampler.log 2>&1
  done
fi
if [ -n "$BUILD_SCRIPT" ]; then
  # `weseek model serve` on the library tools/build-llama.sh made, every layer placed by GpuLayers=auto.
  while [ ! -f $W/build-script.done ]; do sleep 5; done
  LIB=$W/llama-script/libllama.so
  ./bench/WeSeek.Benchmarks --suite model-serve --model $MODEL -- --urls http://127.0.0.1:8093 --Model:Llama:GpuLayers=auto \
    --Model:Llama:NativeLibraryPath=$LIB --Model:Llama:ContextSize=65536 --Model:Llama:MaxSequences=64 \
    --Storage:DataDirectory=$W/script-data > $W/script-serve.log 2>&1 &
  SERVE_PID=$!
  for i in $(seq 1 120); do curl -sf http://127.0.0.1:8093/health >/dev/null 2>&1 && break; sleep 1; done
  { cat $W/build-script.done; cat $W/llama-script/BUILD-INFO; echo; } > $W/build-script.md
  ./bench/WeSeek.Benchmarks --suite serve-load --servers weseek-script-lib=http://127.0.0.1:8093 --load concurrent --users 64 --turns 2 \
    --tokens 128 --ids on --out $W/build-script.md >> $W/build-script.log 2>&1
  nvidia-smi --query-gpu=memory.used,memory.total --format=csv >> $W/build-script.md
  kill $SERVE_PID; wait $SERVE_PID 2>/dev/null
  grep -i -E "offload|KV:|layers" $W/script-serve.log | head -20 >> $W/build-script.md
fi
if [ -n "$KV_SHAPE" ]; then
  LD_LIBRARY_PATH=$W/llama.cpp/build/bin ./bench/WeSeek.Benchmarks --suite kv --shape $KV_SHAPE --turns 2,5,10 \
    --native-lib $W/llama.cpp/build/bin/libllama.so --gpu-layers 99 --out $W/kv.md > $W/kv.log 2>&1
fi
if [ -n "$CPU_SIDE" ]; then
  CPU_MODEL=$(./bench/WeSeek.Benchmarks --suite synth --shape 0.5b | tail -1)
  for layout in ${CPU_LAYOUTS:-unified per-sequence}; do
    # 8 slots of 2,048 cells for llama-server (-c 16384 -np 8); WeSeek: 8 generating, its default of one kept cache
    # on the CPU, and as many cells per sequence in the per-sequence layout (9 × 2,048).
    ctx=16384; [ "$layout" = per-sequence ] && ctx=18432
    mkdir -p $W/cpu-$layout
    CUDA_VISIBLE_DEVICES= LD_LIBRARY_PATH=$W/llama.cpp/build/bin BENCH=./bench/WeSeek.Benchmarks OUT=$W/cpu-$layout.md LOGS=$W/cpu-$layout \
      PIN="taskset -c 0,1" LLAMA_ARGS="-t 2 -tb 2" \
      WESEEK_ARGS="--Model:Llama:KvLayout=$layout --Model:Llama:Threads=2 --Model:Llama:ContextSize=$ctx" \
      LOADS=${CPU_LOADS:-"interleaved 16 4 16 on"} \
      bash $REPO/bench/serve-side-by-side.sh ./llama.cpp/build/bin/llama-server $CPU_MODEL 16384 8 0 $W/llama.cpp/build/bin/libllama.so > $W/cpu-$layout.log 2>&1
  done
fi
echo done > $W/all.done
