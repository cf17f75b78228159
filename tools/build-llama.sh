#!/usr/bin/env bash
# Builds the llama.cpp shared libraries WeSeek's embedded engine loads (libllama.so and libggml*.so) from
# llama.cpp 815a2a591, the commit LLamaSharp 0.30.0's structures match (a library from another commit is
# refused at start-up by the engine's ABI check), and prints the Model:Llama:NativeLibraryPath to set.
#
#   tools/build-llama.sh --cuda --src ~/llama.cpp --out /opt/weseek/llama-cuda
#   tools/build-llama.sh --cpu  --src llama.cpp-815a2a591.tar.xz
#   LLAMA_SRC=~/llama.cpp tools/build-llama.sh --cuda --arch 90 --dry-run
#
# Needs: bash, cmake >= 3.18, a C/C++ compiler (gcc/g++), tar; for --cuda the CUDA toolkit (nvcc, found on
# PATH or in /usr/local/cuda/bin). Ninja is used when present. No network: the source is given, never fetched.
#
# The source (--src, or $LLAMA_SRC) is one of:
#   - a directory with llama.cpp's sources (a git checkout is checked to be at 815a2a591);
#   - a tarball (.tar, .tar.gz, .tgz, .tar.xz, .tar.zst) of them, at its top level or under one directory
#     (a `git archive` tarball is checked through the commit id git writes into it);
#   - a git repository, bare or not, that has the commit: the needed paths are archived from it.
# The output directory (--out, $LLAMA_OUT; default ./llama-<backend>) receives the libraries with RUNPATH
# $ORIGIN, so they load one another from wherever the directory is copied, and a BUILD-INFO file.
set -euo pipefail

readonly COMMIT=815a2a591
readonly COMMIT_FULL=815a2a5915f22ce6a760c676389c5dfe8535c08f
# The paths a library-only build reads; the rest of the tree (tools, examples, tests, the web UI) is not built.
readonly PATHS=(CMakeLists.txt CMakePresets.json cmake ggml include src licenses LICENSE scripts vendor common)
# "The common architectures": device code for Turing (T4) as PTX, and real code for Ampere (A100, A10, RTX 30),
# Ada (L4, L40, RTX 40) and Hopper (H100, H200), so none of those JIT-compiles kernels on first start. Each
# real architecture adds build time; --arch 90 (an H100/H200 only) or --arch native (the GPUs of this machine)
# builds one.
readonly DEFAULT_CUDA_ARCHITECTURES="75-virtual;80-real;86-real;89-real;90-real"

usage() {
    cat <<EOF
Usage: tools/build-llama.sh --cuda|--cpu [options]

  --cuda | --cpu       the backend: CUDA (GPU, with the CPU backend beside it) or CPU only
  --src PATH           llama.cpp ${COMMIT} sources: a directory, a tarball or a git repository (\$LLAMA_SRC)
  --out DIR            where the libraries go (\$LLAMA_OUT; default ./llama-<backend>)
  --arch LIST          CUDA architectures, CMake syntax (\$CUDA_ARCHITECTURES; default ${DEFAULT_CUDA_ARCHITECTURES});
                       'native' means the GPUs of this machine
  --portable           no -march=native: a library for other machines than this one (images do this)
  --jobs N             parallel compile jobs (\$JOBS; default: the number of cores)
  --build-dir DIR      where CMake builds (default: a temporary directory, removed at the end)
  --force              build even when the source cannot be shown to be at ${COMMIT}
  --configure-only     check the source and the toolchain (CMake's configure step), compile nothing
  --dry-run            print what would run, build nothing
  -h | --help          this text
EOF
}

die() { echo "build-llama: $*" >&2; exit 2; }
say() { echo "build-llama: $*" >&2; }

BACKEND=""
SRC=${LLAMA_SRC:-}
OUT=${LLAMA_OUT:-}
ARCH=${CUDA_ARCHITECTURES:-$DEFAULT_CUDA_ARCHITECTURES}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
PORTABLE=0
FORCE=0
DRY=0
CONFIGURE_ONLY=0
BUILD_DIR=""

while [ $# -gt 0 ]; do
    case "$1" in
        --cuda) BACKEND=cuda ;;
        --cpu) BACKEND=cpu ;;
        --src) SRC=${2:?--src needs a path}; shift ;;
        --src=*) SRC=${1#*=} ;;
        --out) OUT=${2:?--out needs a directory}; shift ;;
        --out=*) OUT=${1#*=} ;;
        --arch) ARCH=${2:?--arch needs a list}; shift ;;
        --arch=*) ARCH=${1#*=} ;;
        --jobs|-j) JOBS=${2:?--jobs needs a number}; shift ;;
        --jobs=*) JOBS=${1#*=} ;;
        --build-dir) BUILD_DIR=${2:?--build-dir needs a directory}; shift ;;
        --build-dir=*) BUILD_DIR=${1#*=} ;;
        --portable) PORTABLE=1 ;;
        --force) FORCE=1 ;;
        --dry-run) DRY=1 ;;
        --configure-only) CONFIGURE_ONLY=1 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument '$1'" ;;
    esac
    shift
done

[ -n "$BACKEND" ] || { usage >&2; die "say --cuda or --cpu"; }
[ -n "$SRC" ] || die "no llama.cpp source: pass --src PATH (a directory, tarball or git repository at ${COMMIT}) or set LLAMA_SRC"
[ -e "$SRC" ] || die "no such source: $SRC"
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || die "--jobs must be a positive number, not '$JOBS'"
OUT=${OUT:-$PWD/llama-$BACKEND}

# run CMD...: runs it, or with --dry-run prints it (quoted so that it can be pasted).
run() {
    if [ "$DRY" = 1 ]; then
        printf '+'; printf ' %q' "$@"; printf '\n'
    else
        "$@"
    fi
}

need() { command -v "$1" >/dev/null 2>&1 || die "$1 is not installed ($2)"; }
need cmake "CMake 3.18 or newer builds llama.cpp"
need tar "tar unpacks the source"
command -v c++ >/dev/null 2>&1 || command -v g++ >/dev/null 2>&1 || die "no C++ compiler (g++ or c++) on PATH"

if [ "$BACKEND" = cuda ]; then
    if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
        export PATH=/usr/local/cuda/bin:$PATH
    fi
    if command -v nvcc >/dev/null 2>&1; then
        say "CUDA $(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p'), architectures ${ARCH}"
    elif [ "$DRY" = 1 ]; then
        say "warning: no nvcc here; the build would stop at this point"
    else
        die "nvcc is not installed (the CUDA toolkit compiles the GPU kernels; install it or put its bin/ on PATH)"
    fi
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/build-llama.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

# Where the unpacked sources are, and whether they were shown to be at the commit.
TREE=""
VERIFIED=""

untar() { # untar FILE DIR: any compression tar knows by the file's name
    case "$1" in
        *.tar.zst|*.tzst) tar --zstd -xf "$1" -C "$2" ;;
        *) tar -xf "$1" -C "$2" ;;
    esac
}

if [ -d "$SRC" ] && { [ -d "$SRC/objects" ] && [ -f "$SRC/HEAD" ] && [ ! -f "$SRC/CMakeLists.txt" ]; }; then
    # A bare git repository: archive the commit's paths out of it.
    need git "git reads the repository"
    git --git-dir="$SRC" cat-file -e "${COMMIT}^{commit}" 2>/dev/null || die "$SRC does not have commit ${COMMIT}"
    mkdir -p "$WORK/src"
    say "archiving ${COMMIT} from the git repository $SRC"
    # Only the paths this commit has (vendor and common exist at 815a2a591; an older layout would lack them).
    mapfile -t present < <(git --git-dir="$SRC" ls-tree --name-only "$COMMIT" "${PATHS[@]}")
    git --git-dir="$SRC" archive "$COMMIT" "${present[@]}" | tar -x -C "$WORK/src"
    TREE=$WORK/src
    VERIFIED="git repository at ${COMMIT}"
elif [ -d "$SRC" ]; then
    [ -f "$SRC/CMakeLists.txt" ] && [ -f "$SRC/include/llama.h" ] || die "$SRC is not a llama.cpp source directory (no CMakeLists.txt and include/llama.h)"
    TREE=$(cd "$SRC" && pwd)
    if command -v git >/dev/null 2>&1 && git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
        head=$(git -C "$SRC" rev-parse HEAD)
        [ "${head#"$COMMIT"}" != "$head" ] || [ "$FORCE" = 1 ] || die "$SRC is at ${head:0:9}, not ${COMMIT}: git -C $SRC checkout ${COMMIT} (or --force)"
        [ "${head#"$COMMIT"}" != "$head" ] && VERIFIED="git checkout at ${COMMIT}"
        git -C "$SRC" diff --quiet HEAD -- "${PATHS[@]}" 2>/dev/null || say "warning: $SRC has local changes"
    fi
elif [ -f "$SRC" ]; then
    mkdir -p "$WORK/src"
    say "unpacking $SRC"
    untar "$SRC" "$WORK/src"
    # git archive writes the commit into the tarball's pax header; git get-tar-commit-id reads it back.
    if command -v git >/dev/null 2>&1; then
        case "$SRC" in
            *.tar.gz|*.tgz) id=$(gzip -dc "$SRC" | git get-tar-commit-id 2>/dev/null || true) ;;
            *.tar.xz) id=$(xz -dc "$SRC" | git get-tar-commit-id 2>/dev/null || true) ;;
            *.tar.zst|*.tzst) id=$(zstd -dc "$SRC" | git get-tar-commit-id 2>/dev/null || true) ;;
            *) id=$(git get-tar-commit-id < "$SRC" 2>/dev/null || true) ;;
        esac
        if [ -n "${id:-}" ]; then
            [ "$id" = "$COMMIT_FULL" ] || [ "$FORCE" = 1 ] || die "$SRC was archived from ${id:0:9}, not ${COMMIT} (or --force)"
            [ "$id" = "$COMMIT_FULL" ] && VERIFIED="git archive of ${COMMIT}"
        fi
    fi
    if [ -f "$WORK/src/CMakeLists.txt" ]; then
        TREE=$WORK/src
    else
        # One top-level directory (llama.cpp/, llama.cpp-815a2a591/).
        mapfile -t tops < <(find "$WORK/src" -mindepth 1 -maxdepth 1)
        [ "${#tops[@]}" = 1 ] && [ -f "${tops[0]}/CMakeLists.txt" ] || die "$SRC has no llama.cpp CMakeLists.txt at its top or under one directory"
        TREE=${tops[0]}
    fi
    [ -f "$TREE/include/llama.h" ] || die "$SRC is not llama.cpp (no include/llama.h)"
else
    die "$SRC is neither a directory nor a file"
fi

if [ -z "$VERIFIED" ]; then
    [ "$FORCE" = 1 ] || [ "$DRY" = 1 ] || say "warning: cannot show that $SRC is at ${COMMIT} (no git metadata); WeSeek refuses a library from another commit when it starts"
    VERIFIED="not verified"
fi
say "source: $TREE ($VERIFIED)"

BUILD=${BUILD_DIR:-$WORK/build}
GENERATOR=()
command -v ninja >/dev/null 2>&1 && GENERATOR=(-G Ninja)

# Only the libraries: no common library, tools, server, examples or tests, no HTTPS. RUNPATH $ORIGIN from the
# start, so libllama.so finds libggml*.so in its own directory after being copied anywhere.
CMAKE_ARGS=(
    -S "$TREE" -B "$BUILD" "${GENERATOR[@]}"
    -DCMAKE_BUILD_TYPE=Release
    -DBUILD_SHARED_LIBS=ON
    -DLLAMA_BUILD_COMMON=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
    -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_OPENSSL=OFF
    -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON '-DCMAKE_INSTALL_RPATH=$ORIGIN'
)
if [ "$PORTABLE" = 1 ]; then
    CMAKE_ARGS+=(-DGGML_NATIVE=OFF)
else
    CMAKE_ARGS+=(-DGGML_NATIVE=ON)
fi
if [ "$BACKEND" = cuda ]; then
    CMAKE_ARGS+=(-DGGML_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=$ARCH")
fi

run cmake "${CMAKE_ARGS[@]}"
if [ "$CONFIGURE_ONLY" = 1 ]; then
    say "configured in $BUILD; --configure-only: nothing compiled"
    exit 0
fi
run cmake --build "$BUILD" --target llama -j "$JOBS"

run mkdir -p "$OUT"
if [ "$DRY" = 1 ]; then
    printf '+ cp -a %q/bin/libllama.so* %q/bin/libggml*.so* %q/\n' "$BUILD" "$BUILD" "$OUT"
else
    cp -a "$BUILD"/bin/libllama.so* "$BUILD"/bin/libggml*.so* "$OUT"/
    [ -e "$OUT/libllama.so" ] || die "the build made no libllama.so"
    if [ "$BACKEND" = cuda ]; then
        compgen -G "$OUT/libggml-cuda.so*" >/dev/null || die "the build made no libggml-cuda.so: was CUDA found by CMake?"
    fi
    if command -v readelf >/dev/null 2>&1; then
        readelf -d "$OUT/libllama.so" | grep -q 'R.*PATH.*\$ORIGIN' || say "warning: libllama.so has no \$ORIGIN RUNPATH; set LD_LIBRARY_PATH=$OUT"
    fi
    {
        echo "llama.cpp ${COMMIT_FULL} (${VERIFIED})"
        echo "backend: ${BACKEND}$([ "$BACKEND" = cuda ] && echo " (architectures ${ARCH})")"
        echo "native: $([ "$PORTABLE" = 1 ] && echo no || echo "yes (this machine's CPU)")"
        echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    } > "$OUT/BUILD-INFO"
fi

LIB=$(cd "$OUT" 2>/dev/null && pwd || echo "$OUT")/libllama.so
say "done: $(ls "$OUT" 2>/dev/null | tr '\n' ' ')"
echo "Set Model:Llama:NativeLibraryPath=$LIB"
echo "  (environment: WESEEK__Model__Llama__NativeLibraryPath=$LIB$([ "$BACKEND" = cuda ] && echo ", and Model:Llama:GpuLayers=auto"))"
