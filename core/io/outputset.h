#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <vector>

// Output files written safely: whole or not at all, never through a symbolic link, with the
// operating system's own words when something fails ("No space left on device").
namespace edgesse::io {

// Files written into one directory as a set. add() stages each file in a temporary file
// beside its destination (created exclusively, written in full, flushed to disk); commit()
// renames every staged file into place, but only when all of them were staged and no
// destination is a symbolic link, so a failure leaves the earlier set as it was and no
// partial file. Staged files not committed are removed by the destructor. One thread.
class OutputSet
{
public:
    explicit OutputSet(QString dir);
    ~OutputSet();
    OutputSet(const OutputSet &) = delete;
    OutputSet &operator=(const OutputSet &) = delete;

    // Stages `bytes` as dir/name; false (and error()) when it could not be written in full.
    bool add(const QString &name, const QByteArray &bytes);
    bool commit();
    QString error() const { return m_error; }
    // Destination paths, in the order added.
    QStringList paths() const;

private:
    struct Staged {
        QString name;
        QByteArray temporaryPath;
    };
    bool fail(const QString &message);

    QString m_dir;
    std::vector<Staged> m_staged;
    QString m_error;
    bool m_failed = false;
    bool m_committed = false;
};

// Whether `dir` can take the outputs `names`: created when missing, writable (a probe file is
// created and removed), and none of `names` in it a symbolic link. Empty when it can; else a
// message naming the cause and the fix.
QString checkOutputDirectory(const QString &dir, const QStringList &names);

// Those of `names` that exist in `dir` but are not in `written`: files an earlier run left.
QStringList leftoverFiles(const QString &dir, const QStringList &names, const QStringList &written);

// Writes one file atomically (an OutputSet of one); on failure false and *error.
bool writeFileAtomically(const QString &path, const QByteArray &bytes, QString *error = nullptr);

} // namespace edgesse::io
