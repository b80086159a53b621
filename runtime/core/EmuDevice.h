//===- EmuDevice.h - The PTX emulator as a runtime device -------*- C++ -*-===//

#ifndef TILUS_RUNTIME_CORE_EMUDEVICE_H
#define TILUS_RUNTIME_CORE_EMUDEVICE_H

#include "tilus/Runtime.h"

namespace tilus {

/// A device that runs PTX on the CPU emulator (runtime/emu), or the error of
/// a TILUS_EMU_* variable that does not parse.
Expected<std::unique_ptr<Device>> createEmuDevice();

} // namespace tilus

#endif // TILUS_RUNTIME_CORE_EMUDEVICE_H
