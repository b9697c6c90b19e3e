#pragma once

#include <QObject>

class QSocketNotifier;

namespace edgesse::cli {

// Turns SIGINT and SIGTERM into a Qt signal on the thread that created the watcher (a
// self-pipe: the handler only writes a byte). One watcher a process; the previous
// handlers come back when it is destroyed.
class SignalWatcher final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SignalWatcher)

public:
    explicit SignalWatcher(QObject *parent = nullptr);
    ~SignalWatcher() override;

    bool isValid() const { return m_notifier != nullptr; }
    int received() const { return m_received; } // how many signals so far

signals:
    void interrupted(int signalNumber);

private:
    void onReadable();

    QSocketNotifier *m_notifier = nullptr;
    int m_received = 0;
};

} // namespace edgesse::cli
