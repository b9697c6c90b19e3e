#include "core/net/deadlinequeue.h"
#include "core/net/epolleventdispatcher.h"
#include "core/net/netthreads.h"

#include <QPointer>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include <atomic>
#include <algorithm>
#include <memory>
#include <sys/prctl.h>

using namespace std::chrono_literals;
using edgesse::net::DeadlineQueue;
using edgesse::net::EpollEventDispatcher;
using edgesse::net::NetThreads;

namespace {

// Echoes whatever arrives; lives on a worker thread.
class EchoServer final : public QTcpServer
{
public:
    explicit EchoServer(QObject *parent = nullptr)
        : QTcpServer(parent)
    {
        connect(this, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = nextPendingConnection())
                connect(socket, &QTcpSocket::readyRead, socket, [socket] { socket->write(socket->readAll()); });
        });
    }
};

} // namespace

class TestNetThreads final : public QObject
{
    Q_OBJECT

private slots:
    void defaultsToOneThreadPerCore();
    void workersRunTheEpollDispatcher();
    void createPlacesObjectOnItsThread();
    void postAndRunOn();
    void deadlineQueuePerThread();
    void echoAcrossThreads();
    void stopClosesSocketsAndJoins();
    void placedObjectsOutliveNothingTheyUse();
};

namespace {

// Stands for a link proxy or a stream: it holds timers on its thread's deadline queue
// until it is destroyed.
class QueueUser final : public QObject
{
public:
    QueueUser(DeadlineQueue *queue, std::atomic<int> *queueAliveAtDestruction)
        : m_queue(queue), m_aliveAtDestruction(queueAliveAtDestruction)
    {
        m_pending = m_queue->scheduleAfter(1h, [] {});
    }
    ~QueueUser() override
    {
        const bool alive = !m_queue.isNull();
        if (alive)
            m_queue->cancel(m_pending);
        m_aliveAtDestruction->fetch_add(alive ? 1 : 0);
    }

private:
    QPointer<DeadlineQueue> m_queue;
    std::atomic<int> *m_aliveAtDestruction;
    DeadlineQueue::Id m_pending = 0;
};

} // namespace

void TestNetThreads::defaultsToOneThreadPerCore()
{
    NetThreads pool;
    QCOMPARE(pool.count(), std::max(1, QThread::idealThreadCount()));
    NetThreads three(3);
    QCOMPARE(three.count(), 3);
    for (int i = 0; i < 3; ++i)
        QVERIFY(three.thread(i)->isRunning());
}

void TestNetThreads::workersRunTheEpollDispatcher()
{
    NetThreads pool(2);
    for (int i = 0; i < pool.count(); ++i) {
        bool epoll = false;
        unsigned long slackNs = 0;
        int index = -2;
        pool.runOn(i, [&] {
            epoll = qobject_cast<EpollEventDispatcher *>(QAbstractEventDispatcher::instance()) != nullptr;
            slackNs = static_cast<unsigned long>(::prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
            index = pool.currentIndex();
        });
        QVERIFY(epoll);
        QCOMPARE(slackNs, 1UL);
        QCOMPARE(index, i);
    }
    QCOMPARE(pool.currentIndex(), -1);
}

void TestNetThreads::createPlacesObjectOnItsThread()
{
    NetThreads pool(2);
    QObject *object = pool.create<QObject>(1, [] { return new QObject; });
    QVERIFY(object);
    QCOMPARE(object->thread(), pool.thread(1));
    QCOMPARE(object->parent(), pool.root(1));
    QCOMPARE(pool.root(1)->thread(), pool.thread(1));
}

void TestNetThreads::postAndRunOn()
{
    NetThreads pool(2);
    std::atomic<int> ran{0};
    std::atomic<bool> rightThread{true};
    for (int n = 0; n < 500; ++n) {
        pool.post(n % 2, [&, n] {
            if (QThread::currentThread() != pool.thread(n % 2))
                rightThread = false;
            ++ran;
        });
    }
    QTRY_COMPARE_WITH_TIMEOUT(ran.load(), 500, 5000);
    QVERIFY(rightThread);

    // runOn from the worker itself runs inline instead of deadlocking.
    int nested = 0;
    pool.runOn(0, [&] { pool.runOn(0, [&] { nested = 1; }); });
    QCOMPARE(nested, 1);
}

void TestNetThreads::deadlineQueuePerThread()
{
    NetThreads pool(2);
    QVERIFY(pool.deadlines(0) != pool.deadlines(1));
    QCOMPARE(pool.deadlines(0)->thread(), pool.thread(0));
    std::atomic<bool> fired{false};
    std::atomic<bool> onWorker{false};
    bool valid = false;
    pool.runOn(1, [&] {
        valid = pool.deadlines(1)->isValid();
        pool.deadlines(1)->scheduleAfter(2ms, [&] {
            onWorker = QThread::currentThread() == pool.thread(1);
            fired = true;
        });
    });
    QVERIFY(valid);
    QTRY_VERIFY_WITH_TIMEOUT(fired.load(), 2000);
    QVERIFY(onWorker);
}

void TestNetThreads::echoAcrossThreads()
{
    NetThreads pool(2);
    EchoServer *server = pool.create<EchoServer>(0, [] {
        auto *s = new EchoServer;
        s->listen(QHostAddress::LocalHost, 0);
        return s;
    });
    quint16 port = 0;
    pool.runOn(0, [&] { port = server->serverPort(); });
    QVERIFY(port != 0);

    std::atomic<qsizetype> received{0};
    const QByteArray payload(64 * 1024, 'e');
    pool.create<QTcpSocket>(1, [&] {
        auto *client = new QTcpSocket;
        connect(client, &QTcpSocket::connected, client, [client, &payload] { client->write(payload); });
        connect(client, &QTcpSocket::readyRead, client, [client, &received] { received += client->readAll().size(); });
        client->connectToHost(QHostAddress::LocalHost, port);
        return client;
    });
    QTRY_COMPARE_WITH_TIMEOUT(received.load(), payload.size(), 10000);
}

void TestNetThreads::stopClosesSocketsAndJoins()
{
    // A client on this thread sees the pool's server-side socket close at stop().
    auto pool = std::make_unique<NetThreads>(2);
    EchoServer *server = pool->create<EchoServer>(1, [] {
        auto *s = new EchoServer;
        s->listen(QHostAddress::LocalHost, 0);
        return s;
    });
    quint16 port = 0;
    pool->runOn(1, [&] { port = server->serverPort(); });
    QTcpSocket client;
    client.connectToHost(QHostAddress::LocalHost, port);
    QVERIFY(client.waitForConnected(5000));
    client.write("ping");
    QTRY_COMPARE_WITH_TIMEOUT(client.bytesAvailable(), qint64{4}, 5000);

    QPointer<QObject> root = pool->root(1);
    QSignalSpy disconnected(&client, &QTcpSocket::disconnected);
    pool->stop();
    QCOMPARE(pool->count(), 0);
    QVERIFY(root.isNull());
    QVERIFY(disconnected.count() == 1 || disconnected.wait(5000));
    pool->post(0, [] {}); // after stop: dropped with a warning, no crash
}

void TestNetThreads::placedObjectsOutliveNothingTheyUse()
{
    std::atomic<int> queueAlive{0};
    {
        NetThreads pool(2);
        for (int i = 0; i < pool.count(); ++i)
            for (int k = 0; k < 3; ++k)
                pool.create<QueueUser>(i, [&pool, &queueAlive, i] { return new QueueUser(pool.deadlines(i), &queueAlive); });
        pool.stop();
    }
    QCOMPARE(queueAlive.load(), 6);
}

QTEST_GUILESS_MAIN(TestNetThreads)
#include "tst_netthreads.moc"
