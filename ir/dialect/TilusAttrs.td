//===- TilusAttrs.td - Attributes of the tilus dialect -----*- tablegen -*-===//

#ifndef TILUS_ATTRS_TD
#define TILUS_ATTRS_TD

include "ir/dialect/TilusDialect.td"

def Tilus_LayoutAttr : Tilus_Attr<"Layout", "layout"> {
  let summary = "The distribution of a register tile over a block's threads";
  let description = [{
    A register layout written in the layout language, e.g.
    `#tilus.layout<"local(2).spatial(128)">`: composition left to right,
    `local(...)` modes index a thread's registers, `spatial(...)` modes index
    threads. The layout's shape must equal the tile's shape.
  }];
  let parameters = (ins StringRefParameter<"layout expression">:$expr);
  let assemblyFormat = "`<` $expr `>`";
  let genVerifyDecl = 1;
}

#endif // TILUS_ATTRS_TD
