// UdpLink: datagrams through the link's stages, checked against what the settings imply.

#include "core/link/udplink.h"
#include "core/net/deadlinequeue.h"
#include "core/quic/udpsocket.h"

#include <QtTest>

#include <chrono>
#include <vector>

using namespace edgesse;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// A target that echoes every datagram back to its sender.
struct Echo {
    quic::UdpSocket socket;
    std::uint64_t received = 0;
    Echo()
    {
        QString error;
        socket.bind(QHostAddress(QHostAddress::LocalHost), 0, &error);
        socket.setReceiver([this](const quic::SocketAddress &from, const std::uint8_t *data, std::size_t size) {
            ++received;
            socket.sendTo(from, data, size);
        });
    }
};

struct Client {
    quic::UdpSocket socket;
    std::vector<Clock::time_point> arrivals;
    explicit Client(quint16 port)
    {
        QString error;
        socket.connectTo(quic::SocketAddress::from(QHostAddress(QHostAddress::LocalHost), port),
                         QHostAddress(QHostAddress::LocalHost), &error);
        socket.setReceiver([this](const quic::SocketAddress &, const std::uint8_t *, std::size_t) {
            arrivals.push_back(Clock::now());
        });
    }
    void send(std::size_t bytes)
    {
        const std::vector<std::uint8_t> payload(bytes, 0x42);
        socket.send(payload.data(), payload.size());
    }
};

} // namespace

class TestUdpLink final : public QObject
{
    Q_OBJECT

private slots:
    void roundTripIsTwiceTheLatency();
    void randomLossDropsItsShare();
    void bandwidthPacesDatagrams();
    void idleBindingIsForgotten();
    void outageDropsEverything();
};

void TestUdpLink::roundTripIsTwiceTheLatency()
{
    net::DeadlineQueue deadlines;
    Echo echo;
    link::LinkSettings settings;
    settings.latency = 20ms; // each way through the link, twice: client -> echo -> client
    link::UdpLink udp(settings, QHostAddress(QHostAddress::LocalHost), echo.socket.port(), deadlines);
    QVERIFY2(udp.listen(), qPrintable(udp.errorString()));
    Client client(udp.port());
    const auto sent = Clock::now();
    client.send(100);
    QTRY_COMPARE(client.arrivals.size(), std::size_t(1));
    const auto rtt = client.arrivals.front() - sent;
    QVERIFY2(rtt >= 40ms && rtt < 80ms, qPrintable(QString::number(std::chrono::duration<double, std::milli>(rtt).count())));
    const link::Counters c = udp.snapshot();
    QCOMPARE(c.upstream.segments, std::uint64_t(1));
    QCOMPARE(c.downstream.segments, std::uint64_t(1));
    QCOMPARE(c.connectionsOpen, std::uint64_t(1));
    QCOMPARE(c.datagramsDropped, std::uint64_t(0));
}

void TestUdpLink::randomLossDropsItsShare()
{
    net::DeadlineQueue deadlines;
    Echo echo;
    link::LinkSettings settings;
    settings.lossProbability = 0.1;
    settings.seed = 7;
    link::UdpLink udp(settings, QHostAddress(QHostAddress::LocalHost), echo.socket.port(), deadlines);
    QVERIFY(udp.listen());
    Client client(udp.port());
    constexpr int kSent = 2000;
    for (int i = 0; i < kSent; ++i) {
        client.send(200);
        if (i % 50 == 49)
            QTest::qWait(2); // within the sockets' buffers
    }
    // Every datagram is accounted for once nothing is in flight: arrived back, or dropped.
    QTRY_COMPARE(udp.snapshot().datagramsDropped + client.arrivals.size(), std::uint64_t(kSent));
    const link::Counters c = udp.snapshot();
    // Two independent chances to lose each: 1 - 0.9^2 = 19% expected lost on the round trip.
    QCOMPARE(c.upstream.segments, std::uint64_t(echo.received));
    QCOMPARE(std::uint64_t(client.arrivals.size()), c.downstream.segments);
    const double lost = 1.0 - double(client.arrivals.size()) / kSent;
    QVERIFY2(lost > 0.19 - 0.03 && lost < 0.19 + 0.03, qPrintable(QString::number(lost)));
    // Every drop was the loss model's: what went up and never came back.
    QCOMPARE(c.datagramsLost, c.datagramsDropped);
    QCOMPARE(c.datagramsLost, std::uint64_t(kSent) - std::uint64_t(client.arrivals.size()));
}

void TestUdpLink::bandwidthPacesDatagrams()
{
    net::DeadlineQueue deadlines;
    Echo echo;
    link::LinkSettings settings;
    settings.bandwidthBitsPerSecond = 1'000'000;
    link::UdpLink udp(settings, QHostAddress(QHostAddress::LocalHost), echo.socket.port(), deadlines);
    QVERIFY(udp.listen());
    Client client(udp.port());
    // 40 datagrams of 1222 + 28 header bytes = 400,000 bits: 0.4 s on the line each way, the
    // two ways overlapping but for one datagram; the bucket starts full with its depth of
    // 1,500 bytes (a millisecond of this line is less than one datagram).
    const auto start = Clock::now();
    for (int i = 0; i < 40; ++i)
        client.send(1222);
    QTRY_COMPARE_WITH_TIMEOUT(client.arrivals.size(), std::size_t(40), 5000);
    const double seconds = std::chrono::duration<double>(client.arrivals.back() - start).count();
    const double expected = 40 * 1250 * 8 / 1e6 - 1500 * 8 / 1e6 /* the bucket's first burst */ + 1250 * 8 / 1e6;
    QVERIFY2(seconds >= expected - 0.01 && seconds < expected + 0.1, qPrintable(QString::number(seconds)));
}

void TestUdpLink::idleBindingIsForgotten()
{
    net::DeadlineQueue deadlines;
    Echo echo;
    link::LinkSettings settings;
    settings.idleTimeout = 150ms;
    link::UdpLink udp(settings, QHostAddress(QHostAddress::LocalHost), echo.socket.port(), deadlines);
    QVERIFY(udp.listen());
    Client client(udp.port());
    client.send(10);
    QTRY_COMPARE(client.arrivals.size(), std::size_t(1));
    QCOMPARE(udp.bindings(), std::size_t(1));
    QTRY_COMPARE_WITH_TIMEOUT(udp.bindings(), std::size_t(0), 2000);
    const link::Counters c = udp.snapshot();
    QCOMPARE(c.reaped(link::ReapCause::IdleTimeout), std::uint64_t(1));
    client.send(10); // a new binding, from a new port on the target's side
    QTRY_COMPARE(client.arrivals.size(), std::size_t(2));
    QCOMPARE(udp.snapshot().connectionsTotal, std::uint64_t(2));
}

void TestUdpLink::outageDropsEverything()
{
    net::DeadlineQueue deadlines;
    Echo echo;
    link::LinkSettings settings;
    link::UdpLink udp(settings, QHostAddress(QHostAddress::LocalHost), echo.socket.port(), deadlines);
    QVERIFY(udp.listen());
    Client client(udp.port());
    udp.scheduleOutage(0us, 300ms);
    QTest::qWait(50);
    for (int i = 0; i < 10; ++i)
        client.send(10);
    QTest::qWait(100);
    QCOMPARE(client.arrivals.size(), std::size_t(0));
    QCOMPARE(udp.snapshot().datagramsDropped, std::uint64_t(10));
    QCOMPARE(udp.snapshot().datagramsLost, std::uint64_t(0)); // the outage's, not the loss model's
    QTRY_VERIFY_WITH_TIMEOUT(!udp.isDown(), 2000);
    client.send(10);
    QTRY_COMPARE(client.arrivals.size(), std::size_t(1));
}

QTEST_GUILESS_MAIN(TestUdpLink)
#include "tst_udplink.moc"
