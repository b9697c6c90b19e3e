#include "core/sse/chromiumprocess.h"

#include "core/util/sessionpriority.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>

#include <csignal>
#include <vector>

#include <sys/types.h>
#include <unistd.h>

namespace edgesse::sse {

namespace {

// Pids of processes whose command line contains `needle`.
std::vector<qint64> processesNaming(const QByteArray &needle)
{
    std::vector<qint64> pids;
    const QStringList entries = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString &entry : entries) {
        bool ok = false;
        const qint64 pid = entry.toLongLong(&ok);
        if (!ok)
            continue;
        QFile cmdline(QStringLiteral("/proc/%1/cmdline").arg(pid));
        if (cmdline.open(QIODevice::ReadOnly) && cmdline.readAll().contains(needle))
            pids.push_back(pid);
    }
    return pids;
}

} // namespace

QString ChromiumProcess::executable()
{
    const QString debian = QStringLiteral("/usr/bin/chromium");
    return QFileInfo::exists(debian) ? debian : QStandardPaths::findExecutable(QStringLiteral("chromium"));
}

ChromiumProcess::ChromiumProcess(QString url, QByteArray spkiSha256Base64)
    : m_url(std::move(url))
    , m_spki(std::move(spkiSha256Base64))
{
}

ChromiumProcess::~ChromiumProcess()
{
    stop();
}

bool ChromiumProcess::start(QString *error)
{
    const QString program = executable();
    if (program.isEmpty()) {
        *error = QStringLiteral("real_browser: chromium is not installed; run scripts/dev start (it installs Debian's chromium)");
        return false;
    }
    if (!m_profile.isValid()) {
        *error = QStringLiteral("real_browser: no temporary folder for the browser's profile: %1").arg(m_profile.errorString());
        return false;
    }
    QStringList args{QStringLiteral("--headless=new"), QStringLiteral("--disable-gpu"), QStringLiteral("--no-first-run"),
                     QStringLiteral("--no-default-browser-check"), QStringLiteral("--disable-background-networking"),
                     QStringLiteral("--disable-component-update"), QStringLiteral("--disable-crash-reporter"),
                     QStringLiteral("--user-data-dir=") + m_profile.path()};
    if (!m_spki.isEmpty())
        args << QStringLiteral("--ignore-certificate-errors-spki-list=") + QString::fromLatin1(m_spki);
    if (::geteuid() == 0)
        args << QStringLiteral("--no-sandbox"); // Chromium refuses to run as root with its sandbox
    m_process.setStandardOutputFile(QProcess::nullDevice());
    m_process.setStandardErrorFile(QProcess::nullDevice());
    // Its own session, so its own process group (stopped as one) and its own scheduling
    // group, which runAhead() raises once the browser has started up.
    m_process.setChildProcessModifier([] { ::setsid(); });
    m_process.start(program, args << m_url);
    if (!m_process.waitForStarted(10'000)) {
        *error = QStringLiteral("real_browser: %1 did not start: %2").arg(program, m_process.errorString());
        return false;
    }
    m_pid = m_process.processId();
    return true;
}

void ChromiumProcess::stop(int graceMs)
{
    if (m_pid <= 0)
        return;
    const auto group = static_cast<pid_t>(-m_pid);
    ::kill(group, SIGTERM);
    if (!m_process.waitForFinished(graceMs))
        ::kill(group, SIGKILL);
    ::kill(group, SIGKILL); // children that outlived their parent stay in its group
    m_process.waitForFinished(5000);
    for (qint64 pid : processesNaming(m_profile.path().toLocal8Bit()))
        ::kill(static_cast<pid_t>(pid), SIGKILL);
    m_pid = 0;
}

bool ChromiumProcess::runAhead() const
{
    return m_pid > 0 && util::raiseSessionOf(static_cast<long>(m_pid));
}

int ChromiumProcess::processesLeft() const
{
    return static_cast<int>(processesNaming(m_profile.path().toLocal8Bit()).size());
}

} // namespace edgesse::sse
