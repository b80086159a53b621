; A block-wide sum in shared memory with barriers, through generic pointers.
target datalayout = "e-i64:64-i128:128-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

@smem = internal addrspace(3) global [256 x float] undef, align 4

declare i32 @llvm.nvvm.read.ptx.sreg.tid.x()
declare i32 @llvm.nvvm.read.ptx.sreg.ctaid.x()
declare i32 @llvm.nvvm.read.ptx.sreg.ntid.x()
declare void @llvm.nvvm.barrier0()

define void @block_sum(ptr %in, ptr %out) {
entry:
  %tid = call i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %bid = call i32 @llvm.nvvm.read.ptx.sreg.ctaid.x()
  %ntid = call i32 @llvm.nvvm.read.ptx.sreg.ntid.x()
  %base = mul i32 %bid, %ntid
  %i = add i32 %base, %tid
  %i64 = zext i32 %i to i64
  %pin = getelementptr float, ptr %in, i64 %i64
  %v = load float, ptr %pin
  %t64 = zext i32 %tid to i64
  %ps = getelementptr [256 x float], ptr addrspace(3) @smem, i64 0, i64 %t64
  store float %v, ptr addrspace(3) %ps
  call void @llvm.nvvm.barrier0()
  %s0 = lshr i32 %ntid, 1
  br label %loop
loop:
  %s = phi i32 [ %s0, %entry ], [ %snext, %latch ]
  %active = icmp ult i32 %tid, %s
  br i1 %active, label %add, label %latch
add:
  %j = add i32 %tid, %s
  %j64 = zext i32 %j to i64
  %pj = getelementptr [256 x float], ptr addrspace(3) @smem, i64 0, i64 %j64
  %a = load float, ptr addrspace(3) %ps
  %b = load float, ptr addrspace(3) %pj
  %sum = fadd float %a, %b
  store float %sum, ptr addrspace(3) %ps
  br label %latch
latch:
  call void @llvm.nvvm.barrier0()
  %snext = lshr i32 %s, 1
  %more = icmp ne i32 %snext, 0
  br i1 %more, label %loop, label %done
done:
  %first = icmp eq i32 %tid, 0
  br i1 %first, label %write, label %exit
write:
  %r = load float, ptr addrspace(3) @smem
  %b64 = zext i32 %bid to i64
  %pout = getelementptr float, ptr %out, i64 %b64
  store float %r, ptr %pout
  br label %exit
exit:
  ret void
}
!nvvm.annotations = !{!0}
!0 = !{ptr @block_sum, !"kernel", i32 1}
