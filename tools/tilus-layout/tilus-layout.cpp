//===- tilus-layout.cpp - Picture a register or shared layout -------------===//
//
// Prints which thread holds which element of a register layout (as a text
// grid, an SVG picture or CSV), or the offsets of a shared layout. Standard
// library only, so it runs wherever the runtime core builds.
//
//===----------------------------------------------------------------------===//

#include "ir/layout/Atoms.h"
#include "ir/layout/RegisterLayout.h"
#include "ir/layout/SharedLayout.h"
#include "tools/common/ToolOptions.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

using namespace tilus;

namespace {

enum OptionId { kAtom, kListAtoms, kShared, kFormat };

tools::ToolOptions toolOptions() {
  using Value = tools::OptionSpec::Value;
  tools::ToolOptions t;
  t.tool = "tilus-layout";
  t.usage = R"(tilus-layout [options] EXPRESSION
       tilus-layout [options] --atom NAME
       tilus-layout --list-atoms)";
  t.description = R"(Pictures a register layout: for every element of the tile, the threads that
hold it and the local index they hold it at. The shape is the expression's.

EXPRESSION is a layout in the text syntax of docs/layouts.md, e.g.
  local(2,1).spatial(8,4).local(1,2)
  column_local(2,2).spatial(8,4).local(1,2)
  spatial(4,8).replicate(2) * local(2,2)
  layout(shape=[16,8],modes=[2,8,4,2],spatial=[1,2],local=[0,3])
With --shared it is a shared layout instead, e.g.
  shared(8,64).row_major().swizzle(3,3,3))";
  t.options = {
      {kAtom, "atom", Value::Required, "NAME",
       "use the PTX fragment atom NAME instead of an expression",
       "a name (see --list-atoms)"},
      {kListAtoms, "list-atoms", Value::None, "",
       "print the atom catalog (name, expression, PTX source)"},
      {kShared, "shared", Value::None, "",
       R"(read EXPRESSION as a shared layout (rank 2) and print
element offsets (text: a grid of offsets; csv: header
row,col,offset; svg is not available))"},
      {kFormat, "format", Value::Required, "FORMAT",
       R"(one of
text (default): a grid of cells T<thread>:<local>, with
  replicated holders listed as T{t0,t1,...}:<local>;
  ranks above 2 print one grid per leading index
svg: a picture, one colour per thread (rank <= 2)
csv: for 2-d layouts, header row,col,thread,local and
  one line per holder of each element, sorted by row,
  col, thread)",
       "a value (text, svg or csv)"},
  };
  t.epilogue = R"(Text and svg pictures are limited to 65536 elements, csv to 16777216.

Exit status: 0 on success, 1 on any error (bad expression, unknown atom,
unsupported format for the layout, layout too large to print); errors in
the expression print it with a caret under the offending token.)";
  return t;
}

int usageError(const std::string &message) {
  std::cerr << "tilus-layout: error: " << message << "\n"
            << "run 'tilus-layout --help' for usage\n";
  return 1;
}

int parseError(std::string_view text, const LayoutError &error) {
  std::cerr << "tilus-layout: error: " << error.message << "\n";
  std::cerr << "  " << text << "\n  ";
  size_t offset = std::min(error.offset, text.size());
  for (size_t i = 0; i < offset; ++i)
    std::cerr << (text[i] == '\t' ? '\t' : ' ');
  std::cerr << "^\n";
  return 1;
}

std::string joinInts(const std::vector<int64_t> &values) {
  std::string s;
  for (size_t i = 0; i < values.size(); ++i)
    s += (i ? "," : "") + std::to_string(values[i]);
  return s;
}

std::string summary(const RegisterLayout &layout) {
  return "layout " + layout.str() + "\nshape [" + joinInts(layout.shape()) +
         "], " + std::to_string(layout.numThreads()) +
         (layout.numThreads() == 1 ? " thread, " : " threads, ") +
         std::to_string(layout.numLocals()) +
         (layout.numLocals() == 1 ? " local" : " locals") + " per thread" +
         (layout.replication() > 1
              ? ", each element held by " +
                    std::to_string(layout.replication()) + " threads"
              : std::string()) +
         "\n";
}

int printCsv(const RegisterLayout &layout) {
  if (layout.rank() != 2)
    return usageError("csv output needs a 2-d layout, this one has rank " +
                      std::to_string(layout.rank()));
  std::string out = "row,col,thread,local\n";
  for (int64_t r = 0; r < layout.shape()[0]; ++r) {
    for (int64_t c = 0; c < layout.shape()[1]; ++c) {
      LayoutHolders h = layout.holders({r, c});
      for (int64_t t : h.threads)
        out += std::to_string(r) + "," + std::to_string(c) + "," +
               std::to_string(t) + "," + std::to_string(h.local) + "\n";
    }
  }
  std::cout << out;
  return 0;
}

std::string xmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '&':
      out += "&amp;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

int printSvg(const RegisterLayout &layout) {
  if (layout.rank() > 2)
    return usageError("svg output needs a layout of rank at most 2, this one "
                      "has rank " +
                      std::to_string(layout.rank()));
  int64_t rows = layout.rank() == 2 ? layout.shape()[0] : 1;
  int64_t cols = layout.rank() >= 1 ? layout.shape().back() : 1;
  std::vector<std::string> labels;
  std::vector<int64_t> firstThread;
  size_t maxLabel = 4;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      std::vector<int64_t> index;
      if (layout.rank() == 2)
        index = {r, c};
      else if (layout.rank() == 1)
        index = {c};
      LayoutHolders h = layout.holders(index);
      std::string label = "T";
      label += h.threads.size() == 1 ? std::to_string(h.threads[0])
                                     : "{" + joinInts(h.threads) + "}";
      label += ":" + std::to_string(h.local);
      maxLabel = std::max(maxLabel, label.size());
      labels.push_back(label);
      firstThread.push_back(h.threads[0]);
    }
  }
  const int64_t cellW = static_cast<int64_t>(maxLabel) * 7 + 10, cellH = 24;
  const int64_t marginL = 40, marginT = 44;
  int64_t width = marginL + cols * cellW + 10,
          height = marginT + rows * cellH + 10;
  std::ostringstream os;
  os << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
     << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width
     << "\" height=\"" << height << "\" viewBox=\"0 0 " << width << " "
     << height << "\" font-family=\"monospace\" font-size=\"11\">\n"
     << "  <title>" << xmlEscape(layout.str()) << "</title>\n"
     << "  <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
     << "  <text x=\"" << marginL << "\" y=\"14\">" << xmlEscape(layout.str())
     << "</text>\n";
  for (int64_t c = 0; c < cols; ++c)
    os << "  <text x=\"" << marginL + c * cellW + cellW / 2 << "\" y=\""
       << marginT - 8 << "\" text-anchor=\"middle\">" << c << "</text>\n";
  for (int64_t r = 0; r < rows; ++r)
    os << "  <text x=\"" << marginL - 6 << "\" y=\""
       << marginT + r * cellH + cellH / 2 + 4 << "\" text-anchor=\"end\">" << r
       << "</text>\n";
  int64_t threads = std::max<int64_t>(layout.numThreads(), 1);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      size_t i = static_cast<size_t>(r * cols + c);
      // Spread hues over the wheel; alternate lightness so neighbouring
      // threads stay distinguishable when there are many of them.
      int64_t t = firstThread[i];
      int hue = static_cast<int>((t * 360) / threads);
      int light = t % 2 ? 72 : 82;
      int64_t x = marginL + c * cellW, y = marginT + r * cellH;
      os << "  <rect x=\"" << x << "\" y=\"" << y << "\" width=\"" << cellW
         << "\" height=\"" << cellH << "\" fill=\"hsl(" << hue << ",70%,"
         << light << "%)\" stroke=\"black\" stroke-width=\"0.5\"/>\n"
         << "  <text x=\"" << x + cellW / 2 << "\" y=\"" << y + cellH / 2 + 4
         << "\" text-anchor=\"middle\">" << xmlEscape(labels[i]) << "</text>\n";
    }
  }
  os << "</svg>\n";
  std::cout << os.str();
  return 0;
}

int printShared(const SharedLayout &layout, std::string_view format) {
  if (format == "svg")
    return usageError("svg output is not available for shared layouts");
  if (layout.rank() != 2)
    return usageError("shared layouts are printed for rank 2 only, this one "
                      "has rank " +
                      std::to_string(layout.rank()));
  int64_t rows = layout.shape()[0], cols = layout.shape()[1];
  std::string out;
  if (format == "csv") {
    out = "row,col,offset\n";
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        out += std::to_string(r) + "," + std::to_string(c) + "," +
               std::to_string(layout.offsetOf({r, c})) + "\n";
    std::cout << out;
    return 0;
  }
  size_t width = std::to_string(layout.cosize()).size();
  width = std::max(width, std::to_string(cols - 1).size());
  size_t rowLabel = std::to_string(rows - 1).size();
  auto pad = [](std::string s, size_t w) {
    return std::string(w - std::min(w, s.size()), ' ') + s;
  };
  out = "shared layout " + layout.str() + "\nshape [" +
        joinInts(layout.shape()) + "], " + std::to_string(layout.cosize()) +
        " elements of storage\n";
  out += std::string(rowLabel, ' ');
  for (int64_t c = 0; c < cols; ++c)
    out += " " + pad(std::to_string(c), width);
  out += "\n";
  for (int64_t r = 0; r < rows; ++r) {
    out += pad(std::to_string(r), rowLabel);
    for (int64_t c = 0; c < cols; ++c)
      out += " " + pad(std::to_string(layout.offsetOf({r, c})), width);
    out += "\n";
  }
  std::cout << out;
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  std::string format = "text";
  std::string atomName, expression;
  bool haveAtom = false, haveExpression = false, listAtoms = false,
       shared = false;
  tools::ToolOptions options = toolOptions();
  tools::ArgReader reader(options, argc, argv);
  for (tools::ParsedArg a = reader.next();
       a.kind != tools::ParsedArg::Kind::End; a = reader.next()) {
    using Kind = tools::ParsedArg::Kind;
    if (a.kind == Kind::Help) {
      std::cout << options.helpText();
      return 0;
    }
    if (a.kind == Kind::Error)
      return usageError(a.value);
    if (a.kind == Kind::Operand) {
      if (haveExpression)
        return usageError("more than one layout expression given");
      expression = a.value;
      haveExpression = true;
      continue;
    }
    switch (OptionId(a.id)) {
    case kListAtoms:
      listAtoms = true;
      break;
    case kShared:
      shared = true;
      break;
    case kFormat:
      format = a.value;
      break;
    case kAtom:
      atomName = a.value;
      haveAtom = true;
      break;
    }
  }
  if (format != "text" && format != "svg" && format != "csv")
    return usageError("unknown format '" + format +
                      "'; expected text, svg or csv");

  if (listAtoms) {
    if (haveAtom || haveExpression)
      return usageError("--list-atoms takes no layout");
    std::string out;
    for (const LayoutAtom &atom : layoutAtoms())
      out += atom.name + "  " + atom.expression + "  [" +
             joinInts(atom.layout.shape()) + "] " + atom.description + "  (" +
             atom.source + ")\n";
    std::cout << out;
    return 0;
  }
  if (haveAtom == haveExpression)
    return usageError(haveAtom ? "give either a layout expression or --atom, "
                                 "not both"
                               : "no layout given (an expression or --atom "
                                 "NAME)");

  if (shared) {
    if (haveAtom)
      return usageError("--shared takes an expression, not --atom");
    LayoutResult<SharedLayout> layout = parseSharedLayout(expression);
    if (!layout)
      return parseError(expression, layout.error());
    int64_t limit = int64_t(1) << (format == "csv" ? 24 : 16);
    if (layout->size() > limit)
      return usageError("layout of " + std::to_string(layout->size()) +
                        " elements is too large to print as " + format +
                        " (at most " + std::to_string(limit) + ")");
    return printShared(*layout, format);
  }

  RegisterLayout layout;
  std::string header;
  if (haveAtom) {
    const LayoutAtom *atom = findLayoutAtom(atomName);
    if (!atom)
      return usageError("unknown atom '" + atomName + "' (see --list-atoms)");
    layout = atom->layout;
    header = "atom " + atom->name + ": " + atom->description +
             "\nsource: " + atom->source + "\n";
  } else {
    LayoutResult<RegisterLayout> parsed = parseRegisterLayout(expression);
    if (!parsed)
      return parseError(expression, parsed.error());
    layout = *parsed;
  }

  // Pictures of huge tiles are never what anyone wants; refuse them rather
  // than write gigabytes.
  int64_t limit = int64_t(1) << (format == "csv" ? 24 : 16);
  if (layout.size() > limit)
    return usageError("layout of " + std::to_string(layout.size()) +
                      " elements is too large to print as " + format +
                      " (at most " + std::to_string(limit) + ")");
  if (format == "csv")
    return printCsv(layout);
  if (format == "svg")
    return printSvg(layout);
  std::cout << header << summary(layout) << layout.picture();
  return 0;
}
