// A reconnect storm: 100 browsers cut by a gateway at once, each reconnecting by its
// population's policy (as a scenario writes it). The server sees each client's new request
// arrive after its old stream ended; the spread of those waits is what the policy promises:
// the browser's own — all after exactly `retry` — or a page's full or equal jitter, uniform
// over [0, base] or [base/2, base].
#include "core/link/linkproxy.h"
#include "core/net/deadlinequeue.h"
#include "core/scenario/scenario.h"
#include "core/sim/clientgroupconfig.h"
#include "core/sse/browser.h"
#include "core/sse/sseserver.h"

#include <QtTest>

#include <algorithm>
#include <map>
#include <vector>

using namespace edgesse;
using namespace std::chrono_literals;

namespace {

constexpr int kClients = 100;

scenario::ClientGroup groupFrom(const QByteArray &clientYaml)
{
    const QByteArray text = "name: storm\nnodes: { origin: { kind: origin } }\nclients:\n  - " + clientYaml +
                            "\nlinks: [{ between: [b, origin], latency: 0ms }]\npublisher: { at: origin, rate: 20/s }\n";
    const scenario::LoadResult loaded = scenario::loadFromText(text, QStringLiteral("storm.yaml"));
    if (!loaded.ok())
        qFatal("%s", qPrintable(loaded.diagnostics.front().toString()));
    return loaded.scenario->variants.front().clients.front();
}

// Kolmogorov–Smirnov distance between the sample and uniform [lo, hi].
double ksUniform(std::vector<double> v, double lo, double hi)
{
    std::sort(v.begin(), v.end());
    double d = 0;
    const double n = double(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        const double f = std::clamp((v[i] - lo) / (hi - lo), 0.0, 1.0);
        d = std::max({d, std::abs(f - double(i) / n), std::abs(f - double(i + 1) / n)});
    }
    return d;
}

} // namespace

class TestReconnectStorm final : public QObject
{
    Q_OBJECT

private slots:
    void spreadMatchesThePolicy_data();
    void spreadMatchesThePolicy();
};

void TestReconnectStorm::spreadMatchesThePolicy_data()
{
    QTest::addColumn<QByteArray>("client");
    QTest::addColumn<double>("lowMs"); // the waits, uniform in [low, high]
    QTest::addColumn<double>("highMs");
    QTest::newRow("browser: exactly retry") << QByteArray("{ name: b, count: 100, near: origin, browser: chromium }") << 1000.0 << 1000.0;
    QTest::newRow("full jitter") << QByteArray("{ name: b, count: 100, near: origin, reconnect: { backoff: exponential, base: 1s, max: 30s, jitter: full } }")
                                 << 0.0 << 1000.0;
    QTest::newRow("equal jitter") << QByteArray("{ name: b, count: 100, near: origin, reconnect: { backoff: exponential, base: 1s, max: 30s, jitter: equal } }")
                                  << 500.0 << 1000.0;
}

void TestReconnectStorm::spreadMatchesThePolicy()
{
    QFETCH(QByteArray, client);
    QFETCH(double, lowMs);
    QFETCH(double, highMs);
    const scenario::ClientGroup group = groupFrom(client);

    sse::ServerSettings settings;
    settings.retry = 1000ms;
    sse::SseServer server(settings);
    QVERIFY(server.start());
    net::DeadlineQueue deadlines;
    link::LinkSettings gateway;
    gateway.maxDuration = 1500ms;
    link::LinkProxy proxy(gateway, QHostAddress::LocalHost, server.port(), deadlines);
    QVERIFY(proxy.listen());

    std::vector<std::unique_ptr<sse::Browser>> browsers;
    for (int i = 0; i < kClients; ++i) {
        sse::Browser::Config config;
        config.port = proxy.port();
        sim::applyClientGroup(group, config);
        config.stream.path = "/events?client=" + QByteArray::number(i);
        config.stream.seed = 1000 + std::uint64_t(i);
        browsers.push_back(std::make_unique<sse::Browser>(config, deadlines, nullptr));
        browsers.back()->open();
    }
    // Every client's first stream cut by the gateway and its second request in.
    const auto secondRequests = [&] {
        std::map<QByteArray, int> seen;
        for (const sse::StreamRecord &r : server.streamLog())
            ++seen[r.query];
        return int(std::count_if(seen.begin(), seen.end(), [](const auto &e) { return e.second >= 2; }));
    };
    QTRY_COMPARE_WITH_TIMEOUT(secondRequests(), kClients, 15'000);
    browsers.clear();

    std::map<QByteArray, std::vector<sse::StreamRecord>> byClient;
    for (const sse::StreamRecord &r : server.streamLog())
        byClient[r.query].push_back(r);
    std::vector<double> waits;
    for (const auto &[query, records] : byClient) {
        QVERIFY(records[0].endedAt);
        waits.push_back(std::chrono::duration<double, std::milli>(records[1].requestedAt - *records[0].endedAt).count());
    }
    const auto [lo, hi] = std::minmax_element(waits.begin(), waits.end());
    qInfo("%d clients cut at once: reconnect waits %.1f .. %.1f ms (policy: %.0f .. %.0f ms)", kClients, *lo, *hi, lowMs, highMs);
    // No wait is shorter than the policy allows; none longer by more than it takes this one
    // thread (proxy and all 100 clients) to take in 100 connections at once — 5% of the
    // 1 s range, generous on a loaded machine (8–35 ms measured at load average 28).
    QVERIFY2(*lo >= lowMs - 1 && *hi <= highMs + 50, qPrintable(QStringLiteral("%1 .. %2").arg(*lo).arg(*hi)));
    if (highMs > lowMs) {
        const double d = ksUniform(waits, lowMs, highMs);
        qInfo("Kolmogorov-Smirnov distance to uniform: %.3f", d);
        QVERIFY2(d < 0.15, qPrintable(QString::number(d))); // 5% critical value for n = 100: 0.136, plus timer noise
        QVERIFY(*hi - *lo >= 0.8 * (highMs - lowMs));
    } else {
        // One burst: the storm a fixed reconnect delay makes (its width is the machine's).
        QVERIFY2(*hi - *lo <= 50, "a browser's waits do not spread");
    }
}

QTEST_GUILESS_MAIN(TestReconnectStorm)
#include "tst_reconnectstorm.moc"
