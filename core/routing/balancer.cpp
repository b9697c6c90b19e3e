#include "core/routing/balancer.h"

#include "core/net/deadlinequeue.h"
#include "core/routing/pipe.h"

#include <QTcpServer>
#include <QTcpSocket>

#include <algorithm>

namespace edgesse::routing {

namespace {

constexpr QByteArrayView kHeadEnd = "\r\n\r\n";

// Not an HTTP/1.1 request head to read first: the h2c preface or a TLS record.
bool opaqueStart(const QByteArray &bytes)
{
    if (!bytes.isEmpty() && bytes.front() == '\x16')
        return true;
    constexpr QByteArrayView preface = "PRI * HTTP/2.0";
    const qsizetype n = std::min(bytes.size(), preface.size());
    return n >= 3 && QByteArrayView(bytes).first(n) == preface.first(n);
}

} // namespace

QByteArray cookieValue(QByteArrayView head, QByteArrayView name)
{
    qsizetype at = 0;
    while (at < head.size()) {
        qsizetype end = head.indexOf(QByteArrayView("\r\n"), at);
        if (end < 0)
            end = head.size();
        const QByteArrayView line = head.sliced(at, end - at);
        at = end + 2;
        const qsizetype colon = line.indexOf(':');
        if (colon < 0 || line.first(colon).trimmed().compare("cookie", Qt::CaseInsensitive) != 0)
            continue;
        for (const QByteArray &pair : line.sliced(colon + 1).toByteArray().split(';')) {
            const QByteArray p = pair.trimmed();
            if (p.startsWith(name) && p.size() > name.size() && p[name.size()] == '=')
                return p.sliced(name.size() + 1);
        }
    }
    return {};
}

Balancer::Balancer(Settings settings, net::DeadlineQueue &timers, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
    , m_timers(timers)
    , m_picker(settings.policy, settings.slotCount, settings.seed)
    , m_slots(std::size_t(settings.slotCount))
    , m_pipes(std::size_t(settings.slotCount))
    , m_admission(settings.acceptRate, settings.acceptBurst)
{
    m_counters.open = std::make_unique<std::atomic<std::int64_t>[]>(std::size_t(settings.slotCount));
}

Balancer::~Balancer()
{
    for (auto &[socket, incoming] : m_incoming)
        if (incoming.timer)
            m_timers.cancel(incoming.timer);
}

bool Balancer::listen(QString *error)
{
    m_server = new QTcpServer(this);
    m_server->setListenBacklogSize(4096);
    m_server->setMaxPendingConnections(4096);
    connect(m_server, &QTcpServer::pendingConnectionAvailable, this, &Balancer::accepted);
    if (m_server->listen(QHostAddress::LocalHost, 0))
        return true;
    *error = QStringLiteral("the balancer could not listen: %1").arg(m_server->errorString());
    return false;
}

quint16 Balancer::port() const
{
    return m_server ? m_server->serverPort() : 0;
}

void Balancer::accepted()
{
    while (QTcpSocket *socket = m_server->nextPendingConnection()) {
        socket->setParent(this);
        m_counters.attempts.fetch_add(1, std::memory_order_relaxed);
        if (m_attemptTimes.size() < kAttemptLog)
            m_attemptTimes.push_back(std::chrono::steady_clock::now());
        if (m_down) {
            drop(socket, true);
            continue;
        }
        Incoming &in = m_incoming[socket];
        in.timer = m_timers.scheduleAfter(m_settings.headTimeout, [this, socket] {
            m_incoming[socket].timer = 0;
            drop(socket, false);
        });
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { readHead(socket); });
        connect(socket, &QTcpSocket::disconnected, this, [this, socket] { drop(socket, false); });
    }
}

void Balancer::readHead(QTcpSocket *socket)
{
    auto it = m_incoming.find(socket);
    if (it == m_incoming.end() || it->second.ready)
        return;
    Incoming &in = it->second;
    in.head += socket->readAll();
    if (opaqueStart(in.head) || in.head.contains(kHeadEnd)) {
        in.ready = true;
        if (in.timer)
            m_timers.cancel(std::exchange(in.timer, 0));
        if (!m_admission.admit(std::chrono::steady_clock::now())) {
            reject(socket);
            return;
        }
        if (!route(socket)) {
            m_waiting.push_back(socket);
            m_counters.waiting.store(std::int64_t(m_waiting.size()), std::memory_order_relaxed);
        }
        return;
    }
    if (in.head.size() > m_settings.maxHeadBytes) {
        socket->write("HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        drop(socket, false);
    }
}

std::vector<Candidate> Balancer::candidates() const
{
    std::vector<Candidate> c(m_slots.size());
    for (std::size_t i = 0; i < m_slots.size(); ++i)
        c[i] = {m_slots[i].accepting, m_counters.open[i].load(std::memory_order_relaxed), m_settings.cap};
    return c;
}

// True when the connection was forwarded, rejected or dropped; false when it is to wait.
bool Balancer::route(QTcpSocket *socket)
{
    const QByteArray key = cookieValue(m_incoming[socket].head, kClientCookie);
    const std::vector<Candidate> c = candidates();
    int slot = m_picker.pick(c, key);
    if (slot < 0) {
        const int need = int(m_waiting.size()) + 1;
        if (needsInstance && needsInstance(need)) {
            if (m_settings.waitWhenFull)
                return false;
            reject(socket);
            return true;
        }
        slot = m_picker.pick(c, key, true);
    }
    if (slot < 0) {
        drop(socket, true);
        return true;
    }
    if (!key.isEmpty()) {
        const auto last = m_lastSlot.constFind(key);
        if (last != m_lastSlot.cend() && *last != slot)
            m_counters.moved.fetch_add(1, std::memory_order_relaxed);
        m_lastSlot.insert(key, slot);
    }
    forward(socket, slot);
    return true;
}

void Balancer::forward(QTcpSocket *socket, int slot)
{
    Incoming in = std::move(m_incoming[socket]);
    m_incoming.erase(socket);
    disconnect(socket, nullptr, this, nullptr);
    auto *backend = new QTcpSocket(this);
    backend->connectToHost(QHostAddress::LocalHost, m_slots[std::size_t(slot)].port);
    auto *pipe = new Pipe(socket, backend, std::move(in.head), this);
    m_pipes[std::size_t(slot)].insert(pipe);
    m_counters.open[std::size_t(slot)].fetch_add(1, std::memory_order_relaxed);
    connect(pipe, &Pipe::ended, this, [this, pipe, slot] {
        m_pipes[std::size_t(slot)].erase(pipe);
        m_counters.open[std::size_t(slot)].fetch_sub(1, std::memory_order_relaxed);
        pipe->deleteLater();
        dispatchWaiting();
        if (slotIdle && openOn(slot) == 0)
            slotIdle(slot);
    }, Qt::QueuedConnection);
}

void Balancer::reject(QTcpSocket *socket)
{
    m_counters.rejected.fetch_add(1, std::memory_order_relaxed);
    if (m_rejectTimes.size() < kAttemptLog)
        m_rejectTimes.push_back(std::chrono::steady_clock::now());
    socket->write("HTTP/1.1 503 Service Unavailable\r\nRetry-After: " + QByteArray::number(qint64(m_settings.retryAfter.count()))
                  + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    drop(socket, false);
}

void Balancer::drop(QTcpSocket *socket, bool hard)
{
    if (auto it = m_incoming.find(socket); it != m_incoming.end()) {
        if (it->second.timer)
            m_timers.cancel(it->second.timer);
        m_incoming.erase(it);
    }
    std::erase(m_waiting, socket);
    m_counters.waiting.store(std::int64_t(m_waiting.size()), std::memory_order_relaxed);
    disconnect(socket, nullptr, this, nullptr);
    if (hard) {
        m_counters.reset.fetch_add(1, std::memory_order_relaxed);
        abortive(socket);
    } else {
        socket->disconnectFromHost();
    }
    socket->deleteLater();
}

void Balancer::setSlot(int slot, quint16 port, bool accepting)
{
    m_slots[std::size_t(slot)] = {port, accepting};
    if (accepting)
        dispatchWaiting();
}

void Balancer::resetSlot(int slot)
{
    const auto pipes = m_pipes[std::size_t(slot)];
    for (Pipe *pipe : pipes)
        pipe->reset();
    m_counters.reset.fetch_add(pipes.size(), std::memory_order_relaxed);
}

void Balancer::closeSlot(int slot)
{
    const auto pipes = m_pipes[std::size_t(slot)];
    for (Pipe *pipe : pipes)
        pipe->close();
}

void Balancer::setNodeDown(bool down)
{
    m_down = down;
    if (!down)
        return;
    while (!m_waiting.empty())
        drop(m_waiting.front(), true);
    std::vector<QTcpSocket *> heads;
    for (auto &[socket, in] : m_incoming)
        heads.push_back(socket);
    for (QTcpSocket *socket : heads)
        drop(socket, true);
}

void Balancer::dispatchWaiting()
{
    while (!m_waiting.empty()) {
        const std::vector<Candidate> c = candidates();
        const bool room = std::any_of(c.begin(), c.end(), [](const Candidate &x) { return x.hasRoom(); });
        if (!room && !m_down && needsInstance && needsInstance(int(m_waiting.size())))
            break;
        QTcpSocket *socket = m_waiting.front();
        m_waiting.pop_front();
        if (!route(socket)) {
            m_waiting.push_front(socket);
            break;
        }
    }
    m_counters.waiting.store(std::int64_t(m_waiting.size()), std::memory_order_relaxed);
}

} // namespace edgesse::routing
