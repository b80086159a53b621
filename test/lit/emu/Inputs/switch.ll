; A switch lowered to a tree of branches: eight-way divergence within a
; warp that meets again at the phi.
target datalayout = "e-i64:64-i128:128-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"
declare i32 @llvm.nvvm.read.ptx.sreg.tid.x()
define void @sw(ptr addrspace(1) %out) {
entry:
  %tid = call i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %k = and i32 %tid, 7
  switch i32 %k, label %d [ i32 0, label %a0 i32 1, label %a1 i32 2, label %a2 i32 3, label %a3 i32 4, label %a4 i32 5, label %a5 ]
a0: br label %m
a1: br label %m
a2: br label %m
a3: br label %m
a4: br label %m
a5: br label %m
d: br label %m
m:
  %v = phi i32 [ 10, %a0 ], [ 21, %a1 ], [ 32, %a2 ], [ 43, %a3 ], [ 54, %a4 ], [ 65, %a5 ], [ 99, %d ]
  %t64 = zext i32 %tid to i64
  %p = getelementptr i32, ptr addrspace(1) %out, i64 %t64
  store i32 %v, ptr addrspace(1) %p
  ret void
}
!nvvm.annotations = !{!0}
!0 = !{ptr @sw, !"kernel", i32 1}
