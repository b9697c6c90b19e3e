// Links in whole runs: bandwidth shared the way lines are shared.

#include "simtesthelpers.h"

#include <QTest>

#include <chrono>

using namespace std::chrono_literals;
using namespace edgesse;
using namespace edgesse::simtest;

namespace {

// One browser, four HTTP/1.1 streams (four connections) over a 10 Mbit/s access line, one
// 64 KB event a second.
const char *const kFourStreams = R"(name: four streams on one line
seed: 7
duration: 3s
warmup: 1s
nodes:
  origin: { kind: origin, region: eu-central }
clients:
  - { name: home, count: 1, near: origin, streams: 4 }
links:
  - { between: [home, origin], latency: 10ms, bandwidth: 10Mbps }
publisher: { at: origin, rate: 1/s, payload: 64KB }
sse: { heartbeat: 15s }
variants:
  - { name: http1, placement: central, protocol: http1 }
)";

// Three browsers of two streams each on one link that a fault or a gateway ends: `%1` is the
// link's extra keys, `%2` the protocol.
const char *const kEndedByTheLink = R"(name: streams ended by the link
seed: 5
duration: 3s
warmup: 1s
nodes:
  origin: { kind: origin, region: eu-central }
clients:
  - { name: home, count: 3, near: origin, streams: 2 }
links:
  - { between: [home, origin], latency: 10ms%1 }
publisher: { at: origin, rate: 1/s, payload: 64B }
sse: { heartbeat: 15s, retry: 1s }
variants:
  - { name: v, placement: central, protocol: %2 }
)";

} // namespace

class TestSimLinks final : public QObject
{
    Q_OBJECT

private slots:
    void browserConnectionsShareTheAccessLine();
    void causeOfAnEndByTheLink_data();
    void causeOfAnEndByTheLink();
};

void TestSimLinks::browserConnectionsShareTheAccessLine()
{
    const scenario::LoadResult loaded = scenario::loadFromText(kFourStreams, QStringLiteral("four-streams.yaml"));
    QVERIFY(loaded.ok());
    RUN_VARIANT(r, loaded.scenario->variants.front());
    // 64 KB (65,536 B of data plus its SSE framing) takes 52.4 ms on 10 Mbit/s; four copies
    // share the line, so the last stream's copy lands about four serialisation times (plus
    // 10 ms) after publishing, not one.
    const double serialisationMs = 65536 * 8.0 / 10e6 * 1e3;
    qInfo("latency p50 %.1f ms, max %.1f ms; one serialisation %.1f ms", r.latency.p50, r.latency.max, serialisationMs);
    QVERIFY(r.events.delivered >= 8);
    QCOMPARE(r.events.lost, std::uint64_t{0});
    QVERIFY2(r.latency.max >= 10 + 3.5 * serialisationMs && r.latency.max <= 10 + 5.5 * serialisationMs,
             qPrintable(QString::number(r.latency.max)));
}

void TestSimLinks::causeOfAnEndByTheLink_data()
{
    QTest::addColumn<QString>("linkKeys");
    QTest::addColumn<QString>("protocol");
    QTest::addColumn<QString>("cause");
    QTest::addColumn<bool>("exactlyOnce");
    // Down 2 s into the run (inside the window) for less than the 1 s retry: every one of the
    // six streams is reset once, then reconnects to a link that is up again.
    const QString fault = QStringLiteral(", faults: [{ at: 2s, down_for: 300ms }]");
    QTest::newRow("reset, http1") << fault << QStringLiteral("http1") << QStringLiteral("error") << true;
    QTest::newRow("reset, http2") << fault << QStringLiteral("http2") << QStringLiteral("error") << true;
    // Events 1 s apart, no heartbeat: each stream falls quiet for longer than 600 ms.
    QTest::newRow("idle gateway") << QStringLiteral(", gateway: { idle_timeout: 600ms }") << QStringLiteral("http1")
                                  << QStringLiteral("idle_timeout") << false;
    QTest::newRow("max duration") << QStringLiteral(", gateway: { max_duration: 1200ms }") << QStringLiteral("http1")
                                  << QStringLiteral("max_duration") << false;
}

void TestSimLinks::causeOfAnEndByTheLink()
{
    QFETCH(QString, linkKeys);
    QFETCH(QString, protocol);
    QFETCH(QString, cause);
    QFETCH(bool, exactlyOnce);
    const QString text = QString::fromUtf8(kEndedByTheLink).arg(linkKeys, protocol);
    const scenario::LoadResult loaded = scenario::loadFromText(text.toUtf8(), QStringLiteral("ended-by-the-link.yaml"));
    QVERIFY(loaded.ok());
    const scenario::Variant &variant = loaded.scenario->variants.front();
    RUN_VARIANT(r, variant);
    const std::uint64_t streams = std::uint64_t(variant.totalStreams());
    const auto count = [&](const char *name) {
        const auto it = r.streams.reconnectsByCause.find(QString::fromLatin1(name));
        return it == r.streams.reconnectsByCause.end() ? std::uint64_t{0} : it->second;
    };
    qInfo("reconnects %llu: error %llu, server_close %llu, idle_timeout %llu, max_duration %llu",
          static_cast<unsigned long long>(r.streams.reconnects), static_cast<unsigned long long>(count("error")),
          static_cast<unsigned long long>(count("server_close")), static_cast<unsigned long long>(count("idle_timeout")),
          static_cast<unsigned long long>(count("max_duration")));
    if (exactlyOnce)
        QCOMPARE(count(qPrintable(cause)), streams);
    else
        QVERIFY(count(qPrintable(cause)) >= streams);
    QCOMPARE(r.streams.reconnects, count(qPrintable(cause)));
}

QTEST_GUILESS_MAIN(TestSimLinks)
#include "tst_sim_links.moc"
