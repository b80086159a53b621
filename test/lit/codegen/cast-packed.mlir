// RUN: tilusc %s -o %t.ptx
// RUN: FileCheck %s < %t.ptx
// Sub-byte elements: a load reads the byte holding the element (u4 never
// straddles bytes, so one byte load each); a store of f4e2m1 from a thread
// holding both elements of each byte writes the byte with a plain store
// (test/lit/e2e/subbyte_stores.test has the atomic form); u4 -> f16 takes the
// packed cast (codegen/FastCast.cpp, no cvt); f32 -> f4e2m1 rounds on
// integers (no cvt).

// CHECK-LABEL: .entry packed(
// CHECK: ld.global.u8
// CHECK: sub.rn.f16x2
// CHECK: st.global.{{b16|b32|u32}}
// CHECK-NOT: atom.global
// CHECK: st.global.u8
!u4 = !tilus.tile<64x!tilus.u4, #tilus.layout<"spatial(32).local(2)">>
!h = !tilus.tile<64xf16, #tilus.layout<"spatial(32).local(2)">>
!f = !tilus.tile<64xf32, #tilus.layout<"spatial(32).local(2)">>
!e = !tilus.tile<64x!tilus.f4e2m1, #tilus.layout<"spatial(32).local(2)">>
func.func @packed(%p: !llvm.ptr<1>, %q: !llvm.ptr<1>, %r: !llvm.ptr<1>)
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<64x!tilus.u4>
  %x = tilus.load_global %g[%c0] : !tilus.global<64x!tilus.u4>, i32 -> !u4
  %h = tilus.cast %x : !u4 -> !h
  %gh = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<64xf16>
  tilus.store_global %h, %gh[%c0] : !h, !tilus.global<64xf16>, i32
  %f = tilus.cast %h : !h -> !f
  %e = tilus.cast %f : !f -> !e
  %ge = tilus.global_view %r[] : !llvm.ptr<1> -> !tilus.global<64x!tilus.f4e2m1>
  tilus.store_global %e, %ge[%c0] : !e, !tilus.global<64x!tilus.f4e2m1>, i32
  return
}
