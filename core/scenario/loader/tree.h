#pragma once

#include <QString>
#include <QStringView>

#include <vector>

// The loader's own tree: what yaml-cpp read, with the place each value was written, so
// every later problem can be reported at FILE:LINE:COL.
namespace edgesse::scenario::loader {

struct Entry;

struct Value {
    enum class Kind { Null, Scalar, Sequence, Map };
    Kind kind = Kind::Null;
    QString scalar;
    std::vector<Value> items;
    std::vector<Entry> entries;
    int line = 0;
    int column = 0;
    QString path; // where it was written: links[2].latency

    bool isNull() const { return kind == Kind::Null; }
    bool isScalar() const { return kind == Kind::Scalar; }
    bool isMap() const { return kind == Kind::Map; }
    bool isSequence() const { return kind == Kind::Sequence; }
    const Value *find(QStringView key) const;
    Value *find(QStringView key);
    QString describe() const;
};

struct Entry {
    QString key;
    int line = 0;
    int column = 0;
    Value value;
};

QString childPath(const QString &parent, const QString &key);
QString indexPath(const QString &parent, qsizetype index);

} // namespace edgesse::scenario::loader
