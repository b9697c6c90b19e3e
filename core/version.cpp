#include "core/version.h"

namespace edgesse {

QString versionString()
{
    return QString::fromLatin1(kVersion);
}

} // namespace edgesse
