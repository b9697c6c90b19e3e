// Memory bounds a peer cannot push past: the replay buffer's byte bound with nobody
// connected, and readers that never read (HTTP/2 with a zero window, HTTP/1.1 that never
// calls recv) asking for the whole replay. Resident memory is read from /proc/self/status;
// under AddressSanitizer, the heap the program holds (tests/support/sanitizers.h).
#include "core/sse/sseserver.h"
#include "tests/support/h2frames.h"
#include "tests/support/loopback.h"
#include "tests/support/sanitizers.h"

#include <QTest>
#include <QThread>

#include <chrono>
#include <vector>

using namespace std::chrono_literals;
using namespace edgesse;
using testing::programMemoryBytes;

namespace {

constexpr qint64 kMiB = 1024 * 1024;

sse::PublishedEvent makeEvent(std::uint64_t seq, const QByteArray &data)
{
    sse::PublishedEvent e;
    e.seq = seq;
    e.publishedAt = std::chrono::steady_clock::now();
    e.event.id = QByteArray::number(static_cast<qulonglong>(seq));
    e.event.data = data;
    return e;
}

// Publishes `count` events after `from` from this thread into a server on another one, and
// waits until the server has written them.
bool publishAndWait(sse::SseServer &server, std::uint64_t from, int count, const QByteArray &data)
{
    const qint64 target = server.stats().eventsPublished + count;
    for (int i = 1; i <= count; ++i)
        server.publish(makeEvent(from + std::uint64_t(i), data));
    QElapsedTimer t;
    t.start();
    while (server.stats().eventsPublished < target && t.elapsed() < 20'000)
        QThread::msleep(5);
    return server.stats().eventsPublished >= target;
}

struct Sockets {
    std::vector<int> fds;
    ~Sockets()
    {
        for (int fd : fds)
            ::close(fd);
    }
};

} // namespace

class TestMemoryBounds final : public QObject
{
    Q_OBJECT

private slots:
    void replayWithNoClientStaysWithinItsByteBound();
    void http2StreamsWithAZeroWindowShareTheReplay();
    void http1ReadersThatNeverReadShareTheReplay();
};

void TestMemoryBounds::replayWithNoClientStaysWithinItsByteBound()
{
    // replay: 1,000,000 (the most a scenario may ask) of 4 KB events, published as fast as the
    // server takes them with nobody connected: memory grows to the byte bound, no further.
    constexpr qint64 kSlack = 32 * kMiB; // allocator and Qt; the bound itself is 64 MiB
    sse::ServerSettings settings;
    settings.replayCapacity = 1'000'000;
    sse::SseServer server(settings);
    QVERIFY(server.start(QThread::currentThread()));
    const qint64 bound = settings.replayMaxBytes;
    const QByteArray payload(4096, 'p');
    const qint64 before = programMemoryBytes();
    qint64 growth = 0;
    std::uint64_t seq = 0;
    while (qint64(seq) * payload.size() < 4 * bound) {
        server.publish(makeEvent(++seq, payload));
        if (seq % 1000 == 0) {
            growth = std::max(growth, programMemoryBytes() - before);
            if (growth > bound + kSlack)
                break; // no byte bound: stop before it hurts the machine
        }
    }
    qInfo("replay of 4 KB events, no client: grew by %lld KiB after %llu events (bound %lld KiB + %lld KiB slack)", growth / 1024,
          qulonglong(seq), bound / 1024, kSlack / 1024);
    QVERIFY2(growth <= bound + kSlack, qPrintable(QStringLiteral("grew by %1 MiB after %2 events of 4 KB").arg(growth / kMiB).arg(seq)));
    const sse::ServerStats stats = server.stats();
    QVERIFY(stats.replayBytes <= bound);
    // Held: as many as fit, each costing its encoded size (id line, data line) plus 64 bytes.
    const qint64 encoded = 4 + 6 + 6 + payload.size() + 2; // "id: N\n" with 6 digits, "data: ...\n", "\n"
    QVERIFY(qAbs(stats.replayEvents - bound / (encoded + 64)) < 50);
}

void TestMemoryBounds::http2StreamsWithAZeroWindowShareTheReplay()
{
    // 10 connections × 100 streams, each announcing a zero receive window and asking for the
    // whole replay (Last-Event-ID: 0) of 1,000 events of 256 bytes. A private copy per
    // stream would be 1,000 × 270 KB; a shared replay costs at most a 16 KB piece each.
    constexpr qint64 kBound = 48 * kMiB;
    sse::SseServer server(sse::ServerSettings{});
    QVERIFY(server.start());
    const QByteArray payload(256, 'q');
    QVERIFY(publishAndWait(server, 0, 1000, payload));
    const qint64 before = programMemoryBytes();
    Sockets peers;
    for (int c = 0; c < 10; ++c) {
        const int fd = testing::connectLoopback(server.port());
        QVERIFY(fd >= 0);
        peers.fds.push_back(fd);
        QByteArray out = testing::kH2Preface + testing::h2InitialWindow(0);
        for (quint32 s = 0; s < 100; ++s)
            out += testing::h2Get(2 * s + 1, "/events", "0");
        QCOMPARE(::write(fd, out.constData(), size_t(out.size())), ssize_t(out.size()));
    }
    QTRY_COMPARE_WITH_TIMEOUT(server.stats().streamsOpen, qint64{1000}, 30'000);
    const qint64 growth = programMemoryBytes() - before;
    qInfo("10 x 100 zero-window HTTP/2 streams replaying 1000 events: grew by %lld KiB (bound %lld KiB)", growth / 1024, kBound / 1024);
    QVERIFY2(growth < kBound, qPrintable(QStringLiteral("grew by %1 MiB").arg(growth / kMiB)));
    QCOMPARE(server.stats().slowConsumersDropped, qint64{0});

    // The buffer turns over: no stream can have its next event any more. Each is dropped as
    // a slow consumer; nothing beyond the zero window was sent.
    QVERIFY(publishAndWait(server, 1000, 1001, payload));
    QTRY_COMPARE_WITH_TIMEOUT(server.stats().streamsOpen, qint64{0}, 20'000);
    QCOMPARE(server.stats().slowConsumersDropped, qint64{1000});
    QVERIFY(server.stats().bytesSent < 1 * kMiB);
    QTRY_COMPARE_WITH_TIMEOUT(server.stats().bytesQueued, qint64{0}, 5000);
}

void TestMemoryBounds::http1ReadersThatNeverReadShareTheReplay()
{
    // 20 HTTP/1.1 readers that never call recv ask for a replay of 1,000 events of 16 KB,
    // more than the kernel holds for them: what it does not take stays with the server, a
    // piece or two of 16 KB each rather than a 16 MB copy each.
    constexpr int kReaders = 20;
    constexpr qint64 kBound = 24 * kMiB;
    sse::SseServer server(sse::ServerSettings{});
    QVERIFY(server.start());
    const QByteArray payload(16 * 1024, 'r');
    QVERIFY(publishAndWait(server, 0, 1000, payload));
    const qint64 before = programMemoryBytes();
    Sockets peers;
    const QByteArray request("GET /events HTTP/1.1\r\nHost: a\r\nLast-Event-ID: 0\r\n\r\n");
    for (int c = 0; c < kReaders; ++c) {
        const int fd = testing::connectLoopback(server.port());
        QVERIFY(fd >= 0);
        peers.fds.push_back(fd);
        QCOMPARE(::write(fd, request.constData(), size_t(request.size())), ssize_t(request.size()));
    }
    QTRY_COMPARE_WITH_TIMEOUT(server.stats().streamsOpen, qint64{kReaders}, 30'000);
    QTRY_VERIFY_WITH_TIMEOUT(server.stats().bytesQueued > 0, 10'000); // the kernel took what it could
    QTest::qWait(200);
    const qint64 growth = programMemoryBytes() - before;
    qInfo("%d HTTP/1.1 readers that never read, replaying 16 MB: grew by %lld KiB, %lld KiB queued (bound %lld KiB)", kReaders,
          growth / 1024, server.stats().bytesQueued / 1024, kBound / 1024);
    QVERIFY2(growth < kBound, qPrintable(QStringLiteral("grew by %1 MiB").arg(growth / kMiB)));
    QVERIFY(server.stats().bytesQueued <= kReaders * 3 * 16 * 1024);

    // The buffer turns over: each reader is dropped as a slow consumer, its connection closed.
    QVERIFY(publishAndWait(server, 1000, 1001, payload));
    QTRY_COMPARE_WITH_TIMEOUT(server.stats().streamsOpen, qint64{0}, 20'000);
    QCOMPARE(server.stats().slowConsumersDropped, qint64{kReaders});
    QTRY_COMPARE_WITH_TIMEOUT(server.stats().connectionsOpen, qint64{0}, 5000);
}

QTEST_GUILESS_MAIN(TestMemoryBounds)
#include "tst_memorybounds.moc"
