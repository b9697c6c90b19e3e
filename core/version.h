#pragma once

#include <QString>

namespace edgesse {

inline constexpr const char kToolName[] = "edgesse";
inline constexpr const char kVersion[] = EDGESSE_VERSION;

QString versionString();

} // namespace edgesse
