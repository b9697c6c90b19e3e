#pragma once

// Test support for finding scenario files in the source tree.

#include <QDir>
#include <QString>
#include <QStringList>

namespace edgesse::testing {

inline QString sourceDir()
{
    return QString::fromUtf8(EDGESSE_SOURCE_DIR);
}

// The *.yaml files directly in `dir`, as paths, sorted by name.
inline QStringList yamlFiles(const QString &dir)
{
    QStringList files;
    for (const QString &name : QDir(dir).entryList({QStringLiteral("*.yaml")}, QDir::Files, QDir::Name))
        files << dir + u'/' + name;
    return files;
}

} // namespace edgesse::testing
