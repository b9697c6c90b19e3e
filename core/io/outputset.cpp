#include "core/io/outputset.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace edgesse::io {

namespace {

QString osError(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

bool isSymbolicLink(const QByteArray &path)
{
    struct stat st {};
    return ::lstat(path.constData(), &st) == 0 && S_ISLNK(st.st_mode);
}

// Writes all of `bytes` to `fd` and flushes them to the device; errno on failure.
bool writeAll(int fd, const QByteArray &bytes)
{
    const char *data = bytes.constData();
    qsizetype left = bytes.size();
    while (left > 0) {
        const ssize_t n = ::write(fd, data, size_t(left));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return false;
        }
        data += n;
        left -= n;
    }
    return ::fsync(fd) == 0;
}

mode_t fileMode()
{
    const mode_t mask = ::umask(0);
    ::umask(mask);
    return 0666 & ~mask;
}

// mkdir -p, leaving errno of the step that failed.
bool makePath(const QByteArray &path)
{
    struct stat st {};
    if (::stat(path.constData(), &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return true;
        errno = ENOTDIR;
        return false;
    }
    const qsizetype slash = path.lastIndexOf('/');
    if (slash > 0 && !makePath(path.left(slash)))
        return false;
    if (::mkdir(path.constData(), 0777) == 0)
        return true;
    return errno == EEXIST && ::stat(path.constData(), &st) == 0 && S_ISDIR(st.st_mode);
}

QString linkMessage(const QString &path)
{
    return QStringLiteral("%1 is a symbolic link; EdgeSSE never writes through one: remove it or choose another directory").arg(path);
}

} // namespace

OutputSet::OutputSet(QString dir) : m_dir(std::move(dir))
{}

OutputSet::~OutputSet()
{
    if (!m_committed)
        for (const Staged &s : m_staged)
            ::unlink(s.temporaryPath.constData());
}

bool OutputSet::fail(const QString &message)
{
    if (!m_failed)
        m_error = message;
    m_failed = true;
    return false;
}

bool OutputSet::add(const QString &name, const QByteArray &bytes)
{
    if (m_failed)
        return false;
    const QString path = QDir(m_dir).filePath(name);
    QByteArray temporary = QFile::encodeName(QDir(m_dir).filePath(QStringLiteral(".%1.XXXXXX").arg(name)));
    const int fd = ::mkostemp(temporary.data(), O_CLOEXEC);
    if (fd < 0)
        return fail(QStringLiteral("cannot write %1: %2").arg(path, osError(errno)));
    m_staged.push_back({name, temporary});
    const bool ok = ::fchmod(fd, fileMode()) == 0 && writeAll(fd, bytes);
    const int writeErrno = errno;
    const bool closed = ::close(fd) == 0;
    if (!ok || !closed)
        return fail(QStringLiteral("cannot write %1: %2").arg(path, osError(ok ? errno : writeErrno)));
    return true;
}

bool OutputSet::commit()
{
    if (m_failed)
        return false;
    for (const Staged &s : m_staged) {
        const QString path = QDir(m_dir).filePath(s.name);
        if (isSymbolicLink(QFile::encodeName(path)))
            return fail(linkMessage(path));
    }
    for (const Staged &s : m_staged) {
        const QString path = QDir(m_dir).filePath(s.name);
        if (::rename(s.temporaryPath.constData(), QFile::encodeName(path).constData()) != 0)
            return fail(QStringLiteral("cannot write %1: %2").arg(path, osError(errno)));
    }
    m_committed = true;
    const int dirFd = ::open(QFile::encodeName(m_dir).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirFd >= 0) {
        ::fsync(dirFd); // the renames themselves reach the disk
        ::close(dirFd);
    }
    return true;
}

QStringList OutputSet::paths() const
{
    QStringList result;
    for (const Staged &s : m_staged)
        result << QDir(m_dir).filePath(s.name);
    return result;
}

QString checkOutputDirectory(const QString &dir, const QStringList &names)
{
    if (!makePath(QFile::encodeName(QDir::cleanPath(dir))))
        return QStringLiteral("cannot create the directory %1: %2; choose another directory").arg(dir, osError(errno));
    QByteArray probe = QFile::encodeName(QDir(dir).filePath(QStringLiteral(".edgesse-probe.XXXXXX")));
    const int fd = ::mkostemp(probe.data(), O_CLOEXEC);
    if (fd < 0)
        return QStringLiteral("cannot write in %1: %2; choose another directory").arg(dir, osError(errno));
    ::close(fd);
    ::unlink(probe.constData());
    for (const QString &name : names) {
        const QString path = QDir(dir).filePath(name);
        if (isSymbolicLink(QFile::encodeName(path)))
            return linkMessage(path);
    }
    return {};
}

QStringList leftoverFiles(const QString &dir, const QStringList &names, const QStringList &written)
{
    QStringList writtenNames;
    for (const QString &path : written)
        writtenNames << QFileInfo(path).fileName();
    QStringList result;
    for (const QString &name : names)
        if (!writtenNames.contains(name) && QFileInfo::exists(QDir(dir).filePath(name)))
            result << name;
    return result;
}

bool writeFileAtomically(const QString &path, const QByteArray &bytes, QString *error)
{
    const QFileInfo info(path);
    OutputSet set(info.absolutePath());
    if (set.add(info.fileName(), bytes) && set.commit())
        return true;
    if (error)
        *error = set.error();
    return false;
}

} // namespace edgesse::io
