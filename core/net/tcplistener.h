#pragma once

#include "core/net/acceptbackoff.h"

#include <QHostAddress>
#include <QObject>
#include <QString>

#include <functional>

class QSocketNotifier;
class QTimer;

namespace edgesse::net {

// A listening TCP socket on a raw descriptor, watched by a QSocketNotifier (any event
// dispatcher): each accepted descriptor (non-blocking, close-on-exec) goes to the callback,
// at most 64 a wake-up. Out of descriptors or memory it pauses (AcceptBackoff) instead of
// spinning, and says so once per episode through `paused`. Lives in one thread.
class TcpListener final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TcpListener)

public:
    using Accepted = std::function<void(int descriptor)>;
    // `reason`: AcceptBackoff::describe() of the error.
    using Paused = std::function<void(const QString &reason)>;

    TcpListener(Accepted accepted, Paused paused, QObject *parent = nullptr);
    ~TcpListener() override;

    // False with errorString() when the address cannot be bound or listened on.
    bool listen(const QHostAddress &address, quint16 port, int backlog);
    void close();
    bool isListening() const { return m_fd >= 0; }
    quint16 port() const { return m_port; }
    QString errorString() const { return m_error; }

private:
    void onReadable();

    Accepted m_accepted;
    Paused m_paused;
    AcceptBackoff m_backoff;
    QSocketNotifier *m_notifier = nullptr;
    QTimer *m_resume = nullptr;
    int m_fd = -1;
    quint16 m_port = 0;
    QString m_error;
};

} // namespace edgesse::net
