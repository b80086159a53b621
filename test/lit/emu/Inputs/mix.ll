; Assorted operations as LLVM emits them: float division and square root,
; integer division, conversions through half, min/max, bit counting,
; a warp shuffle and an atomic counter.
target datalayout = "e-i64:64-i128:128-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

declare i32 @llvm.nvvm.read.ptx.sreg.tid.x()
declare i32 @llvm.nvvm.read.ptx.sreg.ctaid.x()
declare i32 @llvm.nvvm.read.ptx.sreg.ntid.x()
declare float @llvm.sqrt.f32(float)
declare float @llvm.minnum.f32(float, float)
declare i32 @llvm.ctpop.i32(i32)
declare i32 @llvm.ctlz.i32(i32, i1)
declare i32 @llvm.nvvm.shfl.sync.bfly.i32(i32, i32, i32, i32)

define void @mix(ptr addrspace(1) %x, ptr addrspace(1) %n, ptr addrspace(1) %out, ptr addrspace(1) %counter) {
entry:
  %tid = call i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %bid = call i32 @llvm.nvvm.read.ptx.sreg.ctaid.x()
  %ntid = call i32 @llvm.nvvm.read.ptx.sreg.ntid.x()
  %base = mul i32 %bid, %ntid
  %i = add i32 %base, %tid
  %i64 = zext i32 %i to i64
  %px = getelementptr float, ptr addrspace(1) %x, i64 %i64
  %pn = getelementptr i32, ptr addrspace(1) %n, i64 %i64
  %xv = load float, ptr addrspace(1) %px
  %nv = load i32, ptr addrspace(1) %pn
  %o = mul i64 %i64, 8
  %po = getelementptr i32, ptr addrspace(1) %out, i64 %o
  ; 0: x / 3.0
  %d = fdiv float %xv, 3.0
  store float %d, ptr addrspace(1) %po
  ; 1: sqrt(|x|)
  %ax = call float @llvm.fabs.f32(float %xv)
  %sq = call float @llvm.sqrt.f32(float %ax)
  %p1 = getelementptr i32, ptr addrspace(1) %po, i64 1
  store float %sq, ptr addrspace(1) %p1
  ; 2: n sdiv 7, 3: n srem 7
  %q = sdiv i32 %nv, 7
  %p2 = getelementptr i32, ptr addrspace(1) %po, i64 2
  store i32 %q, ptr addrspace(1) %p2
  %r = srem i32 %nv, 7
  %p3 = getelementptr i32, ptr addrspace(1) %po, i64 3
  store i32 %r, ptr addrspace(1) %p3
  ; 4: (float)(half)x as bits
  %h = fptrunc float %xv to half
  %hb = bitcast half %h to i16
  %hz = zext i16 %hb to i32
  %p4 = getelementptr i32, ptr addrspace(1) %po, i64 4
  store i32 %hz, ptr addrspace(1) %p4
  ; 5: minnum(x, 0.5) + (float)n
  %m = call float @llvm.minnum.f32(float %xv, float 0.5)
  %nf = sitofp i32 %nv to float
  %mf = fadd float %m, %nf
  %p5 = getelementptr i32, ptr addrspace(1) %po, i64 5
  store float %mf, ptr addrspace(1) %p5
  ; 6: popcount(n) * 64 + ctlz(n)
  %pc = call i32 @llvm.ctpop.i32(i32 %nv)
  %lz = call i32 @llvm.ctlz.i32(i32 %nv, i1 false)
  %pc64 = shl i32 %pc, 6
  %bits = add i32 %pc64, %lz
  %p6 = getelementptr i32, ptr addrspace(1) %po, i64 6
  store i32 %bits, ptr addrspace(1) %p6
  ; 7: n of the lane across a butterfly of 1
  %sh = call i32 @llvm.nvvm.shfl.sync.bfly.i32(i32 -1, i32 %nv, i32 1, i32 31)
  %p7 = getelementptr i32, ptr addrspace(1) %po, i64 7
  store i32 %sh, ptr addrspace(1) %p7
  %old = atomicrmw add ptr addrspace(1) %counter, i32 1 monotonic
  ret void
}
declare float @llvm.fabs.f32(float)
!nvvm.annotations = !{!0}
!0 = !{ptr @mix, !"kernel", i32 1}
