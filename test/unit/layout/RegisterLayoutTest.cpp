//===- RegisterLayoutTest.cpp - Properties of the register layout algebra ===//

#include "LayoutTestUtils.h"

#include "ir/layout/RegisterLayout.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <unordered_map>

using namespace tilus;
using namespace tilus::test;

namespace {

constexpr int kCases = 300;

/// Pads `index` with leading zeros up to `rank`.
Index padTo(const Index &index, size_t rank) {
  Index out(rank - index.size(), 0);
  out.insert(out.end(), index.begin(), index.end());
  return out;
}

/// Checks h == f * g by the definition
/// h(t, i) = f(t / T_g, i / M_g) (.) S_g + g(t % T_g, i % M_g).
void expectComposition(const RegisterLayout &h, const RegisterLayout &f,
                       const RegisterLayout &g) {
  size_t rank = std::max(f.rank(), g.rank());
  Index sg = padTo(g.shape(), rank);
  for (size_t d = 0; d < rank - g.rank(); ++d)
    sg[d] = 1;
  ASSERT_EQ(h.numThreads(), f.numThreads() * g.numThreads());
  ASSERT_EQ(h.numLocals(), f.numLocals() * g.numLocals());
  for (int64_t t = 0; t < h.numThreads(); ++t) {
    for (int64_t i = 0; i < h.numLocals(); ++i) {
      Index outer = padTo(f.map(t / g.numThreads(), i / g.numLocals()), rank);
      Index inner = padTo(g.map(t % g.numThreads(), i % g.numLocals()), rank);
      Index expected(rank);
      for (size_t d = 0; d < rank; ++d)
        expected[d] = outer[d] * sg[d] + inner[d];
      ASSERT_EQ(h.map(t, i), expected) << h.str() << " t=" << t << " i=" << i;
    }
  }
}

TEST(RegisterLayout, PrimitivesFollowTheirDefinition) {
  // local(2,3): one thread, local index row-major.
  RegisterLayout l = layout::local({2, 3});
  EXPECT_EQ(l.numThreads(), 1);
  EXPECT_EQ(l.numLocals(), 6);
  for (int64_t i = 0; i < 6; ++i)
    EXPECT_EQ(l.map(0, i), (Index{i / 3, i % 3}));
  // column_local(2,3): local index column-major.
  RegisterLayout cl = layout::columnLocal({2, 3});
  for (int64_t i = 0; i < 6; ++i)
    EXPECT_EQ(cl.map(0, i), (Index{i % 2, i / 2}));
  // spatial(2,3) and column_spatial(2,3).
  RegisterLayout s = layout::spatial({2, 3}),
                 cs = layout::columnSpatial({2, 3});
  EXPECT_EQ(s.numThreads(), 6);
  EXPECT_EQ(s.numLocals(), 1);
  for (int64_t t = 0; t < 6; ++t) {
    EXPECT_EQ(s.map(t, 0), (Index{t / 3, t % 3}));
    EXPECT_EQ(cs.map(t, 0), (Index{t % 2, t / 2}));
  }
  // replicate(4): four threads, one shared element.
  RegisterLayout r = layout::replicate(4);
  EXPECT_EQ(r.rank(), 0u);
  EXPECT_EQ(r.numThreads(), 4);
  EXPECT_EQ(r.replication(), 4);
  EXPECT_EQ(r.holders({}).threads, (Index{0, 1, 2, 3}));
}

TEST(RegisterLayout, MmaAccumulatorExample) {
  RegisterLayout c = layout::local({2, 1}).spatial({8, 4}).local({1, 2});
  EXPECT_EQ(c.shape(), (Index{16, 8}));
  EXPECT_EQ(c.numThreads(), 32);
  EXPECT_EQ(c.numLocals(), 4);
  for (int64_t t = 0; t < 32; ++t) {
    for (int64_t j = 0; j < 2; ++j) {
      EXPECT_EQ(c.map(t, j), (Index{t / 4, 2 * (t % 4) + j}));
      EXPECT_EQ(c.map(t, 2 + j), (Index{t / 4 + 8, 2 * (t % 4) + j}));
    }
  }
  EXPECT_EQ(c.str(), "local(2,1).spatial(8,4).local(1,2)");
  EXPECT_EQ(c.contiguity(1), 2);
  EXPECT_EQ(c.contiguity(0), 1);
}

TEST(RegisterLayout, CompositionMatchesDefinition) {
  LayoutGenerator gen(1);
  for (int n = 0; n < kCases; ++n) {
    RegisterLayout f =
        gen.chain(static_cast<size_t>(gen.uniform(0, 3)), 3, 16, 8);
    RegisterLayout g =
        gen.chain(static_cast<size_t>(gen.uniform(0, 3)), 3, 16, 8);
    expectComposition(f * g, f, g);
  }
}

TEST(RegisterLayout, CompositionIsAssociative) {
  LayoutGenerator gen(2);
  for (int n = 0; n < kCases; ++n) {
    size_t rank = static_cast<size_t>(gen.uniform(1, 4));
    RegisterLayout a = gen.chain(rank, 2, 8, 4);
    RegisterLayout b = gen.chain(rank, 2, 8, 4);
    RegisterLayout c = gen.chain(rank, 2, 8, 4);
    RegisterLayout left = (a * b) * c, right = a * (b * c);
    EXPECT_EQ(left, right) << left.str() << " vs " << right.str();
    EXPECT_EQ(tableOf(left), tableOf(right));
  }
}

TEST(RegisterLayout, InverseMapInvertsForwardMap) {
  LayoutGenerator gen(3);
  for (int n = 0; n < kCases; ++n) {
    RegisterLayout l = gen.chain();
    std::map<int64_t, std::set<std::pair<int64_t, int64_t>>> heldBy;
    for (int64_t t = 0; t < l.numThreads(); ++t)
      for (int64_t i = 0; i < l.numLocals(); ++i)
        heldBy[linearize(l.map(t, i), l.shape())].insert({t, i});
    // Every element is held, and holders() lists exactly the pairs that the
    // forward map sends to it.
    ASSERT_EQ(static_cast<int64_t>(heldBy.size()), l.size()) << l.str();
    for (int64_t e = 0; e < l.size(); ++e) {
      LayoutHolders h = l.holders(delinearize(e, l.shape()));
      std::set<std::pair<int64_t, int64_t>> got;
      for (int64_t t : h.threads)
        got.insert({t, h.local});
      EXPECT_EQ(got, heldBy[e]) << l.str() << " element " << e;
      EXPECT_EQ(static_cast<int64_t>(h.threads.size()), l.replication());
      EXPECT_TRUE(std::is_sorted(h.threads.begin(), h.threads.end()));
    }
  }
}

TEST(RegisterLayout, CanonicalFormPreservesTheFunction) {
  LayoutGenerator gen(4);
  for (int n = 0; n < kCases; ++n) {
    RawLayout raw = gen.raw(static_cast<size_t>(gen.uniform(1, 3)));
    LayoutResult<RegisterLayout> l = RegisterLayout::create(
        raw.shape, raw.modeShape, raw.spatial, raw.local);
    ASSERT_TRUE(l) << l.error().message;
    EXPECT_EQ(tableOf(*l), raw.table()) << l->str();
    // Canonical: no trivial modes, nothing left to merge.
    for (int64_t s : l->modeShape())
      EXPECT_GT(s, 1);
  }
}

TEST(RegisterLayout, EqualFunctionsHaveEqualCanonicalForms) {
  // Many small random representations over one shape: group them by their
  // function table; layouts compare equal exactly within a group.
  LayoutGenerator gen(5);
  std::map<FunctionTable, std::vector<RegisterLayout>> groups;
  for (int n = 0; n < 3000; ++n) {
    RawLayout raw = gen.raw(2, 4);
    if (raw.threads() * raw.locals() > 64)
      continue;
    RegisterLayout l = *RegisterLayout::create(raw.shape, raw.modeShape,
                                               raw.spatial, raw.local);
    groups[raw.table()].push_back(l);
  }
  int64_t multi = 0;
  std::vector<RegisterLayout> representatives;
  for (auto &[table, layouts] : groups) {
    multi += layouts.size() > 1;
    for (const RegisterLayout &l : layouts) {
      EXPECT_EQ(l, layouts[0]) << l.str() << " vs " << layouts[0].str();
      EXPECT_EQ(l.hash(), layouts[0].hash());
    }
    representatives.push_back(layouts[0]);
  }
  EXPECT_GT(multi, 50) << "the generator should hit equal functions often";
  for (size_t i = 0; i + 1 < representatives.size(); ++i)
    EXPECT_NE(representatives[i], representatives[i + 1]);
}

TEST(RegisterLayout, RightDivisionUndoesComposition) {
  LayoutGenerator gen(6);
  for (int n = 0; n < kCases; ++n) {
    size_t rank = static_cast<size_t>(gen.uniform(1, 4));
    RegisterLayout a = gen.chain(rank, 3, 16, 8);
    RegisterLayout b =
        gen.chain(static_cast<size_t>(gen.uniform(0, rank)), 3, 16, 8);
    LayoutResult<RegisterLayout> q = (a * b).divide(b);
    ASSERT_TRUE(q) << (a * b).str() << " / " << b.str() << ": "
                   << q.error().message;
    EXPECT_EQ(*q, a) << (a * b).str() << " / " << b.str();
  }
}

TEST(RegisterLayout, LeftDivisionUndoesComposition) {
  LayoutGenerator gen(7);
  for (int n = 0; n < kCases; ++n) {
    size_t rank = static_cast<size_t>(gen.uniform(1, 4));
    RegisterLayout a = gen.chain(rank, 3, 16, 8);
    RegisterLayout b = gen.chain(rank, 3, 16, 8);
    LayoutResult<RegisterLayout> q = (b * a).leftDivide(b);
    ASSERT_TRUE(q) << (b * a).str() << " \\ " << b.str() << ": "
                   << q.error().message;
    EXPECT_EQ(*q, a);
  }
}

TEST(RegisterLayout, DivisionResultSatisfiesDefinitionOrFails) {
  // Arbitrary pairs: a quotient, when returned, satisfies q * b == a; when
  // refused, brute force over the candidate the definition forces
  // (q(t, i) = a(t * T_b, i * M_b) / S_b) shows no quotient exists.
  LayoutGenerator gen(8);
  int successes = 0, failures = 0;
  for (int n = 0; n < kCases; ++n) {
    size_t rank = static_cast<size_t>(gen.uniform(1, 2));
    RegisterLayout a = gen.chain(rank, 4, 32, 16);
    RegisterLayout b = gen.chain(rank, 2, 8, 4);
    LayoutResult<RegisterLayout> q = a.divide(b);
    if (q) {
      ++successes;
      EXPECT_EQ(*q * b, a);
      expectComposition(a, *q, b);
      continue;
    }
    ++failures;
    EXPECT_FALSE(q.error().message.empty());
    // When the shape and counts divide and a(t, i) splits as
    // a(t - t % T_b, i - i % M_b) + b(t % T_b, i % M_b) with the base a
    // multiple of S_b everywhere, the forced quotient exists as a function;
    // the library must then not have refused.
    bool divisible = a.numThreads() % b.numThreads() == 0 &&
                     a.numLocals() % b.numLocals() == 0;
    for (size_t d = 0; d < rank; ++d)
      divisible = divisible && a.shape()[d] % b.shape()[d] == 0;
    if (!divisible)
      continue;
    bool consistent = true;
    for (int64_t t = 0; t < a.numThreads() && consistent; ++t) {
      for (int64_t i = 0; i < a.numLocals() && consistent; ++i) {
        Index base = a.map(t / b.numThreads() * b.numThreads(),
                           i / b.numLocals() * b.numLocals());
        Index inner = b.map(t % b.numThreads(), i % b.numLocals());
        Index got = a.map(t, i);
        for (size_t d = 0; d < rank; ++d)
          if (base[d] % b.shape()[d] != 0 || got[d] != base[d] + inner[d])
            consistent = false;
      }
    }
    EXPECT_FALSE(consistent) << a.str() << " / " << b.str()
                             << " refused although a quotient function "
                                "exists: "
                             << q.error().message;
  }
  EXPECT_GT(successes, 10);
  EXPECT_GT(failures, 10);
}

TEST(RegisterLayout, LeftDivisionResultSatisfiesDefinitionOrFails) {
  // a = b * q forces q(t, i) = a(t, i) for t < T_q, i < M_q; when that
  // candidate satisfies a(t, i) = b(t / T_q, i / M_q) (.) S_q + q(t % T_q,
  // i % M_q) everywhere, the library must not refuse.
  LayoutGenerator gen(15);
  int successes = 0, failures = 0;
  for (int n = 0; n < kCases; ++n) {
    size_t rank = static_cast<size_t>(gen.uniform(1, 2));
    RegisterLayout a = gen.chain(rank, 4, 32, 16);
    RegisterLayout b = gen.chain(rank, 2, 8, 4);
    LayoutResult<RegisterLayout> q = a.leftDivide(b);
    if (q) {
      ++successes;
      EXPECT_EQ(b * *q, a);
      expectComposition(a, b, *q);
      continue;
    }
    ++failures;
    bool divisible = a.numThreads() % b.numThreads() == 0 &&
                     a.numLocals() % b.numLocals() == 0;
    for (size_t d = 0; d < rank; ++d)
      divisible = divisible && a.shape()[d] % b.shape()[d] == 0;
    if (!divisible)
      continue;
    int64_t tq = a.numThreads() / b.numThreads();
    int64_t mq = a.numLocals() / b.numLocals();
    Index sq(rank);
    for (size_t d = 0; d < rank; ++d)
      sq[d] = a.shape()[d] / b.shape()[d];
    bool consistent = true;
    for (int64_t t = 0; t < a.numThreads() && consistent; ++t)
      for (int64_t i = 0; i < a.numLocals() && consistent; ++i) {
        Index outer = b.map(t / tq, i / mq), inner = a.map(t % tq, i % mq);
        Index got = a.map(t, i);
        for (size_t d = 0; d < rank; ++d)
          if (inner[d] >= sq[d] || got[d] != outer[d] * sq[d] + inner[d])
            consistent = false;
      }
    EXPECT_FALSE(consistent) << b.str() << " \\ " << a.str()
                             << " refused although a quotient function "
                                "exists: "
                             << q.error().message;
  }
  EXPECT_GT(successes, 10);
  EXPECT_GT(failures, 10);
}

TEST(RegisterLayout, DivisionFailsCleanly) {
  RegisterLayout c = layout::local({2, 1}).spatial({8, 4}).local({1, 2});
  EXPECT_EQ(*c.divide(layout::spatial({8, 4}).local({1, 2})),
            layout::local({2, 1}));
  EXPECT_EQ(*c.leftDivide(layout::local({2, 1})),
            layout::spatial({8, 4}).local({1, 2}));
  // Column-major threads are not the inner tile of row-major ones.
  LayoutResult<RegisterLayout> q =
      c.divide(layout::columnSpatial({8, 4}).local({1, 2}));
  ASSERT_FALSE(q);
  EXPECT_NE(q.error().message.find("not the inner tile"), std::string::npos)
      << q.error().message;
  // Shape not divisible.
  q = c.divide(layout::local({3, 1}));
  ASSERT_FALSE(q);
  EXPECT_NE(q.error().message.find("not divisible"), std::string::npos);
  // A local tile where the layout has threads.
  EXPECT_FALSE(layout::spatial({8, 4}).divide(layout::local({1, 2})));
  // Divisor of higher rank.
  EXPECT_FALSE(layout::local({4}).divide(layout::local({2, 2})));
}

TEST(RegisterLayout, PermuteMovesDimensions) {
  LayoutGenerator gen(9);
  for (int n = 0; n < kCases; ++n) {
    RegisterLayout l = gen.chain();
    Index perm(l.rank());
    for (size_t d = 0; d < perm.size(); ++d)
      perm[d] = static_cast<int64_t>(d);
    std::shuffle(perm.begin(), perm.end(), gen.engine());
    RegisterLayout p = *l.permute(perm);
    ASSERT_EQ(p.numThreads(), l.numThreads());
    ASSERT_EQ(p.numLocals(), l.numLocals());
    for (int64_t t = 0; t < l.numThreads(); ++t)
      for (int64_t i = 0; i < l.numLocals(); ++i) {
        Index a = l.map(t, i), b = p.map(t, i);
        for (size_t k = 0; k < perm.size(); ++k)
          ASSERT_EQ(b[k], a[perm[k]]);
      }
  }
  EXPECT_FALSE(layout::local({2, 3}).permute({0, 0}));
  EXPECT_FALSE(layout::local({2, 3}).permute({0}));
}

TEST(RegisterLayout, ReduceKeepsOwnership) {
  // After reducing dims D, thread t holds the projection of every element it
  // held, and only those: spatial modes of D become replication, local modes
  // of D disappear.
  LayoutGenerator gen(10);
  for (int n = 0; n < kCases; ++n) {
    RegisterLayout l = gen.chain();
    Index dims;
    for (size_t d = 0; d < l.rank(); ++d)
      if (gen.uniform(0, 1))
        dims.push_back(static_cast<int64_t>(d));
    RegisterLayout r = *l.reduce(dims, /*keepDims=*/true);
    ASSERT_EQ(r.numThreads(), l.numThreads());
    Index shape = l.shape();
    for (int64_t d : dims)
      shape[d] = 1;
    ASSERT_EQ(r.shape(), shape);
    std::set<std::pair<int64_t, int64_t>> expected, got;
    for (int64_t t = 0; t < l.numThreads(); ++t)
      for (int64_t i = 0; i < l.numLocals(); ++i) {
        Index e = l.map(t, i);
        for (int64_t d : dims)
          e[d] = 0;
        expected.insert({t, linearize(e, shape)});
      }
    for (int64_t t = 0; t < r.numThreads(); ++t)
      for (int64_t i = 0; i < r.numLocals(); ++i)
        got.insert({t, linearize(r.map(t, i), shape)});
    EXPECT_EQ(got, expected) << l.str() << " -> " << r.str();
    // Each (thread, element) pair appears at exactly one local index.
    EXPECT_EQ(static_cast<int64_t>(got.size()), r.numThreads() * r.numLocals());
    // Dropping the dimensions is the same layout, squeezed.
    EXPECT_EQ(*l.reduce(dims, false), *r.squeeze(dims));
  }
  EXPECT_FALSE(layout::local({2}).reduce({1}));
  EXPECT_FALSE(layout::local({2, 2}).reduce({0, 0}));
}

TEST(RegisterLayout, ReshapeKeepsLinearOwnership) {
  LayoutGenerator gen(11);
  int reshaped = 0;
  for (int n = 0; n < kCases; ++n) {
    RegisterLayout l = gen.chain();
    // A random factorisation of the size into up to 4 dimensions.
    Index shape;
    int64_t rest = l.size();
    size_t rank = static_cast<size_t>(gen.uniform(1, 4));
    for (size_t d = 0; d + 1 < rank; ++d) {
      Index divisors;
      for (int64_t k = 1; k <= rest; ++k)
        if (rest % k == 0)
          divisors.push_back(k);
      int64_t k = divisors[gen.uniform(0, divisors.size() - 1)];
      shape.push_back(k);
      rest /= k;
    }
    shape.push_back(rest);
    LayoutResult<RegisterLayout> r = l.reshape(shape);
    if (!r)
      continue;
    ++reshaped;
    ASSERT_EQ(r->numThreads(), l.numThreads());
    ASSERT_EQ(r->numLocals(), l.numLocals());
    for (int64_t t = 0; t < l.numThreads(); ++t)
      for (int64_t i = 0; i < l.numLocals(); ++i)
        ASSERT_EQ(linearize(r->map(t, i), shape),
                  linearize(l.map(t, i), l.shape()));
    RegisterLayout flat = l.flatten();
    EXPECT_EQ(flat.shape(), Index{l.size()});
    EXPECT_EQ(tableOf(flat).table, tableOf(l).table);
  }
  EXPECT_GT(reshaped, kCases / 2);
  // A mode of 3 cannot be split across dimensions of 2.
  LayoutResult<RegisterLayout> bad = layout::spatial({6}).reshape({2, 3});
  EXPECT_TRUE(bad);
  EXPECT_FALSE(layout::spatial({3, 2}).reshape({2, 3}));
  EXPECT_FALSE(layout::spatial({3, 2}).reshape({7}));
}

TEST(RegisterLayout, SqueezeUnsqueezeConcat) {
  LayoutGenerator gen(12);
  for (int n = 0; n < kCases; ++n) {
    RegisterLayout a = gen.chain(static_cast<size_t>(gen.uniform(1, 2)));
    RegisterLayout b = gen.chain(static_cast<size_t>(gen.uniform(1, 2)));
    RegisterLayout c = a.concat(b);
    ASSERT_EQ(c.numThreads(), a.numThreads() * b.numThreads());
    ASSERT_EQ(c.numLocals(), a.numLocals() * b.numLocals());
    for (int64_t t = 0; t < c.numThreads(); ++t)
      for (int64_t i = 0; i < c.numLocals(); ++i) {
        Index expected = a.map(t / b.numThreads(), i / b.numLocals());
        Index inner = b.map(t % b.numThreads(), i % b.numLocals());
        expected.insert(expected.end(), inner.begin(), inner.end());
        ASSERT_EQ(c.map(t, i), expected);
      }
    RegisterLayout u = *a.unsqueeze({0, static_cast<int64_t>(a.rank()) + 1});
    ASSERT_EQ(u.rank(), a.rank() + 2);
    for (int64_t t = 0; t < a.numThreads(); ++t)
      for (int64_t i = 0; i < a.numLocals(); ++i) {
        Index expected = a.map(t, i);
        expected.insert(expected.begin(), 0);
        expected.push_back(0);
        ASSERT_EQ(u.map(t, i), expected);
      }
    EXPECT_EQ(*u.squeeze({0, static_cast<int64_t>(a.rank()) + 1}), a);
  }
  EXPECT_FALSE(layout::local({2, 1}).squeeze({0}));
  EXPECT_FALSE(layout::local({2}).unsqueeze({3}));
}

TEST(RegisterLayout, ContiguityIsTheLongestAlignedRun) {
  LayoutGenerator gen(13);
  for (int n = 0; n < kCases; ++n) {
    RegisterLayout l = gen.chain();
    if (n % 2 == 0) {
      RawLayout r = gen.raw(static_cast<size_t>(gen.uniform(1, 3)));
      l = *RegisterLayout::create(r.shape, r.modeShape, r.spatial, r.local);
    }
    for (size_t d = 0; d < l.rank(); ++d) {
      int64_t best = 1;
      for (int64_t k = 2; k <= l.numLocals(); ++k) {
        if (l.numLocals() % k)
          continue;
        bool ok = true;
        for (int64_t t = 0; t < l.numThreads() && ok; ++t)
          for (int64_t i = 0; i < l.numLocals() && ok; i += k) {
            Index first = l.map(t, i);
            for (int64_t j = 1; j < k && ok; ++j) {
              Index e = l.map(t, i + j);
              Index want = first;
              want[d] += j;
              ok = e == want;
            }
          }
        if (ok)
          best = k;
      }
      EXPECT_EQ(l.contiguity(d), best) << l.str() << " dim " << d;
    }
  }
}

TEST(RegisterLayout, PrintParseRoundTrip) {
  LayoutGenerator gen(14);
  int general = 0;
  for (int n = 0; n < kCases; ++n) {
    RegisterLayout l;
    if (n % 3 == 0) {
      RawLayout r = gen.raw(static_cast<size_t>(gen.uniform(0, 3)));
      l = *RegisterLayout::create(r.shape, r.modeShape, r.spatial, r.local);
    } else {
      l = gen.chain();
    }
    std::string text = l.str();
    general += text.rfind("layout(", 0) == 0;
    LayoutResult<RegisterLayout> parsed = parseRegisterLayout(text);
    ASSERT_TRUE(parsed) << text << ": " << parsed.error().message;
    EXPECT_EQ(*parsed, l) << text << " reparsed as " << parsed->str();
  }
  EXPECT_GT(general, 0) << "some layouts need the general form";
}

TEST(RegisterLayout, CreateValidatesTheRepresentation) {
  struct Case {
    Index shape, modes, spatial, local;
    const char *message;
  };
  const Case cases[] = {
      {{4}, {3}, {0}, {}, "do not factor"},
      {{4, 2}, {4}, {0}, {}, "do not factor"},
      {{4}, {2, 2}, {0}, {0}, "listed twice"},
      {{4}, {2, 2}, {0}, {}, "neither spatial nor local"},
      {{4}, {4}, {}, {1}, "out of range"},
      {{4}, {4}, {}, {-1}, "out of range"},
      {{0}, {}, {}, {}, "shape entries must be positive"},
      {{4}, {4, 1, 0}, {0}, {}, "mode sizes must be positive"},
      {{1},
       {},
       {-(int64_t(1) << 30), -(int64_t(1) << 30)},
       {},
       "more than 2^40 threads"},
      {{int64_t(1) << 30, int64_t(1) << 30},
       {},
       {},
       {},
       "more than 2^40 elements"},
  };
  for (const Case &c : cases) {
    LayoutResult<RegisterLayout> l =
        RegisterLayout::create(c.shape, c.modes, c.spatial, c.local);
    ASSERT_FALSE(l) << c.message;
    EXPECT_NE(l.error().message.find(c.message), std::string::npos)
        << l.error().message;
  }
  // Size-1 modes may sit anywhere and be listed anywhere.
  EXPECT_EQ(*RegisterLayout::create({8, 1, 4}, {1, 8, 1, 4}, {1, 0, 3}, {2}),
            layout::spatial({8, 1, 4}));
  EXPECT_EQ(*RegisterLayout::create({8, 1, 4}, {1, 8, 1, 4}, {3, 0, 1}, {2}),
            layout::columnSpatial({8, 1, 4}));
}

TEST(RegisterLayout, HashIsUsableInContainers) {
  std::unordered_map<RegisterLayout, int> m;
  m[layout::local({2, 1}).local({1, 2})] = 1;
  EXPECT_EQ(m.count(layout::local({2, 2})), 1u);
  EXPECT_EQ(m.count(layout::columnLocal({2, 2})), 0u);
}

} // namespace
