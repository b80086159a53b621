//===- EmuBench.cpp - Throughput of the PTX emulator ----------------------===//
//
// Prints emulated warp-instructions per second on one host thread for an
// arithmetic loop and for a 256x256x256 f16 GEMM (cp.async, ldmatrix,
// mma.sync.m16n8k16, bar.sync), and the GEMM's wall time. The GEMM's result
// is checked against a host reference.
//
//===----------------------------------------------------------------------===//

#include "runtime/emu/Emulator.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace tilus::emu;

namespace {

const char *kAluPtx = R"(
.version 8.0
.target sm_80
.address_size 64
.visible .entry alu(.param .u64 out, .param .u32 iters)
{
  .reg .pred %p<2>;
  .reg .b32 %r<16>;
  .reg .f32 %f<8>;
  .reg .b64 %rd<4>;
  mov.u32 %r0, %tid.x;
  ld.param.u32 %r9, [iters];
  mov.u32 %r1, 1;
  mov.u32 %r2, %r0;
  mov.u32 %r10, 0;
  cvt.rn.f32.u32 %f1, %r0;
  mov.f32 %f2, 0f3F7FF000;
  mov.f32 %f3, 0f3F800000;
LOOP:
  add.s32 %r1, %r1, %r2;
  xor.b32 %r2, %r2, %r1;
  mad.lo.s32 %r3, %r1, %r2, %r0;
  shf.l.wrap.b32 %r4, %r3, %r1, 7;
  lop3.b32 %r2, %r2, %r4, %r3, 0x96;
  fma.rn.f32 %f1, %f1, %f2, %f3;
  add.u32 %r10, %r10, 1;
  setp.lt.u32 %p1, %r10, %r9;
  @%p1 bra LOOP;
  ld.param.u64 %rd0, [out];
  mov.u32 %r5, %ctaid.x;
  mov.u32 %r6, %ntid.x;
  mad.lo.u32 %r7, %r5, %r6, %r0;
  mul.wide.u32 %rd1, %r7, 8;
  add.s64 %rd2, %rd0, %rd1;
  st.global.u32 [%rd2], %r2;
  st.global.f32 [%rd2+4], %f1;
  ret;
}
)";

/// C[M][N] (f32) = A[M][K] (f16, row-major) * B, with B given as Bt[N][K]
/// (f16). A CTA of 4 warps computes a 32x32 tile; per 16-wide k step the
/// tiles are staged in shared memory with cp.async, and each warp loads its
/// fragments with ldmatrix.x4 and issues two mma.m16n8k16.
const char *kGemmPtx = R"(
.version 8.0
.target sm_80
.address_size 64
.shared .align 128 .b8 As[1024];
.shared .align 128 .b8 Bs[1024];
.visible .entry gemm(.param .u64 pa, .param .u64 pb, .param .u64 pc,
                     .param .u32 pn, .param .u32 pk)
{
  .reg .pred %p<4>;
  .reg .b32 %r<64>;
  .reg .f32 %f<8>;
  .reg .b64 %rd<16>;
  mov.u32 %r0, %tid.x;
  mov.u32 %r1, %ctaid.x;
  mov.u32 %r2, %ctaid.y;
  ld.param.u64 %rd0, [pa];
  ld.param.u64 %rd1, [pb];
  ld.param.u64 %rd2, [pc];
  ld.param.u32 %r3, [pn];
  ld.param.u32 %r4, [pk];
  // Threads 0-63 stage A, 64-127 stage B: 16 bytes each per k step.
  and.b32 %r5, %r0, 63;
  shr.u32 %r6, %r5, 1;
  and.b32 %r7, %r5, 1;
  shl.b32 %r8, %r7, 3;
  setp.lt.u32 %p0, %r0, 64;
  selp.u32 %r9, %r2, %r1, %p0;
  shl.b32 %r10, %r9, 5;
  add.u32 %r11, %r10, %r6;
  selp.b64 %rd3, %rd0, %rd1, %p0;
  mul.wide.u32 %rd4, %r11, %r4;
  cvt.u64.u32 %rd5, %r8;
  add.s64 %rd6, %rd4, %rd5;
  shl.b64 %rd7, %rd6, 1;
  add.s64 %rd8, %rd3, %rd7;
  mov.u32 %r12, As;
  mov.u32 %r13, Bs;
  selp.u32 %r14, %r12, %r13, %p0;
  shl.b32 %r15, %r6, 5;
  shl.b32 %r16, %r8, 1;
  add.u32 %r17, %r14, %r15;
  add.u32 %r18, %r17, %r16;
  // Warp w: rows 16*(w/2), columns 16*(w%2) of the CTA tile.
  shr.u32 %r19, %r0, 5;
  and.b32 %r20, %r0, 31;
  shr.u32 %r21, %r19, 1;
  and.b32 %r22, %r19, 1;
  // ldmatrix.x4 of A: lane L gives row (L%8) + 8*((L/8)%2), k 8*(L/16).
  and.b32 %r23, %r20, 7;
  shr.u32 %r24, %r20, 3;
  and.b32 %r25, %r24, 1;
  shl.b32 %r26, %r25, 3;
  add.u32 %r27, %r23, %r26;
  shl.b32 %r28, %r21, 4;
  add.u32 %r29, %r27, %r28;
  shr.u32 %r30, %r20, 4;
  shl.b32 %r31, %r30, 4;
  shl.b32 %r32, %r29, 5;
  add.u32 %r33, %r12, %r32;
  add.u32 %r34, %r33, %r31;
  // ldmatrix.x4 of Bt: matrix i = L/8 holds n 8*(i/2).., k 8*(i%2)..
  shr.u32 %r35, %r24, 1;
  shl.b32 %r36, %r35, 3;
  add.u32 %r37, %r23, %r36;
  shl.b32 %r38, %r22, 4;
  add.u32 %r39, %r37, %r38;
  and.b32 %r40, %r24, 1;
  shl.b32 %r41, %r40, 4;
  shl.b32 %r42, %r39, 5;
  add.u32 %r43, %r13, %r42;
  add.u32 %r44, %r43, %r41;
  mov.f32 %f0, 0f00000000;
  mov.f32 %f1, 0f00000000;
  mov.f32 %f2, 0f00000000;
  mov.f32 %f3, 0f00000000;
  mov.f32 %f4, 0f00000000;
  mov.f32 %f5, 0f00000000;
  mov.f32 %f6, 0f00000000;
  mov.f32 %f7, 0f00000000;
  mov.u32 %r45, 0;
LOOP:
  cp.async.cg.shared.global [%r18], [%rd8], 16;
  cp.async.commit_group;
  cp.async.wait_group 0;
  bar.sync 0;
  ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%r50, %r51, %r52, %r53}, [%r34];
  ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%r54, %r55, %r56, %r57}, [%r44];
  mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%f0, %f1, %f2, %f3}, {%r50, %r51, %r52, %r53}, {%r54, %r55}, {%f0, %f1, %f2, %f3};
  mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%f4, %f5, %f6, %f7}, {%r50, %r51, %r52, %r53}, {%r56, %r57}, {%f4, %f5, %f6, %f7};
  bar.sync 0;
  add.s64 %rd8, %rd8, 32;
  add.u32 %r45, %r45, 16;
  setp.lt.u32 %p1, %r45, %r4;
  @%p1 bra LOOP;
  // D fragments: rows g and g+8, columns 2t, 2t+1 of each n8 tile.
  shr.u32 %r46, %r20, 2;
  and.b32 %r47, %r20, 3;
  add.u32 %r48, %r28, %r46;
  shl.b32 %r49, %r2, 5;
  add.u32 %r48, %r48, %r49;
  shl.b32 %r58, %r47, 1;
  add.u32 %r59, %r38, %r58;
  shl.b32 %r60, %r1, 5;
  add.u32 %r59, %r59, %r60;
  mad.lo.u32 %r61, %r48, %r3, %r59;
  mul.wide.u32 %rd9, %r61, 4;
  add.s64 %rd10, %rd2, %rd9;
  st.global.v2.f32 [%rd10], {%f0, %f1};
  st.global.v2.f32 [%rd10+32], {%f4, %f5};
  mul.wide.u32 %rd11, %r3, 32;
  add.s64 %rd12, %rd10, %rd11;
  st.global.v2.f32 [%rd12], {%f2, %f3};
  st.global.v2.f32 [%rd12+32], {%f6, %f7};
  ret;
}
)";

uint16_t toHalf(float f) {
  _Float16 h = _Float16(f);
  uint16_t u;
  std::memcpy(&u, &h, 2);
  return u;
}

int fail(const std::string &m) {
  std::fprintf(stderr, "emu-bench: error: %s\n", m.c_str());
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  // --profile: the same runs with the profiler's counters on, to show what
  // counting costs.
  bool profile = argc > 1 && std::string(argv[1]) == "--profile";
  if (argc > 2 || (argc == 2 && !profile))
    return fail("usage: emu-bench [--profile]");
  Emulator emu;
  emu.setProfiling(profile);
  if (profile)
    std::printf("profiling on\n");

  // Arithmetic loop: 64 CTAs of 256 threads, 2000 iterations.
  auto alu = emu.loadModule(kAluPtx, "alu.ptx");
  if (!alu)
    return fail(alu.error().message());
  DevicePtr out = *emu.allocate(64 * 256 * 8);
  double best = 0;
  uint64_t instrs = 0;
  for (int rep = 0; rep < 3; ++rep) {
    Status s =
        emu.launch(*alu->kernel("alu"), Dim3(64), Dim3(256), 0,
                   {ParamBytes::of(out), ParamBytes::of(uint32_t(2000))});
    if (!s)
      return fail(s.message());
    const LaunchStats &st = emu.lastLaunchStats();
    instrs = st.warpInstructions;
    best = std::max(best, double(st.warpInstructions) / st.seconds);
  }
  std::printf("alu loop:  %llu warp-instructions, %.1f M warp-instructions/s "
              "(best of 3, one host thread)\n",
              (unsigned long long)instrs, best / 1e6);

  // GEMM 256x256x256.
  const unsigned M = 256, N = 256, K = 256;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<uint16_t> a(M * K), bt(N * K);
  std::vector<float> af(M * K), bf(N * K);
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = toHalf(dist(rng));
    _Float16 h;
    std::memcpy(&h, &a[i], 2);
    af[i] = float(h);
  }
  for (size_t i = 0; i < bt.size(); ++i) {
    bt[i] = toHalf(dist(rng));
    _Float16 h;
    std::memcpy(&h, &bt[i], 2);
    bf[i] = float(h);
  }
  // The GEMM under each race-check mode: stop (the default) and off.
  double worstErr = 0;
  for (RaceCheck mode : {RaceCheck::Stop, RaceCheck::Off}) {
    EmulatorOptions opts;
    opts.raceCheck = mode;
    Emulator gemmEmu(opts);
    gemmEmu.setProfiling(profile);
    auto gemm = gemmEmu.loadModule(kGemmPtx, "gemm.ptx");
    if (!gemm)
      return fail(gemm.error().message());
    DevicePtr da = *gemmEmu.allocate(a.size() * 2),
              db = *gemmEmu.allocate(bt.size() * 2),
              dc = *gemmEmu.allocate(M * N * 4);
    if (!gemmEmu.copyToDevice(da, a.data(), a.size() * 2) ||
        !gemmEmu.copyToDevice(db, bt.data(), bt.size() * 2))
      return fail("copy failed");
    double bestTime = 1e30, gemmRate = 0;
    for (int rep = 0; rep < 3; ++rep) {
      auto t0 = std::chrono::steady_clock::now();
      Status s = gemmEmu.launch(
          *gemm->kernel("gemm"), Dim3(N / 32, M / 32), Dim3(128), 0,
          {ParamBytes::of(da), ParamBytes::of(db), ParamBytes::of(dc),
           ParamBytes::of(N), ParamBytes::of(K)});
      double t =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
              .count();
      if (!s)
        return fail(s.message());
      bestTime = std::min(bestTime, t);
      instrs = gemmEmu.lastLaunchStats().warpInstructions;
      gemmRate = std::max(gemmRate, double(instrs) / t);
    }
    std::vector<float> c(M * N);
    if (!gemmEmu.copyFromDevice(c.data(), dc, c.size() * 4))
      return fail("copy failed");
    double maxErr = 0;
    for (unsigned m = 0; m < M; ++m)
      for (unsigned n = 0; n < N; ++n) {
        double ref = 0;
        for (unsigned k = 0; k < K; ++k)
          ref += double(af[m * K + k]) * bf[n * K + k];
        maxErr = std::max(maxErr, std::fabs(ref - c[m * N + n]));
      }
    worstErr = std::max(worstErr, maxErr);
    std::printf("gemm 256x256x256 f16 (cp.async, ldmatrix, mma.sync, "
                "racecheck=%s): %.3f s, %llu warp-instructions, %.1f M "
                "warp-instructions/s, max |error| %.2e\n",
                raceCheckName(mode), bestTime, (unsigned long long)instrs,
                gemmRate / 1e6, maxErr);
  }
  return worstErr < 1e-3 ? 0 : 1;
}
