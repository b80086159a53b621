//===- TilusAttrs.td - Attributes of the tilus dialect -----*- tablegen -*-===//

#ifndef TILUS_ATTRS_TD
#define TILUS_ATTRS_TD

include "ir/dialect/TilusDialect.td"

def Tilus_LayoutAttr : Tilus_Attr<"Layout", "layout"> {
  let summary = "The distribution of a register tile over a block's threads";
  let description = [{
    A register layout in the layout language of docs/layouts.md, e.g.
    `#tilus.layout<"local(2,1).spatial(8,4).local(1,2)">`: which thread holds
    which element of a tile, at which register. It is kept in canonical text
    form, so two attributes are equal exactly when their layouts are.
  }];
  let parameters = (ins StringRefParameter<"canonical layout text">:$expr);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let builders = [
    AttrBuilder<(ins "const ::tilus::RegisterLayout &":$layout), [{
      return $_get($_ctxt, layout.str());
    }]>
  ];
  let extraClassDeclaration = [{
    /// The layout (the verifier accepted the text).
    ::tilus::RegisterLayout getLayout() const;
  }];
}

def Tilus_SharedLayoutAttr : Tilus_Attr<"SharedLayout", "shared_layout"> {
  let summary = "The placement of a tile in shared memory";
  let description = [{
    A shared layout in the layout language of docs/layouts.md, e.g.
    `#tilus.shared_layout<"shared(8,64).row_major().swizzle(3,3,3)">`: the
    element offset of each element of a tile, with an optional XOR swizzle.
    Kept in canonical text form.
  }];
  let parameters = (ins StringRefParameter<"canonical layout text">:$expr);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let builders = [
    AttrBuilder<(ins "const ::tilus::SharedLayout &":$layout), [{
      return $_get($_ctxt, layout.str());
    }]>
  ];
  let extraClassDeclaration = [{
    ::tilus::SharedLayout getLayout() const;
  }];
}

#endif // TILUS_ATTRS_TD
