// Transpose of an M x N f32 matrix through shared memory, one 32 x 32 tile
// per block: rows of the tile are loaded coalesced, stored to shared memory
// (rows padded to 33 elements), read back after the barrier with a layout
// in which each thread holds a column, relabeled as the transposed tile and
// stored coalesced.
!shared = !tilus.shared<32x32xf32, #tilus.shared_layout<"shared(32,32).strides(33,1)">>
!rows = !tilus.tile<32x32xf32, #tilus.layout<"local(8,1).spatial(4,32)">>
!cols = !tilus.tile<32x32xf32, #tilus.layout<"local(1,8).column_spatial(32,4)">>
func.func @transpose(%pa: !llvm.ptr<1>, %pb: !llvm.ptr<1>, %m: i32, %n: i32) attributes {tilus.kernel, tilus.num_warps = 4 : i32, tilus.grid = ["cdiv(m, 32)", "cdiv(n, 32)", "1"]} {
  %a = tilus.global_view %pa[%m, %n] : !llvm.ptr<1>, i32, i32 -> !tilus.global<?x?xf32>
  %b = tilus.global_view %pb[%n, %m] : !llvm.ptr<1>, i32, i32 -> !tilus.global<?x?xf32>
  %bx = tilus.block_idx 0 : i32
  %by = tilus.block_idx 1 : i32
  %c32 = arith.constant 32 : i32
  %c0 = arith.constant 0 : i32
  %row = arith.muli %bx, %c32 : i32
  %col = arith.muli %by, %c32 : i32
  %t = tilus.load_global %a[%row, %col] : !tilus.global<?x?xf32>, i32, i32 -> !rows
  %s = tilus.alloc_shared : !shared
  tilus.store_shared %t, %s[%c0, %c0] : !rows, !shared, i32, i32
  tilus.sync
  %u = tilus.load_shared %s[%c0, %c0] : !shared, i32, i32 -> !cols
  %v = tilus.transpose %u [1, 0] : !cols -> !rows
  tilus.store_global %v, %b[%col, %row] : !rows, !tilus.global<?x?xf32>, i32, i32
  tilus.free_shared %s : !shared
  return
}
