#pragma once

#include <QByteArray>
#include <QProcess>
#include <QString>
#include <QTemporaryDir>

namespace edgesse::sse {

// One headless Chromium (Debian's /usr/bin/chromium, else `chromium` on PATH) on one URL,
// with a throw-away profile of its own (a temporary --user-data-dir) that trusts the run's
// certificate by its SPKI hash. It runs in a session (so a process group) of its own, so
// stop() ends it with every process it started (renderers, zygotes, the crash handler). Not copyable;
// use from the thread that made it.
class ChromiumProcess final
{
public:
    // The browser to launch; empty when none is installed.
    static QString executable();

    ChromiumProcess(QString url, QByteArray spkiSha256Base64);
    ~ChromiumProcess(); // stop()
    ChromiumProcess(const ChromiumProcess &) = delete;
    ChromiumProcess &operator=(const ChromiumProcess &) = delete;

    // False with `error` naming the cause and the fix when it cannot start.
    bool start(QString *error);
    // SIGTERM to the process group, SIGKILL after `grace`, then any process still naming the
    // profile; idempotent.
    void stop(int graceMs = 2000);
    bool isRunning() const { return m_process.state() != QProcess::NotRunning; }
    qint64 processId() const { return m_pid; }
    QString profileDir() const { return m_profile.path(); }
    // Processes alive whose command line names this profile (0 once stopped).
    int processesLeft() const;
    // Puts the browser, every process it started, ahead of other work on a shared machine, as
    // root (util::raiseSessionOf), so its timers fire on time — a foreground browser's lot.
    // Call it once the browser has started up: started ahead, its start-up (a second or two
    // of CPU) would take the machine from whatever else the run is measuring then.
    bool runAhead() const;

private:
    QString m_url;
    QByteArray m_spki;
    QTemporaryDir m_profile;
    QProcess m_process;
    qint64 m_pid = 0;
};

} // namespace edgesse::sse
