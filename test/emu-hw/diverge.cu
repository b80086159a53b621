// Hardware-truth probes for divergent code on sm_70+ (independent thread
// scheduling): barriers reached along different paths and warp collectives
// called from different sites. Compiled to diverge.ptx by
//   nvcc -ptx -arch=sm_80 diverge.cu -o diverge.ptx
// Each kernel runs as grid 2 x block 128 over 256 input words and writes 8
// words per thread. divbar.ptx holds divbar_probe alone
//   nvcc -ptx -arch=sm_80 -DDIVBAR_ONLY diverge.cu -o divbar.ptx
// so that it loads where match.sync does not.
#include <cstdint>
#include <cuda_fp16.h>

__device__ __forceinline__ void bar_sync_count(unsigned id, unsigned count) {
  asm volatile("barrier.sync %0, %1;" ::"r"(id), "r"(count) : "memory");
}
__device__ __forceinline__ void bar_sync(unsigned id) {
  asm volatile("barrier.sync %0;" ::"r"(id) : "memory");
}

extern "C" __global__ void divbar_probe(const uint32_t* in, uint32_t* out) {
  __shared__ uint32_t flag;
  __shared__ uint32_t a[128], b[128];
  const unsigned t = threadIdx.x;
  const unsigned g = blockIdx.x * blockDim.x + t;
  const uint32_t x = in[g];
  uint32_t* o = out + 8 * g;

  // 0: thread 0 alone writes a flag, then every thread passes one barrier.
  if (t == 0) flag = x ^ 0x55u;
  a[t] = x * 2654435761u;
  __syncthreads();
  o[0] = flag + a[127 - t];
  __syncthreads();

  // 1: a barrier in a loop, reached from two branches (non-aligned).
  uint32_t acc = 0;
  for (unsigned i = 0; i < 4; ++i) {
    if (t & 1) {
      b[t] = x + i;
      bar_sync(1);
      acc += b[t ^ 1] * 3u;
    } else {
      b[t] = x * (i + 1);
      bar_sync(1);
      acc ^= b[t ^ 1];
    }
    bar_sync(1);
  }
  o[1] = acc;

  // 2: a barrier with a thread count, passed by the first two warps only.
  if (t < 64) {
    a[t] = x + 17u;
    bar_sync_count(2, 64);
    o[2] = a[63 - t];
  } else {
    o[2] = 0xdeadbeefu;
  }
  __syncthreads();

  // 3: lane 0 of each warp takes a longer path before the common barrier.
  uint32_t y = x;
  if ((t & 31) == 0) {
    for (unsigned i = 0; i < (x & 7u); ++i) y = y * 1664525u + 1013904223u;
    b[t] = y;
  } else {
    b[t] = y + t;
  }
  __syncthreads();
  o[3] = b[(t + 32) & 127];
  __syncthreads();

  // 4-7: lanes 30 and 31 of each warp exit; the rest pass a barrier.
  o[4] = o[5] = o[6] = o[7] = 0x12345678u;
  if ((t & 31) >= 30) return;
  a[t] = x + 3u;
  __syncthreads();
  o[4] = a[(t + 1) & 127 & ~1u];
}

#ifndef DIVBAR_ONLY
extern "C" __global__ void vote_probe(const uint32_t* in, uint32_t* out) {
  const unsigned t = threadIdx.x;
  const unsigned g = blockIdx.x * blockDim.x + t;
  const unsigned lane = t & 31;
  const uint32_t x = in[g];
  uint32_t* o = out + 8 * g;
  const unsigned full = 0xffffffffu;

  // Lane 0 calls each collective at one site, lanes 1-31 at another.
  if (lane == 0) {
    o[0] = __ballot_sync(full, x & 2u);
    o[1] = __any_sync(full, x & 4u) | (__all_sync(full, x != 0) << 1);
    o[2] = __shfl_sync(full, x * 7u, 5);
  } else {
    o[0] = __ballot_sync(full, x & 1u);
    o[1] = __any_sync(full, (x & 0xffu) == 0u) | (__all_sync(full, x != 1) << 1);
    o[2] = __shfl_sync(full, x + 9u, (lane + 1) & 31);
  }

  // Computed masks: the lanes of a branch vote among themselves.
  if (x & 1u) {
    const unsigned m = __activemask();
    o[3] = __ballot_sync(m, x & 8u) ^ m;
    o[4] = __reduce_add_sync(m, x & 0xffffu);
  } else {
    const unsigned m = __activemask();
    o[3] = __ballot_sync(m, x & 16u) ^ ~m;
    o[4] = __reduce_max_sync(m, x >> 8);
  }
  o[5] = __match_any_sync(full, x & 3u);
  int pred = 0;
  o[6] = __match_all_sync(full, lane < 32 ? 7u : x, &pred) | (pred << 31);
  o[7] = __reduce_or_sync(full, x & (1u << lane));
}

// Barriers and collectives as nvcc lays out source-level divergence: a
// __syncthreads reached by thread 0 and the others along different paths,
// counted barriers from two paths of a warp, __syncwarp and match/redux from two
// sites, and threads that leave after work of their own.
extern "C" __global__ void divsync_probe(const uint32_t* in, uint32_t* out) {
  __shared__ uint32_t s[128], w2[128], total;
  const unsigned t = threadIdx.x;
  const unsigned g = blockIdx.x * blockDim.x + t;
  const unsigned lane = t & 31, base = t & ~31u;
  const uint32_t x = in[g];
  uint32_t* o = out + 8 * g;
  const unsigned full = 0xffffffffu;

  // 0: thread 0 takes its own path to the barrier; it may leave, so the
  // paths meet only at the exit (nvcc: one bar.sync, reached twice).
  uint32_t y = x;
  if (t == 0) {
    total = 0;
    if (x == 0x5a5a5a5au) return;
    y ^= 0x5a5au;
  }
  s[t] = y * 3u;
  __syncthreads();
  o[0] = s[(t + 1) & 127] + s[0];
  __syncthreads();

  // 1: a counted barrier reached from two paths of warps 0 and 1.
  if (t < 64) {
    if (t & 1) {
      w2[t] = x + 17u;
      bar_sync_count(1, 64);
      o[1] = w2[63 - t];
    } else {
      w2[t] = x ^ 0x33u;
      bar_sync_count(1, 64);
      o[1] = w2[63 - t] + 1u;
    }
  } else {
    o[1] = x;
  }
  __syncthreads();

  // 2-4: __syncwarp, match.any and redux.min from two sites.
  if (lane == 0) {
    s[base] = x ^ 0xabcu;
    __syncwarp();
    o[2] = s[base + 1];
    o[3] = __match_any_sync(full, x & 3u);
    o[4] = __reduce_min_sync(full, x >> 3);
  } else {
    if (lane == 1) s[base + 1] = x + 77u;
    __syncwarp();
    o[2] = s[base] + t;
    o[3] = __match_any_sync(full, (x >> 2) & 3u);
    o[4] = __reduce_min_sync(full, x >> 5);
  }
  __syncthreads();

  // 5-7: threads leave, some after a store; the rest use __syncthreads.
  o[5] = o[6] = o[7] = 0x12345678u;
  if ((x & 7u) == 0) {
    o[5] = x * 5u;
    return;
  }
  atomicAdd(&total, x & 0xffffu);
  __syncthreads();
  const uint32_t sum = total;
  o[6] = sum;
  if (x & 8u) return;
  __syncthreads();
  o[7] = sum + s[(t + 5) & 127];
}
// mma.sync, bar.red and shfl after exits, reached along different paths:
// lane 0 of each warp takes its own path to an mma (it may leave, so the
// paths meet only at the exit), a non-aligned barrier.red.popc from the two
// sides of a branch, and a full-mask shuffle after lanes 20-31 left.
/// Two small integers as f16 halves (low, high) of a 32-bit register.
__device__ __forceinline__ uint32_t h2(uint32_t lo, uint32_t hi) {
  __half2 v = __floats2half2_rn(float(lo), float(hi));
  return *reinterpret_cast<uint32_t*>(&v);
}

extern "C" __global__ void divmisc_probe(const uint32_t* in, uint32_t* out) {
  const unsigned t = threadIdx.x;
  const unsigned g = blockIdx.x * blockDim.x + t;
  const unsigned lane = t & 31;
  const uint32_t x = in[g];
  uint32_t* o = out + 8 * g;
  o[0] = o[1] = o[2] = o[3] = o[4] = o[5] = o[6] = o[7] = 0x12345678u;

  // 0-3: D = A * B + C with small integers in f16 A, B (exact sums), f32
  // C = 0.
  uint32_t a0 = h2(x & 7u, (x >> 3) & 7u), a1 = h2((x >> 6) & 7u, (x >> 9) & 7u);
  uint32_t b0 = h2((x >> 12) & 7u, (x >> 15) & 7u);
  float d0 = 0.f, d1 = 0.f, d2 = 0.f, d3 = 0.f;
  if (lane == 0) {
    if (x == 0x5a5a5a5au) return;
    a0 = h2(x & 7u, 1u);
  }
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, "
      "{%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
      : "+f"(d0), "+f"(d1), "+f"(d2), "+f"(d3)
      : "r"(a0), "r"(a1), "r"(a1), "r"(a0), "r"(b0), "r"(a1));
  o[0] = __float_as_uint(d0);
  o[1] = __float_as_uint(d1);
  o[2] = __float_as_uint(d2);
  o[3] = __float_as_uint(d3);
  __syncthreads();

  // 4: barrier.red.popc reached from both sides of a branch.
  uint32_t pop;
  if (x & 1u) {
    asm volatile("{ .reg .pred p; setp.ne.u32 p, %1, 0; "
                 "barrier.red.popc.u32 %0, 3, p; }"
                 : "=r"(pop) : "r"((x >> 1) & 1u) : "memory");
    pop += 1000u;
  } else {
    asm volatile("{ .reg .pred p; setp.ne.u32 p, %1, 0; "
                 "barrier.red.popc.u32 %0, 3, p; }"
                 : "=r"(pop) : "r"((x >> 2) & 1u) : "memory");
  }
  o[4] = pop;
  __syncthreads();

  // 5: lanes 20-31 leave; the others shuffle with a full mask.
  if (lane >= 20) return;
  o[5] = __shfl_sync(0xffffffffu, x, (lane + 3) % 20);
}
#endif
