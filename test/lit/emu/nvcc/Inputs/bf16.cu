// bf16 and f16 through CUDA's own headers: conversions (cuda_bf16.hpp's
// __bfloat162float packs {0, %rs} into an f32) and packed arithmetic.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

// Per element i: the bf16 and f16 round trips of x, packed bf16x2 mul, add
// and fma of the pairs (a, b, c) and f16x2 ones of the pairs (ha, hb, hc),
// returned as floats.
extern "C" __global__ void half_ops(const float *x, const float *a,
                                    const float *b, const float *c,
                                    const float *ha_, const float *hb_,
                                    const float *hc_, float *out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n)
    return;
  float *o = out + 16 * i;
  o[0] = __bfloat162float(__float2bfloat16_rn(x[i]));
  o[1] = __half2float(__float2half_rn(x[i]));
  __nv_bfloat162 ba = __floats2bfloat162_rn(a[2 * i], a[2 * i + 1]);
  __nv_bfloat162 bb = __floats2bfloat162_rn(b[2 * i], b[2 * i + 1]);
  __nv_bfloat162 bc = __floats2bfloat162_rn(c[2 * i], c[2 * i + 1]);
  __nv_bfloat162 bm = __hmul2(ba, bb);
  __nv_bfloat162 bs = __hadd2(ba, bb);
  __nv_bfloat162 bf = __hfma2(ba, bb, bc);
  o[2] = __low2float(bm);
  o[3] = __high2float(bm);
  o[4] = __low2float(bs);
  o[5] = __high2float(bs);
  o[6] = __low2float(bf);
  o[7] = __high2float(bf);
  __half2 ha = __floats2half2_rn(ha_[2 * i], ha_[2 * i + 1]);
  __half2 hb = __floats2half2_rn(hb_[2 * i], hb_[2 * i + 1]);
  __half2 hc = __floats2half2_rn(hc_[2 * i], hc_[2 * i + 1]);
  __half2 hm = __hmul2(ha, hb);
  __half2 hs = __hadd2(ha, hb);
  __half2 hf = __hfma2(ha, hb, hc);
  o[8] = __low2float(hm);
  o[9] = __high2float(hm);
  o[10] = __low2float(hs);
  o[11] = __high2float(hs);
  o[12] = __low2float(hf);
  o[13] = __high2float(hf);
  // Scalar bf16 fma and the bf16 -> f16 path through float.
  o[14] = __bfloat162float(__hfma(__low2bfloat16(ba), __high2bfloat16(bb),
                                  __low2bfloat16(bc)));
  o[15] = __half2float(__float2half_rn(__bfloat162float(__high2bfloat16(bf))));
}
