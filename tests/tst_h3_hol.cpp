// Head-of-line blocking and handshake time, HTTP/2 over TLS + TCP against HTTP/3 over QUIC,
// checked against what first principles give for the link:
//  - the first response byte needs TCP's round trip, TLS 1.3's and the request's over
//    HTTP/2 (3 RTT), QUIC's handshake (TLS inside) and the request's over HTTP/3 (2 RTT);
//  - with loss, a lost TCP segment holds back every byte behind it, so each publish that
//    loses one is late on the stream it hit and on every stream written after it (the eight
//    streams' events are written in stream order), while a lost QUIC datagram delays only
//    the streams whose data it carried. A packet of P bytes over events of E bytes overlaps
//    n = 1 + P / E of them on average: that many streams are late a loss over QUIC, and over
//    TCP those and on average half of the 8 - n written after them.
// A recovered loss costs at least one more RTT (three later packets acknowledged, or a PTO);
// an event is late when it arrives more than 0.75 RTT after the one-way latency (a QUIC
// sender paces a publish's packets over part of an RTT; that alone is not late).

#include "core/http/h2client.h"
#include "core/link/linkproxy.h"
#include "core/link/udplink.h"
#include "core/net/deadlinequeue.h"
#include "core/quic/h3client.h"
#include "core/sse/sseserver.h"
#include "support/h3support.h"

#include <QtTest>

#include <map>

using namespace edgesse;
using namespace std::chrono_literals;
using testing::RecordingResponse;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kLatency = 40ms; // one way: RTT 80 ms
constexpr int kStreams = 8;

// Arrival time of every event, by id, as the stream's bytes come in.
class EventClock final : public http::ResponseHandler
{
public:
    void responseHeadReceived(const http::ResponseHead &head) override { status = head.status; }
    void responseDataReceived(const char *data, std::size_t size) override
    {
        m_buffer.append(data, static_cast<qsizetype>(size));
        qsizetype end = 0;
        while ((end = m_buffer.indexOf("\n\n")) >= 0) {
            const QByteArray message = m_buffer.left(end);
            m_buffer.remove(0, end + 2);
            if (message.startsWith("id: ") && message.contains("\ndata: "))
                arrivals[message.mid(4, message.indexOf('\n') - 4).toULongLong()] = Clock::now();
        }
    }
    void responseCompleted() override {}
    void responseFailed(http::ClientError, const QString &) override { failed = true; }

    int status = 0;
    bool failed = false;
    std::map<std::uint64_t, Clock::time_point> arrivals;

private:
    QByteArray m_buffer;
};

struct LateCount {
    int publishesHit = 0;  // publishes with at least one late stream
    int streamsLate = 0;   // late (publish, stream) pairs
    double perHit() const { return publishesHit ? double(streamsLate) / publishesHit : 0; }
};

// Late: more than 0.75 RTT beyond the one-way latency.
LateCount countLate(const std::map<std::uint64_t, Clock::time_point> &published, const std::vector<EventClock> &streams)
{
    LateCount c;
    for (const auto &[seq, at] : published) {
        int late = 0;
        for (const EventClock &s : streams) {
            const auto it = s.arrivals.find(seq);
            if (it == s.arrivals.end() || it->second - at > kLatency + 3 * kLatency / 2)
                ++late;
        }
        c.publishesHit += late > 0 ? 1 : 0;
        c.streamsLate += late;
    }
    return c;
}

http::ClientRequest eventsRequest()
{
    http::ClientRequest r;
    r.path = "/events";
    r.authority = "127.0.0.1";
    return r;
}

} // namespace

class TestH3Hol final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void firstByteOneRoundTripSooner();
    void lossStallsEveryStreamOnlyOverTcp();

private:
    testing::QuicIdentity m_id;
};

void TestH3Hol::initTestCase()
{
    m_id = testing::QuicIdentity::make();
    QVERIFY2(m_id.server && m_id.client, qPrintable(m_id.error));
}

void TestH3Hol::firstByteOneRoundTripSooner()
{
    sse::ServerSettings settings;
    settings.tls = m_id.tls->server;
    settings.http3 = m_id.server;
    sse::SseServer server(settings);
    QVERIFY(server.start());
    net::DeadlineQueue deadlines;
    link::LinkSettings ls;
    ls.latency = kLatency;
    link::LinkProxy tcp(ls, QHostAddress(QHostAddress::LocalHost), server.port(), deadlines);
    QVERIFY(tcp.listen());
    link::UdpLink udp(ls, QHostAddress(QHostAddress::LocalHost), server.http3Port(), deadlines);
    QVERIFY(udp.listen());
    const double rtt = std::chrono::duration<double, std::milli>(2 * kLatency).count();

    tls::TlsSessionSlot slot;
    RecordingResponse h2;
    const auto h2Start = Clock::now();
    http::H2ClientConnection h2c(QStringLiteral("127.0.0.1"), tcp.port(), 1 << 20, {m_id.tls->client.get(), &slot});
    h2c.submit(eventsRequest(), &h2);
    QTRY_COMPARE_WITH_TIMEOUT(h2.head.status, 200, 10'000);
    RecordingResponse h3;
    const auto h3Start = Clock::now();
    quic::H3ClientConnection h3c(QStringLiteral("127.0.0.1"), udp.port(), m_id.client);
    h3c.submit(eventsRequest(), &h3);
    QTRY_COMPARE_WITH_TIMEOUT(h3.head.status, 200, 10'000);

    const double h2Ms = std::chrono::duration<double, std::milli>(h2.headAt - h2Start).count();
    const double h3Ms = std::chrono::duration<double, std::milli>(h3.headAt - h3Start).count();
    qInfo("first response byte: HTTP/2 over TLS + TCP %.1f ms (3 RTT = %.0f), HTTP/3 %.1f ms (2 RTT = %.0f)%s", h2Ms,
          3 * rtt, h3Ms, 2 * rtt, qPrintable(tcp.connectNote().isEmpty() ? QString() : QStringLiteral("; ") + tcp.connectNote()));
    // Never sooner than the round trips; later by what the machine adds, alike on both.
    QVERIFY2(h3Ms >= 2 * rtt && h3Ms < 2.5 * rtt, qPrintable(QString::number(h3Ms)));
    QVERIFY2(std::abs((h2Ms - h3Ms) - rtt) < 0.25 * rtt, qPrintable(QString::number(h2Ms - h3Ms)));
}

void TestH3Hol::lossStallsEveryStreamOnlyOverTcp()
{
    sse::ServerSettings settings;
    settings.tls = m_id.tls->server;
    settings.http3 = m_id.server;
    settings.replayCapacity = 0;
    sse::SseServer server(settings);
    QVERIFY(server.start());
    net::DeadlineQueue deadlines;
    link::LinkSettings ls;
    ls.latency = kLatency;
    ls.lossProbability = 0.02;
    ls.seed = 15;
    link::LinkProxy tcp(ls, QHostAddress(QHostAddress::LocalHost), server.port(), deadlines);
    QVERIFY(tcp.listen());
    link::UdpLink udp(ls, QHostAddress(QHostAddress::LocalHost), server.http3Port(), deadlines);
    QVERIFY(udp.listen());

    tls::TlsSessionSlot slot;
    http::H2ClientConnection h2c(QStringLiteral("127.0.0.1"), tcp.port(), 1 << 20, {m_id.tls->client.get(), &slot});
    quic::H3ClientConnection h3c(QStringLiteral("127.0.0.1"), udp.port(), m_id.client);
    std::vector<EventClock> h2(kStreams);
    std::vector<EventClock> h3(kStreams);
    for (int s = 0; s < kStreams; ++s) {
        h2c.submit(eventsRequest(), &h2[std::size_t(s)]);
        h3c.submit(eventsRequest(), &h3[std::size_t(s)]);
    }
    QTRY_COMPARE_WITH_TIMEOUT(server.stats().streamsOpen, qint64(2 * kStreams), 20'000);
    QTest::qWait(500);

    // One event a stream every 200 ms, of a little less than a packet each: 10 KB a publish,
    // within QUIC's initial congestion window, 50 KB/s, well below what its congestion
    // control sustains at this loss and RTT (Mathis: 1.22 MSS / (RTT sqrt(p)) = 150 KB/s).
    std::map<std::uint64_t, Clock::time_point> published;
    const QByteArray payload(1200, 'x');
    for (std::uint64_t seq = 1; seq <= 100; ++seq) {
        sse::PublishedEvent e;
        e.seq = seq;
        e.event.id = QByteArray::number(static_cast<qulonglong>(seq));
        e.event.data = payload;
        published[seq] = Clock::now();
        server.publish(e);
        QTest::qWait(200);
    }
    QTest::qWait(3000); // every recovery done
    for (int s = 0; s < kStreams; ++s) {
        QVERIFY(!h2[std::size_t(s)].failed && !h3[std::size_t(s)].failed);
        QCOMPARE(h3[std::size_t(s)].arrivals.size(), published.size());
        QCOMPARE(h2[std::size_t(s)].arrivals.size(), published.size());
    }
    const LateCount overTcp = countLate(published, h2);
    const LateCount overQuic = countLate(published, h3);
    const link::Counters tcpCounters = tcp.snapshot();
    const link::Counters udpCounters = udp.snapshot();
    qInfo("HTTP/2: %d publishes late, %.2f streams late each (%llu segments retransmitted); "
          "HTTP/3: %d publishes late, %.2f streams late each (%llu datagrams dropped)",
          overTcp.publishesHit, overTcp.perHit(), static_cast<unsigned long long>(tcpCounters.downstream.retransmittedSegments),
          overQuic.publishesHit, overQuic.perHit(), static_cast<unsigned long long>(udpCounters.datagramsDropped));
    QVERIFY2(overTcp.publishesHit > 0 && overQuic.publishesHit > 0, "2% loss on 800 events hit none");
    // P = 1,452 (ngtcp2's largest datagram; a TCP segment 1,448), E = the event with its SSE
    // and HTTP framing. 0.5 allowed each way for a publish losing twice and for noise.
    const double n = 1.0 + 1452.0 / double(payload.size() + 30);
    const double overTcpExpected = n + (kStreams - n) / 2;
    QVERIFY2(overTcp.perHit() >= overTcpExpected - 0.5,
             qPrintable(QStringLiteral("%1, expected %2").arg(overTcp.perHit()).arg(overTcpExpected)));
    QVERIFY2(overQuic.perHit() <= n + 0.5, qPrintable(QStringLiteral("%1, expected %2").arg(overQuic.perHit()).arg(n)));
}

QTEST_GUILESS_MAIN(TestH3Hol)
#include "tst_h3_hol.moc"
