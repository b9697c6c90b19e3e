#pragma once

#include <QString>
#include <QStringList>

#include <chrono>
#include <functional>
#include <sys/types.h>
#include <vector>

namespace edgesse::external {

// What to start: a shell command line (placeholders already filled in), where its output
// goes and how long it may take to listen and to stop.
struct ProcessSpec {
    QString name;       // the node it stands for, in messages
    QString command;    // run by /bin/sh -c in its own process group
    QString workingDirectory;
    QString stdoutPath; // its standard output and error, appended to these files
    QString stderrPath;
    quint16 port = 0;   // start() waits until 127.0.0.1:port accepts; 0 = do not wait
    std::chrono::milliseconds readyTimeout{10000};
    std::chrono::milliseconds stopGrace{2000}; // SIGTERM first; SIGKILL when still running after this
};

// A server the user runs as part of a topology: started in a process group of its own,
// waited for until it listens (bounded), stopped with its whole group — SIGTERM, then
// SIGKILL after the grace period — so nothing it forked is left behind.
//
// Not thread-safe; start() and stop() block (bounded), so call them from a thread that may
// wait (the run's conductor), never from a data-plane thread.
class ExternalProcess
{
public:
    explicit ExternalProcess(ProcessSpec spec);
    ~ExternalProcess(); // stop()
    ExternalProcess(const ExternalProcess &) = delete;
    ExternalProcess &operator=(const ExternalProcess &) = delete;

    // Starts it and waits until it listens. On failure (cannot start, exits, never listens,
    // `cancelled` returned true) everything it started is stopped and `error` names the
    // command, what went wrong and its last lines of output.
    bool start(QString *error, const std::function<bool()> &cancelled = {});

    // Stops the whole process group. Empty when it ended on SIGTERM (or had ended); otherwise
    // a sentence saying it had to be killed, or that something survived even SIGKILL.
    QString stop();

    // Still running (the group leader has not exited)? Reaps it when it has.
    bool running();
    // Why it is no longer running ("exited with status 1", "killed by signal 9"); empty while running.
    QString exitDescription() const { return m_exit; }

    pid_t processGroup() const { return m_pgid; }
    const ProcessSpec &spec() const { return m_spec; }
    // The last `lines` lines of its standard output and error, stderr first, each prefixed.
    QString lastOutput(int lines = 8) const;

private:
    bool spawn(QString *error);
    bool waitUntilListening(QString *problem, const std::function<bool()> &cancelled);
    QString failure(const QString &what) const;
    void noteExit(int status);

    ProcessSpec m_spec;
    pid_t m_pid = -1;
    pid_t m_pgid = -1;
    bool m_reaped = true;
    QString m_exit;
};

// Live (not zombie) processes whose process group is `pgid`, read from /proc.
std::vector<pid_t> processGroupMembers(pid_t pgid);

// A loopback port free right now (bound and released), for a command's {port}; 0 with
// `error` set when none could be had.
quint16 freeLoopbackPort(QString *error);

// True when something accepts TCP connections on 127.0.0.1:port.
bool acceptsConnections(quint16 port);

// The last `lines` lines of a text file (at most its last 64 KB are read).
QStringList lastLines(const QString &path, int lines);

} // namespace edgesse::external
