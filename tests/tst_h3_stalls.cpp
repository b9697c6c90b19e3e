// Stalled stream-seconds: the time a browser's streams spend waiting behind a loss another
// of its streams met. The meter is checked on hand-made arrivals; whole runs over a lossy link
// are checked against what the link's loss and the publisher's rate give from first
// principles: over HTTP/2 a lost TCP segment holds back every stream written after it on the
// connection, over HTTP/3 a lost datagram delays only the streams whose frames it carried.

#include "core/sim/stallmeter.h"
#include "simtesthelpers.h"

#include <QtTest>

#include <cmath>

using namespace edgesse;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Eight streams per browser, 80 ms RTT without jitter, 2% random loss each way.
constexpr int kStreams = 8;
constexpr int kBrowsers = 10;
constexpr double kLoss = 0.02;
constexpr double kRttS = 0.080;
constexpr double kRatePerS = 10;
constexpr int kPayload = 1024;
constexpr double kDurationS = 10;

const QByteArray kScenario = R"(name: stalls
seed: 15
duration: 10s
warmup: 2s
placement: central
nodes:
  origin: { kind: origin }
clients:
  - { name: mobile, count: 10, near: origin, streams: 8 }
links:
  - { between: [mobile, origin], latency: 40ms, loss: 2%, bandwidth: 20Mbps, tls: true }
publisher: { at: origin, rate: 10/s, payload: 1KB }
sse: { heartbeat: 15s, retry: 3s, replay: 1000, max_concurrent_streams: 100 }
sweep:
  protocol: [http2, http3]
)";

// The wire size of one event on one stream: the SSE lines ("id: N\ndata: ...\n\n"), an
// HTTP/3 DATA frame header and a QUIC STREAM frame header (about 8 together).
constexpr double kEventWire = kPayload + 16 + 8;
constexpr double kDatagram = 1452; // ngtcp2's largest QUIC payload over IPv4

// Over TCP: each publish writes the eight events back to back, each in `perEvent` segments
// (the server's writes: its frames and TLS records). When a segment of the i-th event is
// lost, that event and the 7 - i written after it wait for its recovery (RACK: the later
// segments are acknowledged a round trip on, and the sender waits a quarter RTT more for
// reordering); the first met the loss, the others were stalled behind it. A lost last
// segment has nothing after it to reveal it until the next publish, 1/rate later: the
// tail-loss probe resends it 2 RTT after it left, so all eight streams of the next publish
// wait for it from their own intended arrival.
double expectedOverTcp(double perEvent)
{
    double behind = 0;
    for (int i = 0; i < kStreams; ++i)
        behind += kStreams - 1 - i;
    const double gapS = 1.0 / kRatePerS;
    const double perPublish = kLoss * (perEvent * behind * 1.25 * kRttS + kStreams * std::max(0.0, 2 * kRttS - gapS));
    return perPublish * kBrowsers * kRatePerS * kDurationS;
}

// Over QUIC: a lost datagram holds back only the streams whose frames it carried, on
// average 1 + P/E of them; all but one count. Recovery: about 9/8 RTT (RFC 9002's time
// threshold), at most a PTO; 1.25 RTT is taken, as for TCP.
double expectedOverQuicAtMost()
{
    const int datagrams = int(std::ceil(kStreams * kEventWire / kDatagram));
    return kLoss * datagrams * (kDatagram / kEventWire) * 1.25 * kRttS * kBrowsers * kRatePerS * kDurationS;
}

Clock::time_point at(Clock::time_point t0, int ms)
{
    return t0 + std::chrono::milliseconds(ms);
}

} // namespace

class TestH3Stalls final : public QObject
{
    Q_OBJECT

private slots:
    void meter_data();
    void meter();
    void meterTakesACopyOlderThanEveryPendingOne();
    void headOfLineOverTcpNotOverQuic();
};

void TestH3Stalls::meter_data()
{
    QTest::addColumn<QList<int>>("arrivalsMs"); // per stream, after the intended arrival; -1: never
    QTest::addColumn<double>("stalledS");
    QTest::newRow("all on time") << QList<int>{0, 1, 2, 3} << 0.0;
    QTest::newRow("one stream lost its own") << QList<int>{0, 100, 1, 2} << 0.0;
    QTest::newRow("three held behind one loss") << QList<int>{0, 100, 100, 100} << 0.2;
    QTest::newRow("two separate recoveries") << QList<int>{0, 100, 160, 3} << 0.0;
    QTest::newRow("every stream held") << QList<int>{120, 120, 120, 120} << 0.36;
    QTest::newRow("a stream never got it") << QList<int>{0, 100, 100, -1} << 0.1;
    QTest::newRow("late but within the threshold") << QList<int>{30, 30, 30, 30} << 0.0;
}

void TestH3Stalls::meter()
{
    QFETCH(QList<int>, arrivalsMs);
    QFETCH(double, stalledS);
    sim::StallMeter meter(int(arrivalsMs.size()), 40ms);
    const Clock::time_point t0 = Clock::now();
    for (qsizetype s = 0; s < arrivalsMs.size(); ++s) {
        if (arrivalsMs[s] >= 0)
            meter.arrived(int(s), 7, t0, at(t0, arrivalsMs[s]));
    }
    QVERIFY2(std::abs(meter.stalledSeconds() - stalledS) < 1e-9, qPrintable(QString::number(meter.stalledSeconds())));
    // Settled by newer publishes, the figure stays.
    for (std::uint64_t seq = 8; seq < 8 + sim::StallMeter::kPending + 1; ++seq)
        meter.arrived(0, seq, t0, t0);
    QVERIFY(std::abs(meter.stalledSeconds() - stalledS) < 1e-9);
}

// With the meter at its cap, a copy of a publish older than every pending one (a replay after
// a reconnect) is settled at once and the pending ones stay (it used to settle the one it had
// just added, then write into it: a use-after-free under ASan in tst_realbrowser).
void TestH3Stalls::meterTakesACopyOlderThanEveryPendingOne()
{
    sim::StallMeter meter(2, 40ms);
    const Clock::time_point t0 = Clock::now();
    for (std::uint64_t seq = 100; seq < 100 + sim::StallMeter::kPending; ++seq)
        meter.arrived(0, seq, t0, at(t0, 300));
    meter.arrived(0, 5, t0, at(t0, 300));
    meter.arrived(1, 100, t0, at(t0, 300)); // still pending: its two late copies came together
    QVERIFY2(std::abs(meter.stalledSeconds() - 0.3) < 1e-9, qPrintable(QString::number(meter.stalledSeconds())));
}

// What the machine itself adds: the same run without loss. A moment the recorder's thread
// is held back makes a browser's copies late together, like a recovery; that is measured
// here rather than assumed.
double machineShare()
{
    QByteArray text = kScenario;
    text.replace("loss: 2%, ", "");
    text.replace("protocol: [http2, http3]", "protocol: [http2]");
    const scenario::LoadResult loaded = scenario::loadFromText(text, QStringLiteral("stalls-lossless.yaml"));
    if (!loaded.ok())
        return -1;
    const auto outcome = simtest::runVariant(loaded.scenario->variants.front());
    return outcome.result ? outcome.result->stalledStreamSeconds : -1;
}

void TestH3Stalls::headOfLineOverTcpNotOverQuic()
{
    const double machine = machineShare();
    QVERIFY2(machine >= 0, "the run without loss failed");
    const scenario::LoadResult loaded = scenario::loadFromText(kScenario, QStringLiteral("stalls.yaml"));
    QVERIFY2(loaded.ok(), qPrintable(loaded.diagnostics.empty() ? QString() : loaded.diagnostics.front().toString()));
    std::map<scenario::Protocol, double> stalled;
    double perEvent = 0; // segments the access link carried per delivered event (reported)
    for (const scenario::Variant &v : loaded.scenario->variants) {
        RUN_VARIANT(r, v);
        QCOMPARE(r.groups.size(), std::size_t(1));
        QCOMPARE(r.groups[0].protocol, scenario::keyword(v.protocol));
        QCOMPARE(r.stalledStreamSeconds, r.groups[0].stalledStreamSeconds);
        stalled[v.protocol] = r.groups[0].stalledStreamSeconds;
        const metrics::LinkResult &access = r.links.back();
        if (v.protocol == scenario::Protocol::Http3) {
            QVERIFY(access.datagramsDropped.has_value());
            // Only the loss model drops: the queue is far from full, the link never down, and
            // nothing but QUIC reaches the server's port.
            QVERIFY2(access.datagramsDropped->loss > 0, "2% loss dropped no datagram");
            QCOMPARE(access.datagramsDropped->queueOrDown, std::uint64_t(0));
            QCOMPARE(access.datagramsDropped->garbage, std::uint64_t(0));
        } else {
            QVERIFY(!access.datagramsDropped.has_value());
            perEvent = double(access.segmentsDown) / double(r.events.expected);
        }
        qInfo("%s: stalled %.2f stream-s, p99 %.1f ms", qPrintable(v.name), r.stalledStreamSeconds, r.latency.p99);
    }
    const double tcp = expectedOverTcp(perEvent) + machine;
    const double quic = expectedOverQuicAtMost() + machine;
    const double h2 = stalled[scenario::Protocol::Http2];
    const double h3 = stalled[scenario::Protocol::Http3];
    qInfo("expected over TCP %.2f stream-s (%.2f segments an event), over QUIC at most %.2f (the machine's %.2f "
          "included); measured http2 %.2f, http3 %.2f",
          tcp, perEvent, quic, machine, h2, h3);
    // At least what the losses' recoveries give. The measured figure has come out about 2.2
    // times this (112 against 51 stream-s on a loaded machine): the analysis above does not yet
    // account for all of it, so no upper bound is asserted until it does.
    QVERIFY2(h2 >= 0.6 * tcp, qPrintable(QStringLiteral("http2 %1, expected %2").arg(h2).arg(tcp)));
    QVERIFY2(h3 <= 1.3 * quic, qPrintable(QStringLiteral("http3 %1, expected at most %2").arg(h3).arg(quic)));
    QVERIFY2(h3 < 0.5 * h2, qPrintable(QStringLiteral("http3 %1 vs http2 %2").arg(h3).arg(h2)));
}

QTEST_GUILESS_MAIN(TestH3Stalls)
#include "tst_h3_stalls.moc"
