// RUN: tilusc %s -o %t.ptx
// RUN: FileCheck %s < %t.ptx
// Shared tensors, asynchronous copies and barriers in the emitted PTX: one
// dynamic shared array for the kernel, 4-byte cp.async where the layout
// keeps no wider chunk contiguous (rows of 9 elements), 16-byte ones where
// it does, a wait that leaves the second group in flight, ld/st.shared (the
// dense tensor's rows keep each thread's two elements together: one
// ld.shared.v2; the padded one's rows of 9 do not).

// CHECK: .extern .shared .align 128 .b8 tilus_smem[];
// CHECK-LABEL: .entry groups(
// CHECK: cp.async.ca.shared.global [%rd{{[0-9]+}}], [%rd{{[0-9]+}}], 4, %r{{[0-9]+}};
// CHECK: cp.async.commit_group;
// CHECK: cp.async.cg.shared.global [%rd{{[0-9]+}}], [%rd{{[0-9]+}}], 16, %r{{[0-9]+}};
// CHECK: cp.async.commit_group;
// CHECK: cp.async.wait_group 1;
// CHECK: bar.sync 0;
// CHECK: ld.shared.f32
// CHECK: cp.async.wait_group 0;
// CHECK: bar.sync 0;
// CHECK: ld.shared.v2.f32
// CHECK: st.shared.f32
// CHECK: bar.sync 0;
// CHECK: ld.shared.f32
// CHECK: st.global.{{f32|v2.f32}}
!padded = !tilus.shared<64x8xf32, #tilus.shared_layout<"shared(64,8).strides(9,1)">>
!dense = !tilus.shared<64x8xf32>
!tile = !tilus.tile<64x8xf32, #tilus.layout<"spatial(32,4).local(2,2)">>
func.func @groups(%pa: !llvm.ptr<1>, %pc: !llvm.ptr<1>, %m: i32) attributes {tilus.kernel, tilus.num_warps = 4 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.global_view %pa[%m] : !llvm.ptr<1>, i32 -> !tilus.global<?x8xf32>
  %c = tilus.global_view %pc[%m] : !llvm.ptr<1>, i32 -> !tilus.global<?x8xf32>
  %c0 = arith.constant 0 : i32
  %c64 = arith.constant 64 : i32
  %s0 = tilus.alloc_shared : !padded
  %s1 = tilus.alloc_shared : !dense
  "tilus.copy_async"(%a, %c0, %c0, %s0) : (!tilus.global<?x8xf32>, i32, i32, !padded) -> ()
  tilus.copy_async_commit
  "tilus.copy_async"(%a, %c64, %c0, %s1) : (!tilus.global<?x8xf32>, i32, i32, !dense) -> ()
  tilus.copy_async_commit
  tilus.copy_async_wait 1
  tilus.sync
  %x = tilus.load_shared %s0[%c0, %c0] : !padded, i32, i32 -> !tile
  tilus.copy_async_wait 0
  tilus.sync
  %y = tilus.load_shared %s1[%c0, %c0] : !dense, i32, i32 -> !tile
  %z = tilus.add %x, %y : !tile
  tilus.store_shared %z, %s0[%c0, %c0] : !tile, !padded, i32, i32
  tilus.sync
  %w = tilus.load_shared %s0[%c0, %c0] : !padded, i32, i32 -> !tile
  tilus.store_global %w, %c[%c0, %c0] : !tile, !tilus.global<?x8xf32>, i32, i32
  return
}
