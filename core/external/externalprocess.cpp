#include "core/external/externalprocess.h"

#include <QDir>
#include <QFile>

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace edgesse::external {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr auto kPollInterval = 20ms;
constexpr auto kKillWait = 2s; // after SIGKILL, for the kernel to tear the group down

QString errnoText(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

// Runs in the forked child: only async-signal-safe calls until exec.
[[noreturn]] void execChild(const char *const argv[], const char *dir, const char *out, const char *err, int reportFd)
{
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD})
        ::signal(sig, SIG_DFL);
    const int in = ::open("/dev/null", O_RDONLY);
    const int o = ::open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);
    const int e = ::open(err, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || o < 0 || e < 0 || ::dup2(in, 0) < 0 || ::dup2(o, 1) < 0 || ::dup2(e, 2) < 0
        || (dir[0] != '\0' && ::chdir(dir) != 0)) {
        const int error = errno;
        (void)!::write(reportFd, &error, sizeof error);
        ::_exit(127);
    }
    // Every other descriptor of ours (sockets, epoll, pipes) stays out of the child.
    const int keep = reportFd;
    if (keep > 3)
        ::syscall(SYS_close_range, 3u, unsigned(keep - 1), 0u);
    ::syscall(SYS_close_range, unsigned(keep + 1), ~0u, 0u);
    ::execv(argv[0], const_cast<char *const *>(argv));
    const int error = errno;
    (void)!::write(reportFd, &error, sizeof error);
    ::_exit(127);
}

} // namespace

ExternalProcess::ExternalProcess(ProcessSpec spec) : m_spec(std::move(spec)) {}

ExternalProcess::~ExternalProcess()
{
    stop();
}

bool ExternalProcess::start(QString *error, const std::function<bool()> &cancelled)
{
    if (!spawn(error))
        return false;
    if (m_spec.port == 0)
        return true;
    QString problem;
    if (waitUntilListening(&problem, cancelled))
        return true;
    const QString stopNote = stop();
    if (error)
        *error = failure(stopNote.isEmpty() ? problem : problem + QStringLiteral("; ") + stopNote);
    return false;
}

bool ExternalProcess::spawn(QString *error)
{
    for (const QString &path : {m_spec.stdoutPath, m_spec.stderrPath}) {
        if (!path.isEmpty())
            QDir().mkpath(QFileInfo(path).absolutePath());
    }
    const QByteArray shell("/bin/sh"), dashC("-c"), command = m_spec.command.toLocal8Bit();
    const QByteArray dir = m_spec.workingDirectory.toLocal8Bit();
    const QByteArray out = (m_spec.stdoutPath.isEmpty() ? QStringLiteral("/dev/null") : m_spec.stdoutPath).toLocal8Bit();
    const QByteArray err = (m_spec.stderrPath.isEmpty() ? QStringLiteral("/dev/null") : m_spec.stderrPath).toLocal8Bit();
    const char *argv[] = {shell.constData(), dashC.constData(), command.constData(), nullptr};
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) {
        if (error)
            *error = failure(QStringLiteral("cannot start: %1").arg(errnoText(errno)));
        return false;
    }
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(report[0]);
        execChild(argv, dir.constData(), out.constData(), err.constData(), report[1]);
    }
    ::close(report[1]);
    if (pid < 0) {
        const int e = errno;
        ::close(report[0]);
        if (error)
            *error = failure(QStringLiteral("cannot start: fork failed: %1").arg(errnoText(e)));
        return false;
    }
    // Both sides set the group, so a kill right after fork already reaches it.
    ::setpgid(pid, pid);
    m_pid = pid;
    m_pgid = pid;
    m_reaped = false;
    m_exit.clear();
    int childError = 0;
    ssize_t n;
    do {
        n = ::read(report[0], &childError, sizeof childError);
    } while (n < 0 && errno == EINTR);
    ::close(report[0]);
    if (n == sizeof childError) {
        running(); // reaps it
        if (error)
            *error = failure(QStringLiteral("cannot start: %1").arg(errnoText(childError)));
        return false;
    }
    return true;
}

bool ExternalProcess::waitUntilListening(QString *problem, const std::function<bool()> &cancelled)
{
    const auto until = Clock::now() + m_spec.readyTimeout;
    for (;;) {
        if (acceptsConnections(m_spec.port))
            return true;
        // A shell that started the server in the background and exited leaves it in the group.
        if (!running() && processGroupMembers(m_pgid).empty()) {
            *problem = QStringLiteral("%1 before it listened on port %2").arg(m_exit).arg(m_spec.port);
            if (m_exit.endsWith(QLatin1String("status 0")))
                *problem += QStringLiteral(" (a server that daemonizes leaves EdgeSSE's reach: keep it in the foreground, "
                                           "e.g. nginx -g 'daemon off;')");
            return false;
        }
        if (cancelled && cancelled()) {
            *problem = QStringLiteral("cancelled while waiting for it to listen");
            return false;
        }
        if (Clock::now() >= until) {
            *problem = QStringLiteral("did not listen on port %1 within %2 ms (does it take its port from {port}?)")
                           .arg(m_spec.port)
                           .arg(m_spec.readyTimeout.count());
            return false;
        }
        std::this_thread::sleep_for(kPollInterval);
    }
}

void ExternalProcess::noteExit(int status)
{
    m_reaped = true;
    if (WIFEXITED(status))
        m_exit = QStringLiteral("exited with status %1").arg(WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        m_exit = QStringLiteral("killed by signal %1 (%2)").arg(WTERMSIG(status)).arg(QString::fromLatin1(sigabbrev_np(WTERMSIG(status))));
    else
        m_exit = QStringLiteral("ended");
}

bool ExternalProcess::running()
{
    if (m_reaped)
        return false;
    int status = 0;
    const pid_t r = ::waitpid(m_pid, &status, WNOHANG);
    if (r == m_pid) {
        noteExit(status);
        return false;
    }
    if (r < 0 && errno == ECHILD) {
        m_reaped = true;
        m_exit = QStringLiteral("ended");
        return false;
    }
    return true;
}

QString ExternalProcess::stop()
{
    if (m_pgid <= 0)
        return {};
    auto groupGone = [&] {
        running();
        return m_reaped && processGroupMembers(m_pgid).empty();
    };
    QString note;
    if (!groupGone()) {
        ::kill(-m_pgid, SIGTERM);
        const auto graceEnd = Clock::now() + m_spec.stopGrace;
        while (!groupGone() && Clock::now() < graceEnd)
            std::this_thread::sleep_for(kPollInterval);
        if (!groupGone()) {
            ::kill(-m_pgid, SIGKILL);
            note = QStringLiteral("it was still running %1 ms after SIGTERM and was killed (SIGKILL)")
                       .arg(m_spec.stopGrace.count());
            const auto killEnd = Clock::now() + kKillWait;
            while (!groupGone() && Clock::now() < killEnd)
                std::this_thread::sleep_for(kPollInterval);
            if (!groupGone())
                note = QStringLiteral("process group %1 survived SIGKILL").arg(m_pgid);
        }
    }
    m_pgid = -1;
    return note;
}

QString ExternalProcess::lastOutput(int lines) const
{
    QStringList out;
    for (const QString &line : lastLines(m_spec.stderrPath, lines))
        out << QStringLiteral("  stderr| ") + line;
    for (const QString &line : lastLines(m_spec.stdoutPath, lines))
        out << QStringLiteral("  stdout| ") + line;
    return out.join(QLatin1Char('\n'));
}

QString ExternalProcess::failure(const QString &what) const
{
    QString text = QStringLiteral("%1: command `%2` %3").arg(m_spec.name, m_spec.command, what);
    const QString output = lastOutput();
    text += output.isEmpty() ? QStringLiteral("; it printed nothing") : QStringLiteral("; its last output:\n") + output;
    return text;
}

std::vector<pid_t> processGroupMembers(pid_t pgid)
{
    std::vector<pid_t> members;
    const QStringList entries = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString &entry : entries) {
        bool numeric = false;
        const int pid = entry.toInt(&numeric);
        if (!numeric)
            continue;
        QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
        if (!stat.open(QIODevice::ReadOnly))
            continue;
        // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
        const QByteArray line = stat.readAll();
        const qsizetype close = line.lastIndexOf(')');
        if (close < 0)
            continue;
        const QList<QByteArray> fields = line.mid(close + 2).split(' ');
        if (fields.size() < 3 || fields[0] == "Z" || fields[0] == "X")
            continue;
        if (fields[2].toInt() == pgid)
            members.push_back(pid);
    }
    return members;
}

quint16 freeLoopbackPort(QString *error)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        if (error)
            *error = QStringLiteral("cannot open a socket to find a free port: %1").arg(errnoText(errno));
        return 0;
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    quint16 port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0
        && ::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) == 0)
        port = ntohs(address.sin_port);
    else if (error)
        *error = QStringLiteral("cannot find a free loopback port: %1").arg(errnoText(errno));
    ::close(fd);
    return port;
}

bool acceptsConnections(quint16 port)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0;
    ::close(fd);
    return ok;
}

QStringList lastLines(const QString &path, int lines)
{
    QFile file(path);
    if (path.isEmpty() || !file.open(QIODevice::ReadOnly))
        return {};
    constexpr qint64 kTail = 64 * 1024;
    if (file.size() > kTail)
        file.seek(file.size() - kTail);
    QStringList all = QString::fromUtf8(file.readAll()).split(QLatin1Char('\n'));
    while (!all.isEmpty() && all.back().trimmed().isEmpty())
        all.removeLast();
    return all.mid(std::max<qsizetype>(0, all.size() - lines));
}

} // namespace edgesse::external
