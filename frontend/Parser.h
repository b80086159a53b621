//===- Parser.h - Parser of the tile language -------------------*- C++ -*-===//

#ifndef TILUS_FRONTEND_PARSER_H
#define TILUS_FRONTEND_PARSER_H

#include "frontend/AST.h"
#include "frontend/Diagnostics.h"

#include <optional>

namespace tilus {

/// Parses the buffer `bufferId` of the diagnostics' source manager. Errors are
/// reported through `diags`. After errors the result is the module the
/// parser recovered (`recovered` set), for lowerToTilus to report the
/// semantic errors of what parsed; it is empty when nothing could be parsed.
std::optional<ast::Module> parseModule(unsigned bufferId,
                                       DiagnosticEngine &diags);

} // namespace tilus

#endif // TILUS_FRONTEND_PARSER_H
