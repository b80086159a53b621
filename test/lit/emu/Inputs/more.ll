; More LLVM patterns: vector loads, half arithmetic, a local array indexed at
; run time, a cmpxchg loop, unsigned conversions and i8 loads.
target datalayout = "e-i64:64-i128:128-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

declare i32 @llvm.nvvm.read.ptx.sreg.tid.x()
declare i32 @llvm.nvvm.read.ptx.sreg.ctaid.x()
declare i32 @llvm.nvvm.read.ptx.sreg.ntid.x()

define void @more(ptr addrspace(1) %x, ptr addrspace(1) %bytes, ptr addrspace(1) %out, ptr addrspace(1) %maxv) {
entry:
  %local = alloca [8 x i32], align 4
  %tid = call i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %bid = call i32 @llvm.nvvm.read.ptx.sreg.ctaid.x()
  %ntid = call i32 @llvm.nvvm.read.ptx.sreg.ntid.x()
  %base = mul i32 %bid, %ntid
  %i = add i32 %base, %tid
  %i64 = zext i32 %i to i64
  ; a <4 x float> load
  %px = getelementptr <4 x float>, ptr addrspace(1) %x, i64 %i64
  %v = load <4 x float>, ptr addrspace(1) %px, align 16
  %v0 = extractelement <4 x float> %v, i32 0
  %v1 = extractelement <4 x float> %v, i32 1
  %v2 = extractelement <4 x float> %v, i32 2
  %v3 = extractelement <4 x float> %v, i32 3
  ; half arithmetic: (half)v0 * (half)v1 + (half)v2
  %h0 = fptrunc float %v0 to half
  %h1 = fptrunc float %v1 to half
  %h2 = fptrunc float %v2 to half
  %hm = fmul half %h0, %h1
  %ha = fadd half %hm, %h2
  %hf = fpext half %ha to float
  ; a local array filled and read at a data-dependent index
  %pb = getelementptr i8, ptr addrspace(1) %bytes, i64 %i64
  %b = load i8, ptr addrspace(1) %pb
  %bz = zext i8 %b to i32
  br label %fill
fill:
  %k = phi i32 [ 0, %entry ], [ %k1, %fill ]
  %k64 = zext i32 %k to i64
  %pk = getelementptr [8 x i32], ptr %local, i64 0, i64 %k64
  %kk = mul i32 %k, %bz
  store i32 %kk, ptr %pk
  %k1 = add i32 %k, 1
  %more = icmp ult i32 %k1, 8
  br i1 %more, label %fill, label %read
read:
  %idx = and i32 %bz, 7
  %idx64 = zext i32 %idx to i64
  %pr = getelementptr [8 x i32], ptr %local, i64 0, i64 %idx64
  %lv = load i32, ptr %pr
  ; unsigned conversion with saturation semantics of fptoui for in-range values
  %absv3 = call float @llvm.fabs.f32(float %v3)
  %u = fptoui float %absv3 to i32
  ; store: {hf, lv, u, 0}
  %o = mul i64 %i64, 4
  %po = getelementptr i32, ptr addrspace(1) %out, i64 %o
  store float %hf, ptr addrspace(1) %po
  %po1 = getelementptr i32, ptr addrspace(1) %po, i64 1
  store i32 %lv, ptr addrspace(1) %po1
  %po2 = getelementptr i32, ptr addrspace(1) %po, i64 2
  store i32 %u, ptr addrspace(1) %po2
  ; atomic float max through a cmpxchg loop on the bits
  %init = load i32, ptr addrspace(1) %maxv
  br label %cas
cas:
  %old = phi i32 [ %init, %read ], [ %seen, %cas ]
  %oldf = bitcast i32 %old to float
  %gt = fcmp ogt float %v0, %oldf
  %newf = select i1 %gt, float %v0, float %oldf
  %new = bitcast float %newf to i32
  %pair = cmpxchg ptr addrspace(1) %maxv, i32 %old, i32 %new monotonic monotonic
  %seen = extractvalue { i32, i1 } %pair, 0
  %ok = extractvalue { i32, i1 } %pair, 1
  br i1 %ok, label %done, label %cas
done:
  ret void
}
declare float @llvm.fabs.f32(float)
!nvvm.annotations = !{!0}
!0 = !{ptr @more, !"kernel", i32 1}
