#pragma once

#include <QByteArray>
#include <QObject>

#include <functional>

class QTcpSocket;

namespace edgesse::routing {

// Two connected sockets copying bytes both ways, each direction holding at most kHighWater
// bytes unwritten before it stops reading (TCP back-pressure reaches the sender). A FIN on
// one side is passed on once its bytes are written; when both sides are closed, ended()
// fires once. Lives on the thread of its sockets; owns both.
class Pipe final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Pipe)

public:
    static constexpr qint64 kHighWater = 256 * 1024;

    // `client` is connected; `backend` is connecting (or connected). `pending`: client bytes
    // read before the pipe existed, written to the backend first.
    Pipe(QTcpSocket *client, QTcpSocket *backend, QByteArray pending, QObject *parent = nullptr);
    ~Pipe() override;

    // Ends both sides with a reset (RST), as a crashed host does.
    void reset();
    // Ends both sides cleanly (FIN after what is queued).
    void close();
    bool isEnded() const { return m_ended; }

signals:
    void ended();

private:
    void pump(QTcpSocket *from, QTcpSocket *to);
    void sideClosed();
    void finish();

    QTcpSocket *m_client;
    QTcpSocket *m_backend;
    QByteArray m_pending;
    bool m_backendUp = false;
    bool m_ended = false;
};

// Sends a RST instead of a FIN when `socket` is closed, then closes it.
void abortive(QTcpSocket *socket);

} // namespace edgesse::routing
