#pragma once

#include <QObject>

#include <chrono>
#include <utility>
#include <vector>

class QTcpServer;

namespace edgesse::net {
class DeadlineQueue;
}

namespace edgesse::routing {

// What a population's name resolves to over time: its PoP's access link, then — once the
// PoP has failed and the re-resolution delay (DNS TTL, anycast convergence) has passed — a
// fallback PoP's. A TCP forwarder on port 0 without delay of its own: each new connection
// goes to the target current when it arrives; open connections stay where they are.
// Lives on one thread.
class FailoverSwitch final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FailoverSwitch)

public:
    struct Change {
        std::chrono::microseconds at{0}; // from start()
        int target = 0;                  // index into the targets
    };

    FailoverSwitch(std::vector<quint16> targets, std::vector<Change> changes, net::DeadlineQueue &timers,
                   QObject *parent = nullptr);
    ~FailoverSwitch() override;

    bool listen(QString *error);
    quint16 port() const;
    // Schedules the changes from now.
    void start();
    int current() const { return m_current; }

private:
    void accepted();

    std::vector<quint16> m_targets;
    std::vector<Change> m_changes;
    net::DeadlineQueue &m_timers;
    std::vector<std::uint64_t> m_timerIds;
    QTcpServer *m_server = nullptr; // child
    int m_current = 0;
};

} // namespace edgesse::routing
