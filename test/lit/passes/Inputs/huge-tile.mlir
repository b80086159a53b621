// A 2^31-element tile in the tilus dialect: past the register budget.
func.func @huge(%p: !llvm.ptr<1>, %x: i32) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %a = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<2147483648xi32>
  %f = tilus.full %x : i32 -> !tilus.tile<2147483648xi32>
  tilus.store_global %f, %a[%c0] : !tilus.tile<2147483648xi32>, !tilus.global<2147483648xi32>, i32
  return
}
