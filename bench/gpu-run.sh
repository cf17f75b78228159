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
# serve.md. ONLY_SERVE=1 skips the batching table.
REPO=$1
W=/tmp/gpu
mkdir -p $W && cd $W
exec > $W/run.log 2>&1
set -x
export PATH=/usr/local/cuda/bin:$PATH DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
tar -xJf $REPO/.devgpu/bench.tar.xz
tar -xJf $REPO/.devgpu/llama.tar.xz
( cd llama.cpp && cmake -B build -G Ninja -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DBUILD_SHARED_LIBS=ON \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF \
    -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF -DCMAKE_BUILD_TYPE=Release > $W/cmake.log 2>&1 \
  && cmake --build build -j 14 --target llama-batched-bench llama-server llama > $W/build.log 2>&1; echo "build exit $?" > $W/build.done ) &
# The model is made on the CPU backend while llama.cpp builds; the benchmark then finds it and skips synthesis.
./bench/WeSeek.Benchmarks --suite synth --shape r1-7b > $W/synth.log 2>&1; echo "synth exit $?" > $W/synth.done
[ -n "$KV_SHAPE" ] && ./bench/WeSeek.Benchmarks --suite synth --shape $KV_SHAPE > $W/synth-kv.log 2>&1
wait
MODEL=$(tail -1 $W/synth.log)
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > $W/gpu.txt
if [ -z "$ONLY_SERVE" ]; then
  ./llama.cpp/build/bin/llama-batched-bench -m $MODEL -c 8192 -b 2048 -ub 512 -npp 32 -ntg 64 -npl 1,4,16,64 -ngl 99 -kvu > $W/anchor.log 2>&1
  LD_LIBRARY_PATH=$W/llama.cpp/build/bin ./bench/WeSeek.Benchmarks --suite batching --shape r1-7b --counts ${COUNTS:-1,4,16,64} --tokens 64 \
    --native-lib $W/llama.cpp/build/bin/libllama.so --gpu-layers 99 --out $W/table.md > $W/bench.log 2>&1
fi
if [ -n "$SERVE" ]; then
  LD_LIBRARY_PATH=$W/llama.cpp/build/bin BENCH=./bench/WeSeek.Benchmarks OUT=$W/serve.md LOGS=$W \
    LOADS=${SERVE_LOADS:-"concurrent 64 2 128 on;interleaved 16 6 32 on;interleaved 16 6 32 off"} \
    bash $REPO/bench/serve-side-by-side.sh ./llama.cpp/build/bin/llama-server $MODEL 65536 64 99 $W/llama.cpp/build/bin/libllama.so > $W/serve.log 2>&1
fi
if [ -n "$KV_SHAPE" ]; then
  LD_LIBRARY_PATH=$W/llama.cpp/build/bin ./bench/WeSeek.Benchmarks --suite kv --shape $KV_SHAPE --turns 2,5,10 \
    --native-lib $W/llama.cpp/build/bin/libllama.so --gpu-layers 99 --out $W/kv.md > $W/kv.log 2>&1
fi
echo done > $W/all.done
