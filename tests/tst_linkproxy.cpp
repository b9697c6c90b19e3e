#include "core/link/jitter.h"
#include "core/link/linkproxy.h"
#include "core/net/deadlinequeue.h"
#include "tests/support/loopback.h"

#include <QDir>
#include <QEventLoop>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include <sys/socket.h>
#include <unistd.h>

using namespace std::chrono_literals;
using edgesse::link::BandwidthSharing;
using edgesse::link::Counters;
using edgesse::link::Direction;
using edgesse::link::JitterDistribution;
using edgesse::link::JitterSampler;
using edgesse::link::LinkProxy;
using edgesse::link::LinkSettings;
using edgesse::link::LossRecovery;
using edgesse::link::ReapCause;
using edgesse::net::DeadlineQueue;
using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

namespace {

double msBetween(TimePoint from, TimePoint to)
{
    return std::chrono::duration<double, std::milli>(to - from).count();
}

// Runs the event loop (not QTest::qWait, which sleeps between passes and would distort
// microsecond timing) until `done` or the timeout.
bool waitFor(const std::function<bool()> &done, int timeoutMs)
{
    if (done())
        return true;
    QEventLoop loop;
    QTimer poll;
    poll.setInterval(1);
    QObject::connect(&poll, &QTimer::timeout, &loop, [&] {
        if (done())
            loop.quit();
    });
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    poll.start();
    loop.exec();
    return done();
}

int openDescriptors()
{
    return static_cast<int>(QDir(QStringLiteral("/proc/self/fd")).entryList(QDir::Files | QDir::System).size());
}

// The link's target: records when each byte arrived; optionally echoes.
class Target
{
public:
    explicit Target(bool echo = false)
        : m_echo(echo)
    {
        m_server.listen(QHostAddress::LocalHost, 0);
        QObject::connect(&m_server, &QTcpServer::newConnection, &m_server, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection()) {
                ++accepted;
                acceptedAt.push_back(Clock::now());
                sockets.push_back(socket);
                QObject::connect(socket, &QTcpSocket::readyRead, socket, [this, socket] {
                    const TimePoint now = Clock::now();
                    const QByteArray data = socket->readAll();
                    received += data;
                    arrivals.push_back({now, received.size()});
                    if (m_echo)
                        socket->write(data);
                });
                QObject::connect(socket, &QTcpSocket::disconnected, socket, [this, socket] {
                    ++disconnected;
                    sockets.erase(std::remove(sockets.begin(), sockets.end(), socket), sockets.end());
                    socket->deleteLater();
                });
            }
        });
    }

    quint16 port() const { return m_server.serverPort(); }
    // When the byte at `index` of everything received arrived.
    TimePoint arrivalOf(qsizetype index) const
    {
        for (const auto &[when, total] : arrivals)
            if (total > index)
                return when;
        return {};
    }

    int accepted = 0;
    int disconnected = 0;
    std::vector<TimePoint> acceptedAt;
    std::vector<QTcpSocket *> sockets;
    QByteArray received;
    std::vector<std::pair<TimePoint, qsizetype>> arrivals;

private:
    QTcpServer m_server;
    bool m_echo = false;
};

LinkSettings withLatency(std::chrono::microseconds latency)
{
    LinkSettings settings;
    settings.latency = latency;
    return settings;
}

// Sends `count` messages of `size` bytes `spacing` apart through the link; returns each
// message's one-way delay in ms.
std::vector<double> messageDelays(Target &target, quint16 port, int count, int size, std::chrono::milliseconds spacing,
                                  std::chrono::milliseconds settle = 50ms)
{
    QTcpSocket client;
    client.connectToHost(QHostAddress::LocalHost, port);
    if (!client.waitForConnected(2000))
        return {};
    // Past the handshake, so only the one-way delay is measured.
    waitFor([] { return false; }, static_cast<int>(settle.count()));
    std::vector<TimePoint> sentAt;
    const qsizetype base = target.received.size();
    for (int i = 0; i < count; ++i) {
        sentAt.push_back(Clock::now());
        client.write(QByteArray(size, static_cast<char>('a' + i % 26)));
        client.flush();
        const TimePoint next = sentAt.back() + spacing;
        waitFor([&] { return Clock::now() >= next; }, static_cast<int>(spacing.count()) + 50);
    }
    if (!waitFor([&] { return target.received.size() >= base + qsizetype{count} * size; }, 5000))
        return {};
    std::vector<double> delays;
    for (int i = 0; i < count; ++i)
        delays.push_back(msBetween(sentAt[static_cast<std::size_t>(i)], target.arrivalOf(base + qsizetype{i} * size)));
    return delays;
}

} // namespace

class TestLinkProxy final : public QObject
{
    Q_OBJECT

private slots:
    void rejectsInvalidSettings_data();
    void rejectsInvalidSettings();
    void forwardsBothWaysIntact();
    void handshakeDelay_data();
    void handshakeDelay();
    void connectTakesOneRoundTrip_data();
    void connectTakesOneRoundTrip();
    void oneWayLatency_data();
    void oneWayLatency();
    void jitterSamplerBoundsAndSeeds_data();
    void jitterSamplerBoundsAndSeeds();
    void jitterWithinBounds_data();
    void jitterWithinBounds();
    void jitterReproducibleForSeed();
    void neverReorders();
    void bandwidthPaces();
    void bandwidthShared_data();
    void bandwidthShared();
    void recordsIntendedReleases();
    void lossRateCloseToConfigured();
    void lossHoldsLaterBytes();
    void idleTimeoutReaps();
    void heartbeatPreventsIdleReap();
    void maxDurationReaps();
    void downRefusesAndResetsThenUpAccepts();
    void scheduledOutage();
    void halfClosePropagatesAfterPendingBytes_data();
    void halfClosePropagatesAfterPendingBytes();
    void refusedTargetResetsClient();
    void backpressureBoundsBuffering();
    void descriptorsReleasedAfterStress_data();
    void descriptorsReleasedAfterStress();
    void countersReadableFromAnotherThread();
};

void TestLinkProxy::rejectsInvalidSettings_data()
{
    QTest::addColumn<int>("latencyUs");
    QTest::addColumn<double>("loss");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("negative latency") << -5 << 0.0 << QStringLiteral("latency");
    QTest::newRow("loss above one") << 1000 << 1.5 << QStringLiteral("loss");
}

void TestLinkProxy::rejectsInvalidSettings()
{
    QFETCH(int, latencyUs);
    QFETCH(double, loss);
    QFETCH(QString, mentions);
    DeadlineQueue queue;
    LinkSettings settings = withLatency(std::chrono::microseconds{latencyUs});
    settings.lossProbability = loss;
    LinkProxy proxy(settings, QHostAddress::LocalHost, 1, queue);
    QVERIFY(!proxy.listen());
    QVERIFY2(proxy.errorString().contains(mentions), qPrintable(proxy.errorString()));
    QVERIFY(!proxy.isListening());
}

void TestLinkProxy::forwardsBothWaysIntact()
{
    DeadlineQueue queue;
    Target target(true);
    LinkProxy proxy(LinkSettings{}, QHostAddress::LocalHost, target.port(), queue);
    QVERIFY2(proxy.listen(), qPrintable(proxy.errorString()));
    QVERIFY(proxy.port() != 0);

    QByteArray payload(2 * 1024 * 1024, Qt::Uninitialized);
    for (qsizetype i = 0; i < payload.size(); ++i)
        payload[i] = static_cast<char>((i * 131) ^ (i >> 9));
    QTcpSocket client;
    QByteArray echoed;
    connect(&client, &QTcpSocket::readyRead, &client, [&] { echoed += client.readAll(); });
    client.connectToHost(QHostAddress::LocalHost, proxy.port());
    client.write(payload);
    QVERIFY(waitFor([&] { return echoed.size() >= payload.size(); }, 10000));
    QCOMPARE(echoed, payload);
    const Counters counters = proxy.snapshot();
    QCOMPARE(counters.upstream.bytes, std::uint64_t(payload.size()));
    QCOMPARE(counters.downstream.bytes, std::uint64_t(payload.size()));
    QCOMPARE(counters.connectionsOpen, std::uint64_t{1});
    QCOMPARE(counters.connectionsTotal, std::uint64_t{1});
}

void TestLinkProxy::handshakeDelay_data()
{
    QTest::addColumn<bool>("tls");
    QTest::addColumn<double>("roundTrips");
    QTest::newRow("tcp: 2 RTT to first response byte") << false << 2.0;
    QTest::newRow("tls: 3 RTT to first response byte") << true << 3.0;
}

void TestLinkProxy::handshakeDelay()
{
    QFETCH(bool, tls);
    QFETCH(double, roundTrips);
    DeadlineQueue queue;
    Target target(true);
    LinkSettings settings = withLatency(20ms);
    settings.tls = tls;
    LinkProxy proxy(settings, QHostAddress::LocalHost, target.port(), queue);
    QVERIFY(proxy.listen());

    QTcpSocket client;
    TimePoint firstByte{};
    connect(&client, &QTcpSocket::readyRead, &client, [&] {
        if (firstByte == TimePoint{})
            firstByte = Clock::now();
    });
    const TimePoint start = Clock::now();
    client.connectToHost(QHostAddress::LocalHost, proxy.port());
    client.write("GET / HTTP/1.1\r\n\r\n");
    QVERIFY(waitFor([&] { return firstByte != TimePoint{}; }, 3000));

    const double rtt = 40.0;
    const double requestAt = msBetween(start, target.arrivalOf(0));
    const double responseAt = msBetween(start, firstByte);
    qInfo("request reached the target after %.2f ms, first response byte after %.2f ms", requestAt, responseAt);
    QVERIFY2(requestAt >= (roundTrips - 0.5) * rtt - 0.5, "request reached the target too early");
    QVERIFY2(requestAt < (roundTrips - 0.5) * rtt + 30, "request reached the target far too late");
    QVERIFY2(responseAt >= roundTrips * rtt - 0.5, "response came back too early");
    QVERIFY2(responseAt < roundTrips * rtt + 30, "response came back far too late");
}

void TestLinkProxy::connectTakesOneRoundTrip_data()
{
    QTest::addColumn<int>("latencyMs");
    QTest::newRow("rtt 10 ms") << 5;
    QTest::newRow("rtt 50 ms") << 25;
    QTest::newRow("rtt 200 ms") << 100;
}

void TestLinkProxy::connectTakesOneRoundTrip()
{
    QFETCH(int, latencyMs);
    const std::chrono::milliseconds latency(latencyMs);
    DeadlineQueue queue;
    Target target(true);
    LinkProxy proxy(withLatency(latency), QHostAddress::LocalHost, target.port(), queue);
    QVERIFY(proxy.listen());
    if (proxy.connectTiming() != edgesse::link::ConnectTiming::HeldSyn)
        QSKIP(qPrintable(QStringLiteral("connect() returns at once here: %1. Run as root (NFQUEUE) to test it.")
                             .arg(proxy.connectNote())));
    QVERIFY(proxy.connectNote().isEmpty());

    const double rtt = 2.0 * static_cast<double>(latency.count());
    for (int i = 0; i < 3; ++i) {
        QTcpSocket client;
        TimePoint connected{};
        TimePoint firstByte{};
        connect(&client, &QTcpSocket::connected, &client, [&] {
            connected = Clock::now();
            client.write("GET / HTTP/1.1\r\n\r\n");
        });
        connect(&client, &QTcpSocket::readyRead, &client, [&] {
            if (firstByte == TimePoint{})
                firstByte = Clock::now();
        });
        const TimePoint start = Clock::now();
        client.connectToHost(QHostAddress::LocalHost, proxy.port());
        QVERIFY(waitFor([&] { return firstByte != TimePoint{}; }, 5000));
        const double connectMs = msBetween(start, connected);
        const double firstByteMs = msBetween(start, firstByte);
        qInfo("rtt %.0f ms: connected after %.2f ms, first response byte after %.2f ms", rtt, connectMs, firstByteMs);
        const double tolerance = std::max(0.15 * rtt, 3.0);
        QVERIFY2(std::abs(connectMs - rtt) <= tolerance, qPrintable(QString::number(connectMs)));
        // The round trip is not charged again to the request: one more RTT, never less.
        QVERIFY2(firstByteMs >= 2 * rtt - 0.5, qPrintable(QString::number(firstByteMs)));
        QVERIFY2(firstByteMs < 2 * rtt + 30, qPrintable(QString::number(firstByteMs)));
    }
}

void TestLinkProxy::oneWayLatency_data()
{
    QTest::addColumn<int>("latencyMs");
    QTest::newRow("5 ms") << 5;
    QTest::newRow("30 ms") << 30;
}

void TestLinkProxy::oneWayLatency()
{
    QFETCH(int, latencyMs);
    DeadlineQueue queue;
    Target target;
    LinkProxy proxy(withLatency(std::chrono::milliseconds{latencyMs}), QHostAddress::LocalHost, target.port(), queue);
    QVERIFY(proxy.listen());
    const std::vector<double> delays = messageDelays(target, proxy.port(), 10, 100, 20ms, std::chrono::milliseconds{4 * latencyMs + 20});
    QCOMPARE(delays.size(), std::size_t{10});
    for (double delay : delays) {
        QVERIFY2(delay >= latencyMs - 0.05, qPrintable(QStringLiteral("delay %1 ms below the latency").arg(delay)));
        QVERIFY2(delay < latencyMs + 15, qPrintable(QStringLiteral("delay %1 ms far above the latency").arg(delay)));
    }
}

void TestLinkProxy::jitterSamplerBoundsAndSeeds_data()
{
    QTest::addColumn<JitterDistribution>("distribution");
    QTest::addColumn<double>("expectedMeanMs");
    QTest::newRow("uniform") << JitterDistribution::Uniform << 0.0;
    QTest::newRow("normal") << JitterDistribution::Normal << 0.0;
    QTest::newRow("pareto") << JitterDistribution::Pareto << 2.0 * 10.0 / 11.0; // E[min(X - 1, 10)], X ~ Pareto(1, 2)
}

void TestLinkProxy::jitterSamplerBoundsAndSeeds()
{
    QFETCH(JitterDistribution, distribution);
    QFETCH(double, expectedMeanMs);
    JitterSampler a(distribution, 2ms, 42);
    JitterSampler b(distribution, 2ms, 42);
    JitterSampler c(distribution, 2ms, 43);
    double sum = 0;
    int differing = 0;
    std::chrono::nanoseconds low = std::chrono::nanoseconds::max();
    std::chrono::nanoseconds high = std::chrono::nanoseconds::min();
    constexpr int kSamples = 100000;
    for (int i = 0; i < kSamples; ++i) {
        const auto x = a.next();
        QCOMPARE(b.next(), x);
        if (c.next() != x)
            ++differing;
        QVERIFY(x >= a.lowest() && x <= a.highest());
        low = std::min(low, x);
        high = std::max(high, x);
        sum += std::chrono::duration<double, std::milli>(x).count();
    }
    QVERIFY(differing > kSamples * 9 / 10);
    QVERIFY(std::abs(sum / kSamples - expectedMeanMs) < 0.1);
    // The distribution uses its range, not a sliver of it.
    QVERIFY(high - low > 3ms);
}

void TestLinkProxy::jitterWithinBounds_data()
{
    jitterSamplerBoundsAndSeeds_data();
}

void TestLinkProxy::jitterWithinBounds()
{
    QFETCH(JitterDistribution, distribution);
    DeadlineQueue queue;
    Target target;
    LinkSettings settings = withLatency(10ms);
    settings.jitter = 4ms;
    settings.distribution = distribution;
    settings.seed = 7;
    LinkProxy proxy(settings, QHostAddress::LocalHost, target.port(), queue);
    QVERIFY(proxy.listen());
    const std::vector<double> delays = messageDelays(target, proxy.port(), 25, 64, 25ms, 60ms);
    QCOMPARE(delays.size(), std::size_t{25});
    const JitterSampler bounds(distribution, settings.jitter, 0);
    const double lowest = 10.0 + std::chrono::duration<double, std::milli>(bounds.lowest()).count();
    const double highest = 10.0 + std::chrono::duration<double, std::milli>(bounds.highest()).count();
    for (double delay : delays) {
        QVERIFY2(delay >= lowest - 0.05, qPrintable(QStringLiteral("delay %1 ms below %2 ms").arg(delay).arg(lowest)));
        QVERIFY2(delay < highest + 15, qPrintable(QStringLiteral("delay %1 ms far above %2 ms").arg(delay).arg(highest)));
    }
    const auto [minDelay, maxDelay] = std::minmax_element(delays.begin(), delays.end());
    QVERIFY2(*maxDelay - *minDelay > 1.0, "no jitter visible");
}

void TestLinkProxy::jitterReproducibleForSeed()
{
    // Three links side by side: two with one seed, one with another.
    DeadlineQueue queue;
    LinkSettings settings = withLatency(5ms);
    settings.jitter = 20ms;
    std::vector<std::unique_ptr<Target>> targets;
    std::vector<std::unique_ptr<LinkProxy>> proxies;
    std::vector<std::unique_ptr<QTcpSocket>> clients;
    for (std::uint64_t seed : {11u, 11u, 12u}) {
        settings.seed = seed;
        targets.push_back(std::make_unique<Target>());
        proxies.push_back(std::make_unique<LinkProxy>(settings, QHostAddress::LocalHost, targets.back()->port(), queue));
        QVERIFY(proxies.back()->listen());
        clients.push_back(std::make_unique<QTcpSocket>());
        clients.back()->connectToHost(QHostAddress::LocalHost, proxies.back()->port());
        QVERIFY(clients.back()->waitForConnected(2000));
    }
    waitFor([] { return false; }, 30);
    constexpr int kMessages = 12;
    std::vector<TimePoint> sentAt;
    for (int i = 0; i < kMessages; ++i) {
        sentAt.push_back(Clock::now());
        for (auto &client : clients) {
            client->write("m");
            client->flush();
        }
        const TimePoint next = sentAt.back() + 60ms;
        waitFor([&] { return Clock::now() >= next; }, 200);
    }
    QVERIFY(waitFor([&] {
        return std::all_of(targets.begin(), targets.end(), [](const auto &t) { return t->received.size() >= kMessages; });
    }, 3000));
    int sameSeedClose = 0;
    int otherSeedFar = 0;
    for (int i = 0; i < kMessages; ++i) {
        const auto delay = [&](int link) { return msBetween(sentAt[std::size_t(i)], targets[std::size_t(link)]->arrivalOf(i)); };
        if (std::abs(delay(0) - delay(1)) < 3.0)
            ++sameSeedClose;
        if (std::abs(delay(0) - delay(2)) > 3.0)
            ++otherSeedFar;
    }
    qInfo("same seed: %d of %d delays within 3 ms; other seed: %d differ by more", sameSeedClose, kMessages, otherSeedFar);
    QVERIFY(sameSeedClose >= kMessages - 1);
    QVERIFY(otherSeedFar >= kMessages / 2);
}

void TestLinkProxy::neverReorders()
{
    // Jitter far larger than the spacing of writes: without the no-reordering rule, later
    // writes would overtake earlier ones.
    DeadlineQueue queue;
    Target target;
    LinkSettings settings = withLatency(5ms);
    settings.jitter = 5ms;
    settings.seed = 3;
    LinkProxy proxy(settings, QHostAddress::LocalHost, target.port(), queue);
    QVERIFY(proxy.listen());
    QTcpSocket client;
    client.connectToHost(QHostAddress::LocalHost, proxy.port());
    QVERIFY(client.waitForConnected(2000));
    constexpr int kWrites = 300;
    QByteArray expected;
    std::vector<TimePoint> sentAt;
    for (int i = 0; i < kWrites; ++i) {
        const QByteArray message = QByteArray::number(i).rightJustified(6, '0');
        expected += message;
        sentAt.push_back(Clock::now());
        client.write(message);
        client.flush();
        const TimePoint next = sentAt.back() + 500us;
        waitFor([&] { return Clock::now() >= next; }, 50);
    }
    QVERIFY(waitFor([&] { return target.received.size() >= expected.size(); }, 5000));
    QCOMPARE(target.received, expected);
    QVERIFY(target.arrivals.size() > 10); // really delivered over time, not in one lump
    for (int i = 0; i < kWrites; ++i)
        QVERIFY(msBetween(sentAt[std::size_t(i)], target.arrivalOf(qsizetype{i} * 6)) >= -0.05);
}

void TestLinkProxy::bandwidthPaces()
{
    DeadlineQueue queue;
    Target target;
    LinkSettings settings;
    settings.bandwidthBitsPerSecond = 16'000'000; // 2 MB/s
    LinkProxy proxy(settings, QHostAddress::LocalHost, target.port(), queue);
    QVERIFY(proxy.listen());
    QTcpSocket client;
    client.connectToHost(QHostAddress::LocalHost, proxy.port());
    QVERIFY(client.waitForConnected(2000));
    constexpr qsizetype kBytes = 2'000'000;
    client.write(QByteArray(kBytes, 'x'));
    QVERIFY(waitFor([&] { return target.received.size() >= kBytes; }, 10000));
    const qsizetype firstLump = target.arrivals.front().second;
    const double seconds = msBetween(target.arrivals.front().first, target.arrivals.back().first) / 1000.0;
    const double rate = static_cast<double>(kBytes - firstLump) * 8.0 / seconds;
    qInfo("paced at %.3f Mbit/s (configured 16)", rate / 1e6);
    QVERIFY2(std::abs(rate / 16e6 - 1.0) < 0.15, qPrintable(QStringLiteral("rate %1 bit/s").arg(rate)));
}

void TestLinkProxy::bandwidthShared_data()
{
    QTest::addColumn<BandwidthSharing>("sharing");
    QTest::addColumn<QString>("secondSource");
    QTest::addColumn<int>("lines"); // serialisation times the later of two 64 KB writes takes
    QTest::newRow("per connection") << BandwidthSharing::PerConnection << QStringLiteral("127.0.0.2") << 1;
    QTest::newRow("one browser's connections share its line") << BandwidthSharing::PerPeer << QStringLiteral("127.0.0.2") << 2;
    QTest::newRow("two browsers, a line each") << BandwidthSharing::PerPeer << QStringLiteral("127.0.0.3") << 1;
    QTest::newRow("a link between nodes is one pipe") << BandwidthSharing::PerLink << QStringLiteral("127.0.0.3") << 2;
}

void TestLinkProxy::bandwidthShared()
{
    QFETCH(BandwidthSharing, sharing);
    QFETCH(QString, secondSource);
    QFETCH(int, lines);
    DeadlineQueue queue;
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    std::vector<qint64> received(2, 0);
    std::vector<TimePoint> doneAt(2);
    constexpr qint64 kBytes = 65536;
    QObject::connect(&server, &QTcpServer::newConnection, &server, [&] {
        while (QTcpSocket *socket = server.nextPendingConnection()) {
            QObject::connect(socket, &QTcpSocket::readyRead, socket, [&, socket] {
                const QByteArray data = socket->readAll();
                const auto i = static_cast<std::size_t>(data.isEmpty() || data[0] == 'a' ? 0 : 1);
                received[i] += data.size();
                if (received[i] >= kBytes && doneAt[i] == TimePoint{})
                    doneAt[i] = Clock::now();
            });
        }
    });
    LinkSettings settings = withLatency(1ms);
    settings.bandwidthBitsPerSecond = 10'000'000;
    settings.sharing = sharing;
    LinkProxy proxy(settings, QHostAddress::LocalHost, server.serverPort(), queue);
    QVERIFY(proxy.listen());
    QTcpSocket a;
    QTcpSocket b;
    QVERIFY(a.bind(QHostAddress(QStringLiteral("127.0.0.2")), 0));
    QVERIFY(b.bind(QHostAddress(secondSource), 0));
    a.connectToHost(QHostAddress::LocalHost, proxy.port());
    b.connectToHost(QHostAddress::LocalHost, proxy.port());
    QVERIFY(a.waitForConnected(2000) && b.waitForConnected(2000));
    waitFor([] { return false; }, 50);
    const TimePoint sent = Clock::now();
    a.write(QByteArray(kBytes, 'a'));
    b.write(QByteArray(kBytes, 'b'));
    QVERIFY(waitFor([&] { return doneAt[0] != TimePoint{} && doneAt[1] != TimePoint{}; }, 5000));
    const double serialisationMs = kBytes * 8.0 / 10e6 * 1e3; // 52.4 ms
    const double lastMs = msBetween(sent, std::max(doneAt[0], doneAt[1]));
    qInfo("later of two 64 KB writes done after %.1f ms (one serialisation: %.1f ms)", lastMs, serialisationMs);
    if (lines == 1)
        QVERIFY2(lastMs < 1.5 * serialisationMs, qPrintable(QString::number(lastMs)));
    else
        QVERIFY2(lastMs > 1.8 * serialisationMs && lastMs < 3 * serialisationMs, qPrintable(QString::number(lastMs)));
}

void TestLinkProxy::recordsIntendedReleases()
{
    DeadlineQueue queue;
    Target target;
    LinkProxy proxy(withLatency(20ms), QHostAddress::LocalHost, target.port(), queue);
    QVERIFY(proxy.listen());
    QTcpSocket client;
    client.connectToHost(QHostAddress::LocalHost, proxy.port());
    QVERIFY(client.waitForConnected(2000));
    waitFor([] { return false; }, 100); // past the handshake
    const TimePoint sent = Clock::now();
    client.write(QByteArray(100, 'x'));
    client.flush();
    QVERIFY(waitFor([&] { return target.received.size() >= 100; }, 2000));
    const auto release = proxy.intendedRelease(client.localAddress(), client.localPort(), Direction::Upstream, 99);
    QVERIFY(release.has_value());
    // Meant for 20 ms after the bytes reached the link (just after they were sent), and
    // written at or after that.
    const double intendedMs = msBetween(sent, release->intended);
    QVERIFY2(intendedMs >= 20.0 && intendedMs < 25.0, qPrintable(QString::number(intendedMs)));
    QVERIFY(release->written >= release->intended);
    QVERIFY(!proxy.intendedRelease(client.localAddress(), client.localPort(), Direction::Upstream, 100).has_value());
    QVERIFY(!proxy.intendedRelease(client.localAddress(), client.localPort(), Direction::Downstream, 0).has_value());
}

void TestLinkProxy::lossRateCloseToConfigured()
{
    DeadlineQueue queue;
    Target target;
    LinkSettings settings = withLatency(1ms);
    settings.lossProbability = 0.1;
    settings.seed = 5;
    LinkProxy proxy(settings, QHostAddress::LocalHost, target.port(), queue);
    QVERIFY(proxy.listen());
    QTcpSocket client;
    client.connectToHost(QHostAddress::LocalHost, proxy.port());
    constexpr qsizetype kBytes = 4000 * 1448;
    client.write(QByteArray(kBytes, 'y'));
    QVERIFY(waitFor([&] { return target.received.size() >= kBytes; }, 15000));
    const Counters counters = proxy.snapshot();
    const double rate = double(counters.upstream.retransmittedSegments) / double(counters.upstream.segments);
    qInfo("%llu of %llu segments retransmitted (%.2f%%)", static_cast<unsigned long long>(counters.upstream.retransmittedSegments),
          static_cast<unsigned long long>(counters.upstream.segments), 100 * rate);
    QVERIFY(counters.upstream.segments >= 4000);
    QVERIFY2(std::abs(rate - 0.1) < 0.02, qPrintable(QString::number(rate)));
    QVERIFY(target.received == QByteArray(kBytes, 'y'));
}

void TestLinkProxy::lossHoldsLaterBytes()
{
    DeadlineQueue queue;
    Target target;
    LinkSettings settings = withLatency(2ms);
    settings.lossProbability = 0.3;
    settings.lossRecovery = LossRecovery::Timeout; // 200 ms
    settings.seed = 9;
    LinkProxy proxy(settings, QHostAddress::LocalHost, target.port(), queue);
    QVERIFY(proxy.listen());
    const std::vector<double> delays = messageDelays(target, proxy.port(), 20, 100, 10ms);
    QCOMPARE(delays.size(), std::size_t{20});
    const auto retransmitted = proxy.snapshot().upstream.retransmittedSegments;
    QVERIFY2(retransmitted >= 2, "the seed should lose a few of 20 segments");
    int late = 0;
    bool heldBehind = false;
    for (std::size_t i = 0; i < delays.size(); ++i) {
        if (delays[i] >= 150)
            ++late;
        // Not lost (that would take >= 200 ms) yet far later than the 2 ms latency: held
        // behind an earlier message's retransmission.
        if (i > 0 && delays[i - 1] >= 200 && delays[i] > 20 && delays[i] < 199.5)
            heldBehind = true;
    }
    QString shown;
    for (double d : delays)
        shown += QString::number(d, 'f', 1) + QLatin1Char(' ');
    QVERIFY2(late >= int(retransmitted), qPrintable(shown));
    QVERIFY2(heldBehind, qPrintable(shown));
}

void TestLinkProxy::idleTimeoutReaps()
{
    DeadlineQueue queue;
    Target target;
    LinkSettings settings = withLatency(1ms);
    settings.idleTimeout = 200ms;
    LinkProxy proxy(settings, QHostAddress::LocalHost, target.port(), queue);
    QVERIFY(proxy.listen());
    QSignalSpy reaped(&proxy, &LinkProxy::connectionReaped);
    QTcpSocket client;
    TimePoint closedAt{};
    connect(&client, &QTcpSocket::disconnected, &client, [&] { closedAt = Clock::now(); });
    const TimePoint start = Clock::now();
    client.connectToHost(QHostAddress::LocalHost, proxy.port());
    client.write("hello");
    QVERIFY(waitFor([&] { return closedAt != TimePoint{}; }, 3000));
    const double after = msBetween(start, closedAt);
    QVERIFY2(after >= 195 && after < 400, qPrintable(QString::number(after)));
    QCOMPARE(reaped.size(), 1);
    QCOMPARE(reaped.front().front().value<ReapCause>(), ReapCause::IdleTimeout);
    QCOMPARE(proxy.snapshot().reaped(ReapCause::IdleTimeout), std::uint64_t{1});
    QCOMPARE(proxy.snapshot().connectionsOpen, std::uint64_t{0});
    QVERIFY(waitFor([&] { return target.disconnected == 1; }, 2000));
}

void TestLinkProxy::heartbeatPreventsIdleReap()
{
    DeadlineQueue queue;
    Target target;
    LinkSettings settings = withLatency(1ms);
    settings.idleTimeout = 150ms;
    LinkProxy proxy(settings, QHostAddress::LocalHost, target.port(), queue);
    QVERIFY(proxy.listen());
    QTcpSocket client;
    client.connectToHost(QHostAddress::LocalHost, proxy.port());
    QVERIFY(client.waitForConnected(2000));
    QTimer heartbeat;
    connect(&heartbeat, &QTimer::timeout, &client, [&] { client.write(":\n"); });
    heartbeat.start(40);
    waitFor([] { return false; }, 600);
    QCOMPARE(client.state(), QAbstractSocket::ConnectedState);
    QCOMPARE(proxy.snapshot().reaped(ReapCause::IdleTimeout), std::uint64_t{0});
    heartbeat.stop();
    QVERIFY(waitFor([&] { return client.state() == QAbstractSocket::UnconnectedState; }, 2000));
    QCOMPARE(proxy.snapshot().reaped(ReapCause::IdleTimeout), std::uint64_t{1});
}

void TestLinkProxy::maxDurationReaps()
{
    DeadlineQueue queue;
    Target target;
    LinkSettings settings = withLatency(1ms);
    settings.maxDuration = 300ms;
    settings.idleTimeout = 10s;
    LinkProxy proxy(settings, QHostAddress::LocalHost, target.port(), queue);
    QVERIFY(proxy.listen());
    QSignalSpy reaped(&proxy, &LinkProxy::connectionReaped);
    QTcpSocket client;
    TimePoint closedAt{};
    connect(&client, &QTcpSocket::disconnected, &client, [&] { closedAt = Clock::now(); });
    const TimePoint start = Clock::now();
    client.connectToHost(QHostAddress::LocalHost, proxy.port());
    QTimer traffic;
    connect(&traffic, &QTimer::timeout, &client, [&] { client.write("data: x\n\n"); });
    traffic.start(20);
    QVERIFY(waitFor([&] { return closedAt != TimePoint{}; }, 3000));
    const double after = msBetween(start, closedAt);
    QVERIFY2(after >= 295 && after < 500, qPrintable(QString::number(after)));
    QCOMPARE(reaped.size(), 1);
    QCOMPARE(reaped.front().front().value<ReapCause>(), ReapCause::MaxDuration);
    QCOMPARE(proxy.snapshot().reaped(ReapCause::MaxDuration), std::uint64_t{1});
}

void TestLinkProxy::downRefusesAndResetsThenUpAccepts()
{
    DeadlineQueue queue;
    Target target(true);
    LinkProxy proxy(withLatency(1ms), QHostAddress::LocalHost, target.port(), queue);
    QVERIFY(proxy.listen());
    const quint16 port = proxy.port();
    QSignalSpy wentDown(&proxy, &LinkProxy::wentDown);
    QSignalSpy cameUp(&proxy, &LinkProxy::cameUp);

    QTcpSocket established;
    established.connectToHost(QHostAddress::LocalHost, port);
    QVERIFY(established.waitForConnected(2000));
    established.write("ping");
    QVERIFY(waitFor([&] { return established.bytesAvailable() >= 4; }, 2000));

    proxy.setDown(true);
    QCOMPARE(wentDown.size(), 1);
    QVERIFY(waitFor([&] { return established.state() == QAbstractSocket::UnconnectedState; }, 2000));
    QCOMPARE(established.error(), QAbstractSocket::RemoteHostClosedError);
    QCOMPARE(proxy.snapshot().reaped(ReapCause::LinkDown), std::uint64_t{1});

    QTcpSocket refused;
    refused.connectToHost(QHostAddress::LocalHost, port);
    QVERIFY(!refused.waitForConnected(2000));
    QCOMPARE(refused.error(), QAbstractSocket::ConnectionRefusedError);

    proxy.setDown(false);
    QCOMPARE(cameUp.size(), 1);
    QCOMPARE(proxy.port(), port);
    QTcpSocket again;
    again.connectToHost(QHostAddress::LocalHost, port);
    QVERIFY(again.waitForConnected(2000));
    again.write("pong");
    QVERIFY(waitFor([&] { return again.bytesAvailable() >= 4; }, 2000));
    QCOMPARE(again.readAll(), QByteArray("pong"));
}

void TestLinkProxy::scheduledOutage()
{
    DeadlineQueue queue;
    Target target;
    LinkProxy proxy(LinkSettings{}, QHostAddress::LocalHost, target.port(), queue);
    QVERIFY(proxy.listen());
    QSignalSpy wentDown(&proxy, &LinkProxy::wentDown);
    QSignalSpy cameUp(&proxy, &LinkProxy::cameUp);
    const TimePoint start = Clock::now();
    TimePoint downAt{};
    TimePoint upAt{};
    connect(&proxy, &LinkProxy::wentDown, this, [&] { downAt = Clock::now(); });
    connect(&proxy, &LinkProxy::cameUp, this, [&] { upAt = Clock::now(); });
    proxy.scheduleOutage(50ms, 100ms);
    QVERIFY(waitFor([&] { return upAt != TimePoint{}; }, 2000));
    QCOMPARE(wentDown.size(), 1);
    QCOMPARE(cameUp.size(), 1);
    QVERIFY(msBetween(start, downAt) >= 49.9 && msBetween(start, downAt) < 80);
    QVERIFY(msBetween(downAt, upAt) >= 99.9 && msBetween(downAt, upAt) < 130);
    QVERIFY(!proxy.isDown());
}

void TestLinkProxy::halfClosePropagatesAfterPendingBytes_data()
{
    QTest::addColumn<int>("latencyUs");
    QTest::newRow("delayed link") << 10000;
    QTest::newRow("zero-delay link (kernel pipes)") << 0;
}

void TestLinkProxy::halfClosePropagatesAfterPendingBytes()
{
    QFETCH(int, latencyUs);
    // A raw target that reads until end of stream, then answers and closes; a raw client
    // that half-closes after its request. Both run off the proxy's thread with blocking I/O.
    quint16 targetPort = 0;
    const int listener = edgesse::testing::listenLoopback(targetPort);
    QVERIFY(listener >= 0);

    std::atomic<std::size_t> targetGot{0};
    std::thread target([&] {
        const int fd = ::accept(listener, nullptr, nullptr);
        char buffer[4096];
        std::size_t total = 0;
        for (;;) {
            const ssize_t n = ::read(fd, buffer, sizeof buffer);
            if (n <= 0)
                break;
            total += std::size_t(n);
        }
        targetGot = total;
        const std::string answer = "got " + std::to_string(total);
        ::write(fd, answer.data(), answer.size());
        ::close(fd);
    });

    DeadlineQueue queue;
    LinkProxy proxy(withLatency(std::chrono::microseconds{latencyUs}), QHostAddress::LocalHost, targetPort, queue);
    QVERIFY(proxy.listen());
    const quint16 proxyPort = proxy.port();
    std::string reply;
    std::atomic<bool> clientDone{false};
    std::thread client([&] {
        const int fd = edgesse::testing::connectLoopback(proxyPort);
        if (fd >= 0) {
            const std::string request(500000, 'r');
            ::write(fd, request.data(), request.size());
            ::shutdown(fd, SHUT_WR);
            char buffer[256];
            for (;;) {
                const ssize_t n = ::read(fd, buffer, sizeof buffer);
                if (n <= 0)
                    break;
                reply.append(buffer, std::size_t(n));
            }
            ::close(fd);
        }
        clientDone = true;
    });
    const bool done = waitFor([&] { return clientDone.load(); }, 5000);
    if (!done)
        ::shutdown(listener, SHUT_RDWR);
    client.join();
    target.join();
    ::close(listener);
    QVERIFY(done);
    QCOMPARE(targetGot.load(), std::size_t{500000});
    QCOMPARE(QByteArray::fromStdString(reply), QByteArray("got 500000"));
    QVERIFY(waitFor([&] { return proxy.openConnections() == 0; }, 2000));
    QCOMPARE(proxy.snapshot().resets, std::uint64_t{0});
}

void TestLinkProxy::refusedTargetResetsClient()
{
    quint16 closedPort = 0;
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        closedPort = probe.serverPort();
    }
    DeadlineQueue queue;
    LinkProxy proxy(withLatency(2ms), QHostAddress::LocalHost, closedPort, queue);
    QVERIFY(proxy.listen());
    QSignalSpy failed(&proxy, &LinkProxy::upstreamConnectFailed);
    QTcpSocket client;
    client.connectToHost(QHostAddress::LocalHost, proxy.port());
    client.write("hello");
    QVERIFY(waitFor([&] { return client.state() == QAbstractSocket::UnconnectedState; }, 3000));
    QCOMPARE(failed.size(), 1);
    QVERIFY(failed.front().front().toString().contains(QString::number(closedPort)));
    QCOMPARE(proxy.snapshot().upstreamFailures, std::uint64_t{1});
    QCOMPARE(proxy.openConnections(), std::size_t{0});
}

void TestLinkProxy::backpressureBoundsBuffering()
{
    DeadlineQueue queue;
    Target target;
    LinkSettings settings;
    settings.bandwidthBitsPerSecond = 4'000'000;
    settings.maxBufferedBytes = 64 * 1024;
    LinkProxy proxy(settings, QHostAddress::LocalHost, target.port(), queue);
    QVERIFY(proxy.listen());
    QTcpSocket client;
    client.connectToHost(QHostAddress::LocalHost, proxy.port());
    QVERIFY(client.waitForConnected(2000));
    client.write(QByteArray(16 * 1024 * 1024, 'z'));
    std::uint64_t peak = 0;
    waitFor([&] {
        peak = std::max(peak, proxy.snapshot().bufferedBytes);
        return false;
    }, 500);
    qInfo("peak held by the link: %llu bytes", static_cast<unsigned long long>(peak));
    QVERIFY(peak > 0);
    QVERIFY2(peak <= 64 * 1024 + 1448, "the link read far beyond its buffer limit");
    QVERIFY(client.bytesToWrite() > 0); // the sender feels the backpressure
}

void TestLinkProxy::descriptorsReleasedAfterStress_data()
{
    QTest::addColumn<int>("latencyUs");
    QTest::newRow("delayed link") << 1000;
    QTest::newRow("zero-delay link (kernel pipes)") << 0;
}

void TestLinkProxy::descriptorsReleasedAfterStress()
{
    QFETCH(int, latencyUs);
    const int before = openDescriptors();
    {
        DeadlineQueue queue;
        Target target(true);
        LinkSettings settings = withLatency(std::chrono::microseconds{latencyUs});
        settings.jitter = std::chrono::microseconds{latencyUs / 2};
        LinkProxy proxy(settings, QHostAddress::LocalHost, target.port(), queue);
        QVERIFY(proxy.listen());
        std::vector<std::unique_ptr<QTcpSocket>> clients;
        constexpr int kClients = 300;
        for (int i = 0; i < kClients; ++i) {
            clients.push_back(std::make_unique<QTcpSocket>());
            clients.back()->connectToHost(QHostAddress::LocalHost, proxy.port());
            clients.back()->write(QByteArray(1000 + i * 37, 'q'));
        }
        QVERIFY(waitFor([&] { return target.accepted == kClients; }, 10000));
        for (int i = 0; i < kClients; ++i) {
            QTcpSocket &client = *clients[std::size_t(i)];
            switch (i % 4) {
            case 0: // reset by the client, possibly with bytes in flight
                client.setSocketOption(QAbstractSocket::LowDelayOption, 1);
                {
                    const linger abortive{1, 0};
                    ::setsockopt(int(client.socketDescriptor()), SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
                }
                client.abort();
                break;
            case 1: // orderly close
                client.disconnectFromHost();
                break;
            case 2: // the target goes away
                if (i / 4 < int(target.sockets.size()))
                    target.sockets[std::size_t(i / 4)]->abort();
                break;
            default: // left open, then the link goes down below
                break;
            }
        }
        waitFor([] { return false; }, 100);
        proxy.setDown(true);
        proxy.setDown(false);
        QVERIFY(waitFor([&] { return proxy.openConnections() == 0; }, 5000));
        clients.clear();
        QVERIFY(waitFor([&] { return target.sockets.empty(); }, 5000));
        const Counters counters = proxy.snapshot();
        QCOMPARE(counters.connectionsTotal, std::uint64_t{kClients});
        QCOMPARE(counters.connectionsOpen, std::uint64_t{0});
        QCOMPARE(counters.bufferedBytes, std::uint64_t{0});
    }
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    QTRY_COMPARE_WITH_TIMEOUT(openDescriptors(), before, 5000);
}

void TestLinkProxy::countersReadableFromAnotherThread()
{
    DeadlineQueue queue;
    Target target(true);
    LinkProxy proxy(LinkSettings{}, QHostAddress::LocalHost, target.port(), queue);
    QVERIFY(proxy.listen());
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> lastSeen{0};
    std::atomic<bool> monotonic{true};
    std::thread reader([&] {
        while (!stop) {
            const std::uint64_t now = proxy.snapshot().upstream.bytes;
            if (now < lastSeen)
                monotonic = false;
            lastSeen = now;
        }
    });
    QTcpSocket client;
    qint64 echoed = 0;
    connect(&client, &QTcpSocket::readyRead, &client, [&] { echoed += client.readAll().size(); });
    client.connectToHost(QHostAddress::LocalHost, proxy.port());
    client.write(QByteArray(1 << 20, 'c'));
    const bool done = waitFor([&] { return echoed >= (1 << 20); }, 10000);
    stop = true;
    reader.join();
    QVERIFY(done);
    QVERIFY(monotonic);
    QCOMPARE(proxy.snapshot().upstream.bytes, std::uint64_t{1} << 20);
}

QTEST_GUILESS_MAIN(TestLinkProxy)
#include "tst_linkproxy.moc"
