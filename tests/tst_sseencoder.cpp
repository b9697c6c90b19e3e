#include "core/sse/replaybuffer.h"
#include "core/sse/sseencoder.h"

#include <QTest>

#include <chrono>

using namespace std::chrono_literals;
using namespace edgesse::sse;

class TestSseEncoder final : public QObject
{
    Q_OBJECT

private slots:
    void encodes_data();
    void encodes();
    void comments();
    void replayBufferSince_data();
    void replayBufferSince();
    void replayBufferByteBound_data();
    void replayBufferByteBound();
};

void TestSseEncoder::encodes_data()
{
    QTest::addColumn<QByteArray>("id");
    QTest::addColumn<QByteArray>("type");
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<int>("retryMs");
    QTest::addColumn<QByteArray>("wire");

    QTest::newRow("data only") << QByteArray() << QByteArray() << QByteArray("hello") << -1 << QByteArray("data: hello\n\n");
    QTest::newRow("all fields") << QByteArray("7") << QByteArray("tick") << QByteArray("x") << 2500
                                << QByteArray("id: 7\nevent: tick\nretry: 2500\ndata: x\n\n");
    QTest::newRow("LF lines") << QByteArray("1") << QByteArray() << QByteArray("a\nb") << -1
                              << QByteArray("id: 1\ndata: a\ndata: b\n\n");
    QTest::newRow("CRLF and CR lines") << QByteArray() << QByteArray() << QByteArray("a\r\nb\rc") << -1
                                       << QByteArray("data: a\ndata: b\ndata: c\n\n");
    QTest::newRow("trailing newline kept") << QByteArray() << QByteArray() << QByteArray("a\n") << -1
                                           << QByteArray("data: a\ndata: \n\n");
    QTest::newRow("empty data still dispatches") << QByteArray("2") << QByteArray() << QByteArray() << -1
                                                 << QByteArray("id: 2\ndata: \n\n");
    QTest::newRow("line breaks and NUL dropped from id and event")
        << QByteArray("4\n2\0", 4) << QByteArray("a\r\nb") << QByteArray("d") << -1
        << QByteArray("id: 42\nevent: ab\ndata: d\n\n");
    QTest::newRow("leading space preserved") << QByteArray() << QByteArray() << QByteArray(" x") << -1
                                             << QByteArray("data:  x\n\n");
}

void TestSseEncoder::encodes()
{
    QFETCH(QByteArray, id);
    QFETCH(QByteArray, type);
    QFETCH(QByteArray, data);
    QFETCH(int, retryMs);
    QFETCH(QByteArray, wire);
    Event event{id, type, data, std::nullopt};
    if (retryMs >= 0)
        event.retry = std::chrono::milliseconds(retryMs);
    QCOMPARE(SseEncoder::encode(event), wire);
}

void TestSseEncoder::comments()
{
    QCOMPARE(SseEncoder::comment("heartbeat"), QByteArray(": heartbeat\n\n"));
    QCOMPARE(SseEncoder::comment(""), QByteArray(":\n\n"));
    QCOMPARE(SseEncoder::comment("two\nlines"), QByteArray(": twolines\n\n"));
    QCOMPARE(SseEncoder::retry(3s), QByteArray("retry: 3000\n\n"));
}

void TestSseEncoder::replayBufferSince_data()
{
    QTest::addColumn<int>("capacity");
    QTest::addColumn<int>("published"); // events 1..published
    QTest::addColumn<int>("after");
    QTest::addColumn<int>("count");
    QTest::addColumn<int>("lost");

    QTest::newRow("all held") << 10 << 5 << 2 << 3 << 0;
    QTest::newRow("from the start") << 10 << 5 << 0 << 5 << 0;
    QTest::newRow("up to date") << 10 << 5 << 5 << 0 << 0;
    QTest::newRow("ahead of the server") << 10 << 5 << 9 << 0 << 0;
    QTest::newRow("evicted") << 3 << 10 << 2 << 3 << 5;
    QTest::newRow("just held") << 3 << 10 << 7 << 3 << 0;
    QTest::newRow("no buffer") << 0 << 10 << 4 << 0 << 6;
    QTest::newRow("nothing published") << 3 << 0 << 0 << 0 << 0;
}

void TestSseEncoder::replayBufferSince()
{
    QFETCH(int, capacity);
    QFETCH(int, published);
    QFETCH(int, after);
    QFETCH(int, count);
    QFETCH(int, lost);
    ReplayBuffer buffer(static_cast<std::size_t>(capacity));
    for (int seq = 1; seq <= published; ++seq)
        buffer.append(static_cast<std::uint64_t>(seq), QByteArray::number(seq));
    QVERIFY(buffer.size() <= static_cast<std::size_t>(capacity));
    const auto since = buffer.since(static_cast<std::uint64_t>(after));
    QCOMPARE(since.count(), static_cast<std::size_t>(count));
    QCOMPARE(since.lost, static_cast<std::uint64_t>(lost));
    std::uint64_t expected = static_cast<std::uint64_t>(published - count + 1);
    for (auto it = since.begin; it != since.end; ++it, ++expected) {
        QCOMPARE(it->seq, expected);
        QCOMPARE(it->encoded, QByteArray::number(static_cast<qulonglong>(expected)));
    }
}

void TestSseEncoder::replayBufferByteBound_data()
{
    QTest::addColumn<int>("capacity");
    QTest::addColumn<int>("eventBytes");
    QTest::addColumn<int>("maxBytes");
    QTest::addColumn<int>("published");
    QTest::addColumn<int>("held"); // each event costs eventBytes + 64 against maxBytes

    QTest::newRow("events bind") << 5 << 100 << 10'000 << 50 << 5;
    QTest::newRow("bytes bind") << 1000 << 100 << 10'000 << 500 << 10'000 / 164;
    QTest::newRow("exactly full") << 1000 << 936 << 10'000 << 30 << 10;
    QTest::newRow("one byte over") << 1000 << 937 << 10'000 << 30 << 9;
    QTest::newRow("an event larger than the bound") << 1000 << 20'000 << 10'000 << 3 << 0;
}

void TestSseEncoder::replayBufferByteBound()
{
    QFETCH(int, capacity);
    QFETCH(int, eventBytes);
    QFETCH(int, maxBytes);
    QFETCH(int, published);
    QFETCH(int, held);
    ReplayBuffer buffer(static_cast<std::size_t>(capacity), maxBytes);
    for (int seq = 1; seq <= published; ++seq) {
        buffer.append(static_cast<std::uint64_t>(seq), QByteArray(eventBytes, 'x'));
        QVERIFY(buffer.bytes() <= maxBytes);
    }
    QCOMPARE(buffer.size(), static_cast<std::size_t>(held));
    QCOMPARE(buffer.bytes(), qint64{held} * (eventBytes + 64));
    QCOMPARE(buffer.lastSeq(), static_cast<std::uint64_t>(published));
    // A reader from the start learns how many are gone.
    QCOMPARE(buffer.since(0).lost, static_cast<std::uint64_t>(published - held));
}

QTEST_GUILESS_MAIN(TestSseEncoder)
#include "tst_sseencoder.moc"
