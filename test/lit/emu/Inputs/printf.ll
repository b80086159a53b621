; printf from a kernel, the way clang lowers it: a vprintf call with the
; arguments in a local buffer.
target datalayout = "e-i64:64-i128:128-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

@fmt = private unnamed_addr addrspace(1) constant [23 x i8] c"thread %d: %.3f %s %u\0A\00"
@word = private unnamed_addr addrspace(1) constant [3 x i8] c"ok\00"

declare i32 @llvm.nvvm.read.ptx.sreg.tid.x()
declare i32 @vprintf(ptr, ptr)

define void @hello(float %scale) {
entry:
  %buf = alloca { i32, double, ptr, i32 }, align 8
  %tid = call i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %tf = sitofp i32 %tid to float
  %v = fmul float %tf, %scale
  %vd = fpext float %v to double
  %f0 = getelementptr { i32, double, ptr, i32 }, ptr %buf, i32 0, i32 0
  store i32 %tid, ptr %f0
  %f1 = getelementptr { i32, double, ptr, i32 }, ptr %buf, i32 0, i32 1
  store double %vd, ptr %f1
  %f2 = getelementptr { i32, double, ptr, i32 }, ptr %buf, i32 0, i32 2
  %w = addrspacecast ptr addrspace(1) @word to ptr
  store ptr %w, ptr %f2
  %f3 = getelementptr { i32, double, ptr, i32 }, ptr %buf, i32 0, i32 3
  %sq = mul i32 %tid, %tid
  store i32 %sq, ptr %f3
  %fp = addrspacecast ptr addrspace(1) @fmt to ptr
  %r = call i32 @vprintf(ptr %fp, ptr %buf)
  ret void
}
!nvvm.annotations = !{!0}
!0 = !{ptr @hello, !"kernel", i32 1}
