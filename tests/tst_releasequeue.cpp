#include "core/link/releasequeue.h"

#include <QTest>

#include <string>

#include <sys/uio.h>

using namespace std::chrono_literals;
using edgesse::link::ReleaseQueue;
using edgesse::link::TimePoint;

namespace {

const TimePoint t0 = TimePoint{} + 1h;

std::string take(ReleaseQueue &queue, TimePoint now)
{
    iovec iov[2];
    int count = 0;
    const std::size_t n = queue.released(now, iov, count);
    std::string out;
    for (int i = 0; i < count; ++i)
        out.append(static_cast<const char *>(iov[i].iov_base), iov[i].iov_len);
    queue.consume(n);
    return out;
}

} // namespace

class TestReleaseQueue final : public QObject
{
    Q_OBJECT

private slots:
    void releasesInStreamOrder();
    void heldSegmentHoldsEverythingBehindIt();
    void revisionMovesTheHeldSegment();
    void finFollowsTheBytesBeforeIt();
    void resetKeepsWhatArrivesBeforeIt_data();
    void resetKeepsWhatArrivesBeforeIt();
    void bytesSurviveWrapAndGrowth();
    void consumeReportsIntendedRelease();
};

void TestReleaseQueue::releasesInStreamOrder()
{
    ReleaseQueue q;
    q.push(t0 + 10ms, "ab", 2);
    q.push(t0 + 10ms, "cd", 2); // merged with the one before
    q.push(t0 + 20ms, "ef", 2);
    QCOMPARE(take(q, t0 + 9ms), std::string());
    QCOMPARE(take(q, t0 + 10ms), std::string("abcd"));
    QCOMPARE(take(q, t0 + 30ms), std::string("ef"));
    QVERIFY(q.empty());
}

void TestReleaseQueue::heldSegmentHoldsEverythingBehindIt()
{
    ReleaseQueue q;
    q.push(t0 + 10ms, "a", 1);
    q.push(t0 + 200ms, "LOST", 4, true);
    q.push(t0 + 11ms, "b", 1); // due earlier, but behind the lost segment
    QCOMPARE(take(q, t0 + 50ms), std::string("a"));
    QCOMPARE(take(q, t0 + 199ms), std::string());
    QCOMPARE(take(q, t0 + 200ms), std::string("LOSTb"));
}

void TestReleaseQueue::revisionMovesTheHeldSegment()
{
    ReleaseQueue q;
    q.push(t0 + 10ms, "a", 1);
    q.push(t0 + 200ms, "LOST", 4, true);
    q.push(t0 + 11ms, "b", 1);
    QVERIFY(q.revise(1, t0 + 30ms));
    QVERIFY(!q.revise(3, t0 + 30ms)); // no span starts there
    QCOMPARE(take(q, t0 + 29ms), std::string("a"));
    QCOMPARE(take(q, t0 + 30ms), std::string("LOSTb"));
}

void TestReleaseQueue::finFollowsTheBytesBeforeIt()
{
    ReleaseQueue q;
    q.push(t0 + 50ms, "late", 4, true);
    q.pushFin(t0 + 10ms);
    QCOMPARE(take(q, t0 + 20ms), std::string());
    QVERIFY(!q.front().fin);
    QCOMPARE(take(q, t0 + 50ms), std::string("late"));
    QVERIFY(q.front().fin);
    // Nothing is released past a FIN.
    QCOMPARE(take(q, t0 + 60ms), std::string());
    q.popFin();
    QVERIFY(q.empty());
}

void TestReleaseQueue::resetKeepsWhatArrivesBeforeIt_data()
{
    QTest::addColumn<int>("resetMs");
    QTest::addColumn<bool>("lossAhead");
    QTest::addColumn<QString>("delivered");
    QTest::addColumn<int>("dropped");
    // "ab" arrives at 10 ms, "cd" at 20 ms; with a loss, "LOST" is recovered at 200 ms and "e"
    // (due at 30 ms) waits behind it.
    QTest::newRow("RST after everything") << 25 << false << QStringLiteral("abcd") << 0;
    QTest::newRow("RST right behind the last bytes") << 20 << false << QStringLiteral("abcd") << 0;
    QTest::newRow("RST overtakes a lost segment") << 40 << true << QStringLiteral("abcd") << 5;
    QTest::newRow("RST after the recovery") << 250 << true << QStringLiteral("abcdLOSTe") << 0;
}

void TestReleaseQueue::resetKeepsWhatArrivesBeforeIt()
{
    QFETCH(int, resetMs);
    QFETCH(bool, lossAhead);
    QFETCH(QString, delivered);
    QFETCH(int, dropped);
    ReleaseQueue q;
    q.push(t0 + 10ms, "ab", 2);
    q.push(t0 + 20ms, "cd", 2);
    if (lossAhead) {
        q.push(t0 + 200ms, "LOST", 4, true);
        q.push(t0 + 30ms, "e", 1);
    }
    QCOMPARE(take(q, t0 + 10ms), std::string("ab")); // the head already partly gone
    const TimePoint at = t0 + std::chrono::milliseconds(resetMs);
    QCOMPARE(q.pushReset(at), std::size_t(dropped));
    std::string got = take(q, at - 1ns);
    QVERIFY(!q.empty());
    QVERIFY(!q.front().fin || q.front().release == at);
    got += take(q, at);
    QCOMPARE(QString::fromStdString("ab" + got), delivered);
    QVERIFY(q.front().fin && q.front().reset);
    QCOMPARE(q.front().release, at);
    QCOMPARE(q.bytes(), std::size_t(0));
    q.popFin();
    QVERIFY(q.empty());
}

void TestReleaseQueue::bytesSurviveWrapAndGrowth()
{
    ReleaseQueue q;
    std::string expected;
    std::string got;
    std::uint64_t n = 0;
    for (int round = 0; round < 200; ++round) {
        const int pieces = 1 + round % 7;
        for (int p = 0; p < pieces; ++p) {
            std::string piece(static_cast<std::size_t>(1000 + 997 * ((round + p) % 13)), '\0');
            for (char &c : piece)
                c = static_cast<char>('a' + (n++ % 26));
            expected += piece;
            q.push(t0 + std::chrono::milliseconds(round), piece.data(), piece.size(), p % 3 == 0);
        }
        // Take part of what is released: partial consumption across the ring's end.
        iovec iov[2];
        int count = 0;
        const std::size_t ready = q.released(t0 + std::chrono::milliseconds(round), iov, count);
        std::size_t want = ready / 2 + 1;
        for (int i = 0; i < count && want > 0; ++i) {
            const std::size_t part = std::min(want, iov[i].iov_len);
            got.append(static_cast<const char *>(iov[i].iov_base), part);
            want -= part;
        }
        q.consume(std::min(ready, ready / 2 + 1));
    }
    got += take(q, t0 + 1h);
    QCOMPARE(got.size(), expected.size());
    QVERIFY(got == expected);
}

void TestReleaseQueue::consumeReportsIntendedRelease()
{
    ReleaseQueue q;
    q.push(t0 + 10ms, "ab", 2);
    q.push(t0 + 12ms, "cd", 2);
    QCOMPARE(q.consume(1), t0 + 10ms);
    QCOMPARE(q.consume(2), t0 + 12ms);
}

QTEST_GUILESS_MAIN(TestReleaseQueue)
#include "tst_releasequeue.moc"
