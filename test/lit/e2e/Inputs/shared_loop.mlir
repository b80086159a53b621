// Column sums of 16-row blocks: c = a[0:16] + a[16:32] + ... for an M x 64
// f32 matrix, each block copied with cp.async into a shared tensor
// allocated in the loop body, read back in a layout where threads read what
// others copied, and accumulated in a loop-carried tile. The second barrier
// keeps the next iteration's copy from overwriting data still being read.
!shared = !tilus.shared<16x64xf32>
!tile = !tilus.tile<16x64xf32, #tilus.layout<"spatial(16,8).local(1,8)">>
func.func @block_sum(%pa: !llvm.ptr<1>, %pc: !llvm.ptr<1>, %m: i32) attributes {tilus.kernel, tilus.num_warps = 4 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.global_view %pa[%m] : !llvm.ptr<1>, i32 -> !tilus.global<?x64xf32>
  %c = tilus.global_view %pc[] : !llvm.ptr<1> -> !tilus.global<16x64xf32>
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %c15 = arith.constant 15 : i32
  %c16 = arith.constant 16 : i32
  %zero = arith.constant 0.0 : f32
  %init = tilus.full %zero : f32 -> !tile
  %rounded = arith.addi %m, %c15 : i32
  %blocks = arith.divui %rounded, %c16 : i32
  %sum = scf.for %i = %c0 to %blocks step %c1 iter_args(%acc = %init) -> (!tile) : i32 {
    %s = tilus.alloc_shared : !shared
    %row = arith.muli %i, %c16 : i32
    "tilus.copy_async"(%a, %row, %c0, %s) : (!tilus.global<?x64xf32>, i32, i32, !shared) -> ()
    tilus.copy_async_commit
    tilus.copy_async_wait 0
    tilus.sync
    %t = tilus.load_shared %s[%c0, %c0] : !shared, i32, i32 -> !tile
    %next = tilus.add %acc, %t : !tile
    tilus.sync // before the next copy
    tilus.free_shared %s : !shared
    scf.yield %next : !tile
  }
  tilus.store_global %sum, %c[%c0, %c0] : !tile, !tilus.global<16x64xf32>, i32, i32
  return
}
