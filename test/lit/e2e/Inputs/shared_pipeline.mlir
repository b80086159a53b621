// The block sums of shared_loop.mlir, software-pipelined with two shared
// tensors swapped as loop arguments: the copy of block i + 1 is in flight
// while block i is read (wait 1 leaves the newest group pending). The last
// iteration's copy starts past the end of the matrix and is all zero fill.
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
  %first = tilus.alloc_shared : !shared
  %second = tilus.alloc_shared : !shared
  "tilus.copy_async"(%a, %c0, %c0, %first) : (!tilus.global<?x64xf32>, i32, i32, !shared) -> ()
  tilus.copy_async_commit
  %sum:3 = scf.for %i = %c0 to %blocks step %c1 iter_args(%acc = %init, %cur = %first, %nxt = %second) -> (!tile, !shared, !shared) : i32 {
    %i1 = arith.addi %i, %c1 : i32
    %row = arith.muli %i1, %c16 : i32
    "tilus.copy_async"(%a, %row, %c0, %nxt) : (!tilus.global<?x64xf32>, i32, i32, !shared) -> ()
    tilus.copy_async_commit
    tilus.copy_async_wait 1
    tilus.sync
    %t = tilus.load_shared %cur[%c0, %c0] : !shared, i32, i32 -> !tile
    %next = tilus.add %acc, %t : !tile
    tilus.sync // before the next copy
    scf.yield %next, %nxt, %cur : !tile, !shared, !shared
  }
  tilus.copy_async_wait 0
  tilus.store_global %sum#0, %c[%c0, %c0] : !tile, !tilus.global<16x64xf32>, i32, i32
  return
}
