// RUN: tilusc %s -o %t.ptx
// RUN: FileCheck %s < %t.ptx
// Casts from types of at most 8 bits to f16/bf16 convert two registers per
// packed program, up to four programs interleaved in a block
// (codegen/FastCast.cpp), when the thread holds an even number of elements;
// other counts and targets keep the per-element conversion.

// u4 -> f16: the codes go under the exponent of 1024 (0x6400) with one lop3, one sub.f16x2 removes it; no cvt.
// CHECK-LABEL: .entry u4_f16(
// CHECK: mov.b32 %x0, {%rs{{[0-9]+}}, %rs{{[0-9]+}}}
// CHECK: lop3.b32 %x0, %x0, 0x000f000f, 0x64006400, 0xea
// CHECK: sub.rn.f16x2
// CHECK-NOT: cvt.rn.f16
func.func @u4_f16(%p: !llvm.ptr<1>, %q: !llvm.ptr<1>)
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<64x!tilus.u4>
  %x = tilus.load_global %g[%c0] : !tilus.global<64x!tilus.u4>, i32 -> !tilus.tile<64x!tilus.u4, #tilus.layout<"spatial(32).local(2)">>
  %h = tilus.cast %x : !tilus.tile<64x!tilus.u4, #tilus.layout<"spatial(32).local(2)">> -> !tilus.tile<64xf16, #tilus.layout<"spatial(32).local(2)">>
  %gh = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<64xf16>
  tilus.store_global %h, %gh[%c0] : !tilus.tile<64xf16, #tilus.layout<"spatial(32).local(2)">>, !tilus.global<64xf16>, i32
  return
}

// i4 -> f16: the same with the sign bit flipped (lop3 0x6a) and 1032 (0x6408) subtracted.
// CHECK-LABEL: .entry i4_f16(
// CHECK: lop3.b32 %x0, %x0, 0x000f000f, 0x64086408, 0x6a
// CHECK: sub.rn.f16x2
// CHECK-NOT: cvt.rn.f16
func.func @i4_f16(%p: !llvm.ptr<1>, %q: !llvm.ptr<1>)
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<64x!tilus.i4>
  %x = tilus.load_global %g[%c0] : !tilus.global<64x!tilus.i4>, i32 -> !tilus.tile<64x!tilus.i4, #tilus.layout<"spatial(32).local(2)">>
  %h = tilus.cast %x : !tilus.tile<64x!tilus.i4, #tilus.layout<"spatial(32).local(2)">> -> !tilus.tile<64xf16, #tilus.layout<"spatial(32).local(2)">>
  %gh = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<64xf16>
  tilus.store_global %h, %gh[%c0] : !tilus.tile<64xf16, #tilus.layout<"spatial(32).local(2)">>, !tilus.global<64xf16>, i32
  return
}

// u2 -> f16 with four locals: two packed pairs.
// CHECK-LABEL: .entry u2_f16(
// CHECK: lop3.b32 %x0, %x0, 0x00030003, 0x64006400, 0xea
// CHECK: lop3.b32 %x1, %x1, 0x00030003, 0x64006400, 0xea
// CHECK: sub.rn.f16x2
// CHECK: sub.rn.f16x2
// CHECK-NOT: cvt.rn.f16
func.func @u2_f16(%p: !llvm.ptr<1>, %q: !llvm.ptr<1>)
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<128x!tilus.u2>
  %x = tilus.load_global %g[%c0] : !tilus.global<128x!tilus.u2>, i32 -> !tilus.tile<128x!tilus.u2, #tilus.layout<"spatial(32).local(4)">>
  %h = tilus.cast %x : !tilus.tile<128x!tilus.u2, #tilus.layout<"spatial(32).local(4)">> -> !tilus.tile<128xf16, #tilus.layout<"spatial(32).local(4)">>
  %gh = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<128xf16>
  tilus.store_global %h, %gh[%c0] : !tilus.tile<128xf16, #tilus.layout<"spatial(32).local(4)">>, !tilus.global<128xf16>, i32
  return
}

// f4e2m1 -> f16: sign to bit 15, fields shifted into f16 position, one mul.f16x2 by 2^14.
// CHECK-LABEL: .entry f4e2m1_f16(
// CHECK: shl.b32 %t0, %x0, 12
// CHECK: and.b32 %m0, %t0, 0x70007000
// CHECK: shr.b32 %m0, %m0, 3
// CHECK: lop3.b32 %x0, %t0, 0x80008000, %m0, 0xea
// CHECK: mul.rn.f16x2
// CHECK-NOT: cvt.rn.f16
func.func @f4e2m1_f16(%p: !llvm.ptr<1>, %q: !llvm.ptr<1>)
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<64x!tilus.f4e2m1>
  %x = tilus.load_global %g[%c0] : !tilus.global<64x!tilus.f4e2m1>, i32 -> !tilus.tile<64x!tilus.f4e2m1, #tilus.layout<"spatial(32).local(2)">>
  %h = tilus.cast %x : !tilus.tile<64x!tilus.f4e2m1, #tilus.layout<"spatial(32).local(2)">> -> !tilus.tile<64xf16, #tilus.layout<"spatial(32).local(2)">>
  %gh = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<64xf16>
  tilus.store_global %h, %gh[%c0] : !tilus.tile<64xf16, #tilus.layout<"spatial(32).local(2)">>, !tilus.global<64xf16>, i32
  return
}

// f6e3m2 -> f16: the same shifts for its widths, scaled by 2^12.
// CHECK-LABEL: .entry f6e3m2_f16(
// CHECK: shl.b32 %t0, %x0, 10
// CHECK: and.b32 %m0, %t0, 0x7c007c00
// CHECK: shr.b32 %m0, %m0, 2
// CHECK: mul.rn.f16x2
// CHECK-NOT: cvt.rn.f16
func.func @f6e3m2_f16(%p: !llvm.ptr<1>, %q: !llvm.ptr<1>)
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<64x!tilus.f6e3m2>
  %x = tilus.load_global %g[%c0] : !tilus.global<64x!tilus.f6e3m2>, i32 -> !tilus.tile<64x!tilus.f6e3m2, #tilus.layout<"spatial(32).local(2)">>
  %h = tilus.cast %x : !tilus.tile<64x!tilus.f6e3m2, #tilus.layout<"spatial(32).local(2)">> -> !tilus.tile<64xf16, #tilus.layout<"spatial(32).local(2)">>
  %gh = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<64xf16>
  tilus.store_global %h, %gh[%c0] : !tilus.tile<64xf16, #tilus.layout<"spatial(32).local(2)">>, !tilus.global<64xf16>, i32
  return
}

// f8e4m3 -> f16: the NaN magnitude carries into the fifth f16 exponent bit before the mul.f16x2 by 2^8.
// CHECK-LABEL: .entry f8e4m3_f16(
// CHECK: shl.b32 %t0, %x0, 8
// CHECK: add.u32 %x0, %m0, 0x01000100
// CHECK: shr.b32 %m0, %m0, 1
// CHECK: mul.rn.f16x2
// CHECK-NOT: cvt.rn.f16
func.func @f8e4m3_f16(%p: !llvm.ptr<1>, %q: !llvm.ptr<1>)
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<64x!tilus.f8e4m3>
  %x = tilus.load_global %g[%c0] : !tilus.global<64x!tilus.f8e4m3>, i32 -> !tilus.tile<64x!tilus.f8e4m3, #tilus.layout<"spatial(32).local(2)">>
  %h = tilus.cast %x : !tilus.tile<64x!tilus.f8e4m3, #tilus.layout<"spatial(32).local(2)">> -> !tilus.tile<64xf16, #tilus.layout<"spatial(32).local(2)">>
  %gh = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<64xf16>
  tilus.store_global %h, %gh[%c0] : !tilus.tile<64xf16, #tilus.layout<"spatial(32).local(2)">>, !tilus.global<64xf16>, i32
  return
}

// f8e5m2 -> f16: the code is the f16's top byte; mul.f16x2 by 1.0 makes NaN canonical.
// CHECK-LABEL: .entry f8e5m2_f16(
// CHECK: shl.b32 %t0, %x0, 8
// CHECK: and.b32 %x0, %t0, 0xff00ff00
// CHECK: mul.rn.f16x2
// CHECK-NOT: cvt.rn.f16
func.func @f8e5m2_f16(%p: !llvm.ptr<1>, %q: !llvm.ptr<1>)
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<64x!tilus.f8e5m2>
  %x = tilus.load_global %g[%c0] : !tilus.global<64x!tilus.f8e5m2>, i32 -> !tilus.tile<64x!tilus.f8e5m2, #tilus.layout<"spatial(32).local(2)">>
  %h = tilus.cast %x : !tilus.tile<64x!tilus.f8e5m2, #tilus.layout<"spatial(32).local(2)">> -> !tilus.tile<64xf16, #tilus.layout<"spatial(32).local(2)">>
  %gh = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<64xf16>
  tilus.store_global %h, %gh[%c0] : !tilus.tile<64xf16, #tilus.layout<"spatial(32).local(2)">>, !tilus.global<64xf16>, i32
  return
}

// u4 -> bf16: under the exponent of 128 (0x4300); sm_80 has no bf16x2 sub, so x * 1.0 - 128 with fma.rn.bf16x2.
// CHECK-LABEL: .entry u4_bf16(
// CHECK: lop3.b32 %x0, %x0, 0x000f000f, 0x43004300, 0xea
// CHECK: fma.rn.bf16x2
// CHECK-NOT: cvt.rn.bf16
func.func @u4_bf16(%p: !llvm.ptr<1>, %q: !llvm.ptr<1>)
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<64x!tilus.u4>
  %x = tilus.load_global %g[%c0] : !tilus.global<64x!tilus.u4>, i32 -> !tilus.tile<64x!tilus.u4, #tilus.layout<"spatial(32).local(2)">>
  %h = tilus.cast %x : !tilus.tile<64x!tilus.u4, #tilus.layout<"spatial(32).local(2)">> -> !tilus.tile<64xbf16, #tilus.layout<"spatial(32).local(2)">>
  %gh = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<64xbf16>
  tilus.store_global %h, %gh[%c0] : !tilus.tile<64xbf16, #tilus.layout<"spatial(32).local(2)">>, !tilus.global<64xbf16>, i32
  return
}

// f4e2m1 -> bf16: shifted into bf16 position, fma.rn.bf16x2 by 2^126 plus -0.
// CHECK-LABEL: .entry f4e2m1_bf16(
// CHECK: shr.b32 %m0, %m0, 6
// CHECK: fma.rn.bf16x2
// CHECK-NOT: cvt.rn.bf16
func.func @f4e2m1_bf16(%p: !llvm.ptr<1>, %q: !llvm.ptr<1>)
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<64x!tilus.f4e2m1>
  %x = tilus.load_global %g[%c0] : !tilus.global<64x!tilus.f4e2m1>, i32 -> !tilus.tile<64x!tilus.f4e2m1, #tilus.layout<"spatial(32).local(2)">>
  %h = tilus.cast %x : !tilus.tile<64x!tilus.f4e2m1, #tilus.layout<"spatial(32).local(2)">> -> !tilus.tile<64xbf16, #tilus.layout<"spatial(32).local(2)">>
  %gh = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<64xbf16>
  tilus.store_global %h, %gh[%c0] : !tilus.tile<64xbf16, #tilus.layout<"spatial(32).local(2)">>, !tilus.global<64xbf16>, i32
  return
}

// Negative: one local (no pair) keeps the generic per-element conversion.
// CHECK-LABEL: .entry u4_f16_single(
// CHECK-NOT: mov.b32 %x{{[0-9]}}, {
// CHECK: cvt.rn.f16.u16
// CHECK-NOT: mov.b32 %x{{[0-9]}}, {
func.func @u4_f16_single(%p: !llvm.ptr<1>, %q: !llvm.ptr<1>)
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<32x!tilus.u4>
  %x = tilus.load_global %g[%c0] : !tilus.global<32x!tilus.u4>, i32 -> !tilus.tile<32x!tilus.u4, #tilus.layout<"spatial(32).local(1)">>
  %h = tilus.cast %x : !tilus.tile<32x!tilus.u4, #tilus.layout<"spatial(32).local(1)">> -> !tilus.tile<32xf16, #tilus.layout<"spatial(32).local(1)">>
  %gh = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<32xf16>
  tilus.store_global %h, %gh[%c0] : !tilus.tile<32xf16, #tilus.layout<"spatial(32).local(1)">>, !tilus.global<32xf16>, i32
  return
}

// Negative: f32 targets keep the generic conversion.
// CHECK-LABEL: .entry u4_f32(
// CHECK-NOT: mov.b32 %x{{[0-9]}}, {
// CHECK: cvt.rn.f32.u16
// CHECK-NOT: mov.b32 %x{{[0-9]}}, {
func.func @u4_f32(%p: !llvm.ptr<1>, %q: !llvm.ptr<1>)
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<64x!tilus.u4>
  %x = tilus.load_global %g[%c0] : !tilus.global<64x!tilus.u4>, i32 -> !tilus.tile<64x!tilus.u4, #tilus.layout<"spatial(32).local(2)">>
  %h = tilus.cast %x : !tilus.tile<64x!tilus.u4, #tilus.layout<"spatial(32).local(2)">> -> !tilus.tile<64xf32, #tilus.layout<"spatial(32).local(2)">>
  %gh = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<64xf32>
  tilus.store_global %h, %gh[%c0] : !tilus.tile<64xf32, #tilus.layout<"spatial(32).local(2)">>, !tilus.global<64xf32>, i32
  return
}

// f8e4m3 -> bf16: the NaN carry becomes an all-ones bf16 exponent (0x7f80) before the fma by 2^120.
// CHECK-LABEL: .entry f8e4m3_bf16(
// CHECK: add.u32 %x0, %m0, 0x01000100
// CHECK: shr.b32 %m0, %m0, 4
// CHECK: sub.u32 %x0, %x0, %s0
// CHECK: or.b32 %m0, %m0, %x0
// CHECK: fma.rn.bf16x2
// CHECK-NOT: cvt.rn.bf16
func.func @f8e4m3_bf16(%p: !llvm.ptr<1>, %q: !llvm.ptr<1>)
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<64x!tilus.f8e4m3>
  %x = tilus.load_global %g[%c0] : !tilus.global<64x!tilus.f8e4m3>, i32 -> !tilus.tile<64x!tilus.f8e4m3, #tilus.layout<"spatial(32).local(2)">>
  %h = tilus.cast %x : !tilus.tile<64x!tilus.f8e4m3, #tilus.layout<"spatial(32).local(2)">> -> !tilus.tile<64xbf16, #tilus.layout<"spatial(32).local(2)">>
  %gh = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<64xbf16>
  tilus.store_global %h, %gh[%c0] : !tilus.tile<64xbf16, #tilus.layout<"spatial(32).local(2)">>, !tilus.global<64xbf16>, i32
  return
}

// u8 -> bf16 (255 does not fit under the exponent of 128): each code under
// the exponent of 2^23 in an f32, one subtraction, and one packing cvt.
// CHECK-LABEL: .entry u8_bf16(
// CHECK: mov.b32 %x0, {
// CHECK-NEXT: prmt.b32 %t0, %x0, %r{{[0-9]+}}, 0x7650;
// CHECK-NEXT: prmt.b32 %m0, %x0, %r{{[0-9]+}}, 0x7652;
// CHECK-NEXT: sub.rn.f32 %t0, %t0, 0f4B000000;
// CHECK-NEXT: sub.rn.f32 %m0, %m0, 0f4B000000;
// CHECK-NEXT: cvt.rn.bf16x2.f32 %r{{[0-9]+}}, %m0, %t0;
// CHECK-NOT: cvt.rn.bf16.f32
func.func @u8_bf16(%p: !llvm.ptr<1>, %q: !llvm.ptr<1>)
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<64x!tilus.u8>
  %x = tilus.load_global %g[%c0] : !tilus.global<64x!tilus.u8>, i32 -> !tilus.tile<64x!tilus.u8, #tilus.layout<"spatial(32).local(2)">>
  %h = tilus.cast %x : !tilus.tile<64x!tilus.u8, #tilus.layout<"spatial(32).local(2)">> -> !tilus.tile<64xbf16, #tilus.layout<"spatial(32).local(2)">>
  %gh = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<64xbf16>
  tilus.store_global %h, %gh[%c0] : !tilus.tile<64xbf16, #tilus.layout<"spatial(32).local(2)">>, !tilus.global<64xbf16>, i32
  return
}
