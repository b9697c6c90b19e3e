#include "core/routing/failoverswitch.h"

#include "core/net/deadlinequeue.h"
#include "core/routing/pipe.h"

#include <QTcpServer>
#include <QTcpSocket>

namespace edgesse::routing {

FailoverSwitch::FailoverSwitch(std::vector<quint16> targets, std::vector<Change> changes, net::DeadlineQueue &timers,
                               QObject *parent)
    : QObject(parent)
    , m_targets(std::move(targets))
    , m_changes(std::move(changes))
    , m_timers(timers)
{
}

FailoverSwitch::~FailoverSwitch()
{
    for (const auto id : m_timerIds)
        m_timers.cancel(id);
}

bool FailoverSwitch::listen(QString *error)
{
    m_server = new QTcpServer(this);
    m_server->setListenBacklogSize(4096);
    m_server->setMaxPendingConnections(4096);
    connect(m_server, &QTcpServer::pendingConnectionAvailable, this, &FailoverSwitch::accepted);
    if (m_server->listen(QHostAddress::LocalHost, 0))
        return true;
    *error = QStringLiteral("the failover switch could not listen: %1").arg(m_server->errorString());
    return false;
}

quint16 FailoverSwitch::port() const
{
    return m_server ? m_server->serverPort() : 0;
}

void FailoverSwitch::start()
{
    for (const Change &c : m_changes) {
        const int target = c.target;
        m_timerIds.push_back(m_timers.scheduleAfter(c.at, [this, target] { m_current = target; }));
    }
}

void FailoverSwitch::accepted()
{
    while (QTcpSocket *client = m_server->nextPendingConnection()) {
        auto *backend = new QTcpSocket(this);
        // From the browser's own address: the access link shares bandwidth per peer.
        backend->bind(client->peerAddress(), 0);
        backend->connectToHost(QHostAddress::LocalHost, m_targets[std::size_t(m_current)]);
        auto *pipe = new Pipe(client, backend, {}, this);
        connect(pipe, &Pipe::ended, pipe, &QObject::deleteLater, Qt::QueuedConnection);
    }
}

} // namespace edgesse::routing
