// Cooperative-groups tiles of 16 threads: shuffles inside a tile, a tile
// reduction (cg::reduce), tile-wide any/all and the tile's thread ranks.
#include <cooperative_groups.h>
#include <cooperative_groups/reduce.h>
namespace cg = cooperative_groups;

extern "C" __global__ void cg_tiles(const int *in, const float *fin,
                                    int *out, float *fout) {
  cg::thread_block block = cg::this_thread_block();
  cg::thread_block_tile<16> tile = cg::tiled_partition<16>(block);
  int t = blockIdx.x * blockDim.x + threadIdx.x;
  int v = in[t];
  int *o = out + 6 * t;
  o[0] = cg::reduce(tile, v, cg::plus<int>());
  o[1] = cg::reduce(tile, v, cg::greater<int>());
  o[2] = tile.shfl_down(v, 3);   // lanes past the tile's end keep v
  o[3] = tile.shfl(v, (tile.thread_rank() + 5) % 16);
  o[4] = tile.any(v > 900) + 2 * tile.all(v > -900);
  o[5] = int(tile.thread_rank()) + 100 * int(tile.meta_group_rank());
  fout[t] = cg::reduce(tile, fin[t], cg::plus<float>());
}
