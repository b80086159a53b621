//===- KernelInfoJson.cpp - KernelInfo to and from JSON -------------------===//
//
// A small JSON reader and writer for the one schema the runtime core needs;
// the core runs where LLVM's json library does not exist.
//
//===----------------------------------------------------------------------===//

#include "tilus/KernelInfo.h"

#include <cstdio>
#include <memory>
#include <string>

using namespace tilus;

namespace {

void writeString(std::string &out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      } else {
        out += c;
      }
    }
  }
  out += '"';
}

/// A parsed JSON value: only what the schema uses (no floats).
struct Value {
  enum class Kind { Null, Bool, Int, String, Array, Object } kind = Kind::Null;
  bool boolean = false;
  int64_t integer = 0;
  std::string string;
  std::vector<Value> array;
  std::vector<std::pair<std::string, Value>> object;

  const Value *get(std::string_view key) const {
    for (const auto &[k, v] : object)
      if (k == key)
        return &v;
    return nullptr;
  }
};

class Reader {
public:
  Reader(std::string_view text, std::string &error)
      : text(text), error(error) {}

  bool parse(Value &v) {
    if (!parseValue(v, 0))
      return false;
    skipSpace();
    if (pos != text.size())
      return fail("unexpected text after the value");
    return true;
  }

private:
  bool fail(const std::string &what) {
    error = what + " at offset " + std::to_string(pos);
    return false;
  }
  void skipSpace() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\n' ||
                                 text[pos] == '\r' || text[pos] == '\t'))
      ++pos;
  }
  bool literal(std::string_view word) {
    if (text.substr(pos, word.size()) != word)
      return false;
    pos += word.size();
    return true;
  }
  bool parseString(std::string &out) {
    if (pos >= text.size() || text[pos] != '"')
      return fail("expected a string");
    ++pos;
    while (pos < text.size() && text[pos] != '"') {
      char c = text[pos++];
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos >= text.size())
        break;
      char e = text[pos++];
      switch (e) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'u': {
        if (pos + 4 > text.size())
          return fail("truncated \\u escape");
        // Exactly four hex digits: std::stoul would skip spaces, take a sign
        // or stop early, and throws where there is no digit at all.
        unsigned code = 0;
        for (int i = 0; i < 4; ++i, ++pos) {
          char h = text[pos];
          int digit = h >= '0' && h <= '9'   ? h - '0'
                      : h >= 'a' && h <= 'f' ? h - 'a' + 10
                      : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                             : -1;
          if (digit < 0)
            return fail("bad \\u escape");
          code = code * 16 + unsigned(digit);
        }
        if (code >= 0x80)
          return fail("non-ASCII \\u escape");
        out += static_cast<char>(code);
        break;
      }
      default:
        out += e;
      }
    }
    if (pos >= text.size())
      return fail("unterminated string");
    ++pos;
    return true;
  }
  bool parseValue(Value &v, int depth) {
    if (depth > 32)
      return fail("nesting too deep");
    skipSpace();
    if (pos >= text.size())
      return fail("unexpected end of input");
    char c = text[pos];
    if (c == '{') {
      v.kind = Value::Kind::Object;
      ++pos;
      skipSpace();
      if (pos < text.size() && text[pos] == '}') {
        ++pos;
        return true;
      }
      while (true) {
        skipSpace();
        std::string key;
        if (!parseString(key))
          return false;
        skipSpace();
        if (pos >= text.size() || text[pos] != ':')
          return fail("expected ':'");
        ++pos;
        Value item;
        if (!parseValue(item, depth + 1))
          return false;
        v.object.emplace_back(std::move(key), std::move(item));
        skipSpace();
        if (pos < text.size() && text[pos] == ',') {
          ++pos;
          continue;
        }
        if (pos < text.size() && text[pos] == '}') {
          ++pos;
          return true;
        }
        return fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      v.kind = Value::Kind::Array;
      ++pos;
      skipSpace();
      if (pos < text.size() && text[pos] == ']') {
        ++pos;
        return true;
      }
      while (true) {
        Value item;
        if (!parseValue(item, depth + 1))
          return false;
        v.array.push_back(std::move(item));
        skipSpace();
        if (pos < text.size() && text[pos] == ',') {
          ++pos;
          continue;
        }
        if (pos < text.size() && text[pos] == ']') {
          ++pos;
          return true;
        }
        return fail("expected ',' or ']'");
      }
    }
    if (c == '"') {
      v.kind = Value::Kind::String;
      return parseString(v.string);
    }
    if (literal("true")) {
      v.kind = Value::Kind::Bool;
      v.boolean = true;
      return true;
    }
    if (literal("false")) {
      v.kind = Value::Kind::Bool;
      return true;
    }
    if (literal("null"))
      return true;
    if (c == '-' || (c >= '0' && c <= '9')) {
      size_t start = pos++;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9')
        ++pos;
      try {
        v.integer = std::stoll(std::string(text.substr(start, pos - start)));
      } catch (...) {
        return fail("integer out of range");
      }
      v.kind = Value::Kind::Int;
      return true;
    }
    return fail("unexpected character '" + std::string(1, c) + "'");
  }

  std::string_view text;
  std::string &error;
  size_t pos = 0;
};

/// Field access with a message naming the path of a missing or mistyped
/// field.
struct Fields {
  const Value &obj;
  std::string path;
  std::string &error;

  const Value *need(std::string_view key, Value::Kind kind) {
    const Value *v = obj.get(key);
    if (!v || v->kind != kind) {
      error = path + "." + std::string(key) +
              " is missing or has the wrong "
              "type";
      return nullptr;
    }
    return v;
  }
  bool str(std::string_view key, std::string &out) {
    const Value *v = need(key, Value::Kind::String);
    if (v)
      out = v->string;
    return v;
  }
  template <typename T> bool integer(std::string_view key, T &out) {
    const Value *v = need(key, Value::Kind::Int);
    if (v)
      out = static_cast<T>(v->integer);
    return v;
  }
};

bool readParam(const Value &v, ParamInfo &p, const std::string &path,
               std::string &error) {
  if (v.kind != Value::Kind::Object) {
    error = path + " is not an object";
    return false;
  }
  Fields f{v, path, error};
  const Value *global = f.need("global", Value::Kind::Bool);
  const Value *shape = f.need("shape", Value::Kind::Array);
  if (!f.str("name", p.name) || !global || !f.str("dtype", p.dtype) || !shape ||
      !f.integer("divisibility", p.divisibility))
    return false;
  p.isGlobal = global->boolean;
  if (const Value *written = v.get("written")) {
    if (written->kind != Value::Kind::Bool) {
      error = path + ".written is not a boolean";
      return false;
    }
    p.written = written->boolean;
  }
  for (const Value &e : shape->array) {
    if (e.kind != Value::Kind::String) {
      error = path + ".shape holds a non-string";
      return false;
    }
    p.shape.push_back(e.string);
  }
  return true;
}

bool readTensorMap(const Value &v, TensorMapInfo &t, const std::string &path,
                   std::string &error) {
  if (v.kind != Value::Kind::Object) {
    error = path + " is not an object";
    return false;
  }
  Fields f{v, path, error};
  const Value *box = f.need("box", Value::Kind::Array);
  if (!f.integer("param", t.param) || !f.str("dtype", t.dtype) || !box ||
      !f.integer("swizzle", t.swizzle) || !f.str("fill", t.fill))
    return false;
  for (const Value &e : box->array) {
    if (e.kind != Value::Kind::Int) {
      error = path + ".box holds a non-integer";
      return false;
    }
    t.box.push_back(e.integer);
  }
  return true;
}

bool readKernel(const Value &v, KernelInfo &k, const std::string &path,
                std::string &error) {
  if (v.kind != Value::Kind::Object) {
    error = path + " is not an object";
    return false;
  }
  Fields f{v, path, error};
  const Value *params = f.need("params", Value::Kind::Array);
  const Value *grid = f.need("grid", Value::Kind::Array);
  const Value *constants = f.need("constants", Value::Kind::Object);
  if (!f.str("name", k.name) || !params || !grid ||
      !f.integer("numThreads", k.numThreads) ||
      !f.integer("sharedBytes", k.sharedBytes) || !f.str("arch", k.arch) ||
      !constants)
    return false;
  for (size_t i = 0; i < params->array.size(); ++i) {
    ParamInfo p;
    if (!readParam(params->array[i], p,
                   path + ".params[" + std::to_string(i) + "]", error))
      return false;
    k.params.push_back(std::move(p));
  }
  if (grid->array.size() != 3) {
    error = path + ".grid does not have 3 extents";
    return false;
  }
  for (size_t i = 0; i < 3; ++i) {
    if (grid->array[i].kind != Value::Kind::String) {
      error = path + ".grid holds a non-string";
      return false;
    }
    k.grid[i] = grid->array[i].string;
  }
  for (const auto &[name, value] : constants->object) {
    if (value.kind != Value::Kind::Int) {
      error = path + ".constants." + name + " is not an integer";
      return false;
    }
    k.constants[name] = value.integer;
  }
  if (const Value *maps = v.get("tensorMaps")) {
    if (maps->kind != Value::Kind::Array) {
      error = path + ".tensorMaps is not an array";
      return false;
    }
    for (size_t i = 0; i < maps->array.size(); ++i) {
      TensorMapInfo t;
      if (!readTensorMap(maps->array[i], t,
                         path + ".tensorMaps[" + std::to_string(i) + "]",
                         error))
        return false;
      k.tensorMaps.push_back(std::move(t));
    }
  }
  return true;
}

} // namespace

std::string tilus::toJson(const std::vector<KernelInfo> &kernels) {
  std::string out = "{\"kernels\": [";
  for (size_t i = 0; i < kernels.size(); ++i) {
    const KernelInfo &k = kernels[i];
    out += i ? ",\n  {" : "\n  {";
    out += "\"name\": ";
    writeString(out, k.name);
    out += ",\n   \"params\": [";
    for (size_t j = 0; j < k.params.size(); ++j) {
      const ParamInfo &p = k.params[j];
      out += j ? ",\n     {\"name\": " : "\n     {\"name\": ";
      writeString(out, p.name);
      out += std::string(", \"global\": ") + (p.isGlobal ? "true" : "false");
      out += ", \"dtype\": ";
      writeString(out, p.dtype);
      out += ", \"shape\": [";
      for (size_t d = 0; d < p.shape.size(); ++d) {
        if (d)
          out += ", ";
        writeString(out, p.shape[d]);
      }
      out += "], \"divisibility\": " + std::to_string(p.divisibility);
      if (p.isGlobal)
        out += std::string(", \"written\": ") + (p.written ? "true" : "false");
      out += "}";
    }
    out += "],\n   \"grid\": [";
    for (size_t d = 0; d < 3; ++d) {
      if (d)
        out += ", ";
      writeString(out, k.grid[d]);
    }
    out += "],\n   \"numThreads\": " + std::to_string(k.numThreads);
    out += ", \"sharedBytes\": " + std::to_string(k.sharedBytes);
    out += ", \"arch\": ";
    writeString(out, k.arch);
    out += ",\n   \"constants\": {";
    bool first = true;
    for (const auto &[name, value] : k.constants) {
      if (!first)
        out += ", ";
      first = false;
      writeString(out, name);
      out += ": " + std::to_string(value);
    }
    out += "}";
    if (!k.tensorMaps.empty()) {
      out += ",\n   \"tensorMaps\": [";
      for (size_t j = 0; j < k.tensorMaps.size(); ++j) {
        const TensorMapInfo &t = k.tensorMaps[j];
        out += j ? ", " : "";
        out += "{\"param\": " + std::to_string(t.param) + ", \"dtype\": ";
        writeString(out, t.dtype);
        out += ", \"box\": [";
        for (size_t d = 0; d < t.box.size(); ++d)
          out += (d ? ", " : "") + std::to_string(t.box[d]);
        out += "], \"swizzle\": " + std::to_string(t.swizzle) +
               ", \"fill\": ";
        writeString(out, t.fill);
        out += "}";
      }
      out += "]";
    }
    out += "}";
  }
  out += "]}\n";
  return out;
}

bool tilus::fromJson(std::string_view text, std::vector<KernelInfo> &kernels,
                     std::string &error) {
  Value root;
  Reader reader(text, error);
  if (!reader.parse(root))
    return false;
  if (root.kind != Value::Kind::Object) {
    error = "kernel metadata is not a JSON object";
    return false;
  }
  Fields f{root, "", error};
  const Value *list = f.need("kernels", Value::Kind::Array);
  if (!list)
    return false;
  kernels.clear();
  for (size_t i = 0; i < list->array.size(); ++i) {
    KernelInfo k;
    if (!readKernel(list->array[i], k, ".kernels[" + std::to_string(i) + "]",
                    error))
      return false;
    kernels.push_back(std::move(k));
  }
  return true;
}
