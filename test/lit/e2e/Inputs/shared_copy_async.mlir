// Copy of a 32 x 64 tile of an M x N f16 matrix into a swizzled shared
// tensor with cp.async (elements outside the matrix zero-filled), then
// through registers (each thread reading a row segment that other threads
// copied) to the padded output, so that the zero fill is visible.
!shared = !tilus.shared<32x64xf16, #tilus.shared_layout<"shared(32,64).row_major().swizzle(3,3,3)">>
!tile = !tilus.tile<32x64xf16, #tilus.layout<"spatial(32,4).local(1,16)">>
func.func @copy_async(%pa: !llvm.ptr<1>, %pc: !llvm.ptr<1>, %m: i32, %n: i32, %mp: i32, %np: i32) attributes {tilus.kernel, tilus.num_warps = 4 : i32, tilus.grid = ["cdiv(m, 32)", "cdiv(n, 64)", "1"]} {
  %a = tilus.global_view %pa[%m, %n] : !llvm.ptr<1>, i32, i32 -> !tilus.global<?x?xf16>
  %c = tilus.global_view %pc[%mp, %np] : !llvm.ptr<1>, i32, i32 -> !tilus.global<?x?xf16>
  %bx = tilus.block_idx 0 : i32
  %by = tilus.block_idx 1 : i32
  %c32 = arith.constant 32 : i32
  %c64 = arith.constant 64 : i32
  %c0 = arith.constant 0 : i32
  %row = arith.muli %bx, %c32 : i32
  %col = arith.muli %by, %c64 : i32
  %s = tilus.alloc_shared : !shared
  "tilus.copy_async"(%a, %row, %col, %s) : (!tilus.global<?x?xf16>, i32, i32, !shared) -> ()
  tilus.copy_async_commit
  tilus.copy_async_wait 0
  tilus.sync
  %t = tilus.load_shared %s[%c0, %c0] : !shared, i32, i32 -> !tile
  tilus.store_global %t, %c[%row, %col] : !tile, !tilus.global<?x?xf16>, i32, i32
  return
}
