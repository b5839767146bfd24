#!/usr/bin/env bash
# Build `shoptrain` with the `cuda` feature on a Linux x86_64 machine that has
# no GPU and no CUDA installed: a CUDA 13.0 toolkit is assembled from PyPI
# wheels in a cache folder (~675 MB download once, ~11 minutes of nvcc on 2
# cores the first time). Not part of CI.
#
# Output: target/release/shoptrain (CUDA_COMPUTE_CAP defaults to 90: H100/H200).
# On the GPU machine, put the CUDA 13 libraries on the library path, e.g. from
# PyTorch's wheels:  export LD_LIBRARY_PATH="$SITE/nvidia/cu13/lib:$LD_LIBRARY_PATH"
# (never the link-time stub folder lib64/stubs).
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${SHOPTRAIN_CUDA_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/shoptrain-cuda}"
pydeps="$cache/pydeps"
root="$cache/cuda"
cu="$pydeps/nvidia/cu13"
# nvcc 13.0 emits PTX ISA 9.0, which a 580.x (CUDA 13.0) driver can JIT.
pkgs=(
  nvidia-cuda-nvcc==13.0.88 nvidia-nvvm==13.0.88 nvidia-cuda-crt==13.0.88
  nvidia-cuda-runtime==13.0.88 nvidia-cuda-cccl==13.0.85 nvidia-cuda-nvrtc==13.0.88
  nvidia-cublas==13.0.2.14 nvidia-curand==10.4.0.35
)
command -v g++ >/dev/null || { echo "build-cuda: needs gcc/g++" >&2; exit 1; }
mkdir -p "$pydeps" "$root/lib64/stubs"
missing=()
for p in "${pkgs[@]}"; do
  name="${p%%==*}"; ver="${p##*==}"
  [ -d "$pydeps/${name//-/_}-$ver.dist-info" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install -q --no-deps --upgrade --target "$pydeps" "${missing[@]}"
fi
[ -x "$cu/bin/nvcc" ] && [ -x "$cu/nvvm/bin/cicc" ] || { echo "build-cuda: incomplete toolkit in $cu" >&2; exit 1; }
for d in bin include nvvm; do ln -sfn "$cu/$d" "$root/$d"; done
for pair in cublas:13 cublasLt:13 curand:10 nvrtc:13 cudart:13; do
  ln -sfn "$cu/lib/lib${pair%%:*}.so.${pair##*:}" "$root/lib64/lib${pair%%:*}.so"
done
# link-time stub for libcuda (the real libcuda.so.1 comes with the driver)
if [ ! -f "$root/lib64/stubs/libcuda.so" ]; then
  grep -oE '\bcu[A-Z][A-Za-z0-9_]*\b' "$cu/include/cuda.h" | sort -u \
    | awk '{print "int " $1 "(void) { return 999; }"}' > "$root/lib64/stubs/libcuda_stub.c"
  gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$root/lib64/stubs/libcuda.so" "$root/lib64/stubs/libcuda_stub.c"
fi
export CUDA_ROOT="$root" CUDA_HOME="$root" CUDA_PATH="$root" NVCC="$root/bin/nvcc"
export CUDARC_CUDA_VERSION=13000 CUDA_COMPUTE_CAP="${CUDA_COMPUTE_CAP:-90}"
export PATH="$root/bin:$PATH"
cargo build --release -p shoptrain-trainer --features cuda
echo "build-cuda: built target/release/shoptrain with CUDA (compute capability $CUDA_COMPUTE_CAP)"
