#include "core/sse/sseparser.h"

#include <QtTest>

using namespace edgesse::sse;
using namespace std::chrono_literals;

namespace {

// Records what the parser dispatched as "type|id|data" lines (type "message" when empty).
struct Recorder final : SseParser::Sink {
    QByteArrayList events;
    QList<qint64> retries;
    int comments = 0;
    void eventDispatched(const Event &event) override
    {
        events << (event.type.isEmpty() ? QByteArray("message") : event.type) + '|' + event.id + '|' + event.data;
    }
    void retryChanged(std::chrono::milliseconds retry) override { retries << retry.count(); }
    void commentReceived(std::size_t) override { ++comments; }
};

struct Outcome {
    QByteArrayList events;
    QList<qint64> retries;
    int comments = 0;
    QByteArray lastEventId;
};

Outcome parseInChunks(const QByteArray &input, const QList<qsizetype> &cuts)
{
    Recorder recorder;
    SseParser parser(recorder);
    qsizetype from = 0;
    for (qsizetype cut : cuts) {
        parser.feed(input.mid(from, cut - from));
        from = cut;
    }
    parser.feed(input.mid(from));
    return {recorder.events, recorder.retries, recorder.comments, parser.lastEventId()};
}

} // namespace

class TestSseParser final : public QObject
{
    Q_OBJECT

private slots:
    void rules_data();
    void rules();
    void lastEventIdSurvivesReset();
    void overlongLineIsDropped();
    void manyEventsStayCheap();
};

void TestSseParser::rules_data()
{
    static const char kIdWithNullBytes[] = "id: 3\ndata: a\n\nid: 4\0x\ndata: b\n\n";
    const QByteArray kIdWithNull(kIdWithNullBytes, sizeof kIdWithNullBytes - 1);
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArrayList>("events");
    QTest::addColumn<QList<qint64>>("retries");
    QTest::addColumn<QByteArray>("lastEventId");
    QTest::addColumn<int>("comments");

    using L = QByteArrayList;
    using R = QList<qint64>;
    QTest::newRow("lf") << QByteArray("data: a\n\ndata: b\n\n") << L{"message||a", "message||b"} << R{} << QByteArray() << 0;
    QTest::newRow("cr") << QByteArray("data: a\r\rdata: b\r\r") << L{"message||a", "message||b"} << R{} << QByteArray() << 0;
    QTest::newRow("crlf") << QByteArray("data: a\r\n\r\ndata: b\r\n\r\n") << L{"message||a", "message||b"} << R{} << QByteArray() << 0;
    QTest::newRow("mixed line ends") << QByteArray("data: a\r\ndata: b\rdata: c\n\r\n") << L{"message||a\nb\nc"} << R{} << QByteArray() << 0;
    QTest::newRow("cr cr is two lines") << QByteArray("data: a\r\r\ndata: b\n\n") << L{"message||a", "message||b"} << R{} << QByteArray() << 0;
    QTest::newRow("bom stripped") << QByteArray("\xEF\xBB\xBF" "data: a\n\n") << L{"message||a"} << R{} << QByteArray() << 0;
    QTest::newRow("only one bom stripped") << QByteArray("\xEF\xBB\xBF\xEF\xBB\xBF" "data: a\n\ndata: b\n\n")
                                            << L{"message||b"} << R{} << QByteArray() << 0;
    QTest::newRow("bom-like prefix kept") << QByteArray("\xEF\xBB" "data: a\n\ndata: b\n\n") << L{"message||b"} << R{} << QByteArray() << 0;
    QTest::newRow("comment") << QByteArray(": hi\ndata: a\n: there\n\n:\n\n") << L{"message||a"} << R{} << QByteArray() << 3;
    QTest::newRow("data joined with lf") << QByteArray("data: a\ndata\ndata:b\ndata:  c\n\n") << L{"message||a\n\nb\n c"} << R{} << QByteArray() << 0;
    QTest::newRow("value keeps further colons") << QByteArray("data: a: b:c\n\n") << L{"message||a: b:c"} << R{} << QByteArray() << 0;
    QTest::newRow("empty data field dispatches empty") << QByteArray("data\n\n") << L{"message||"} << R{} << QByteArray() << 0;
    QTest::newRow("two empty data lines") << QByteArray("data\ndata\n\n") << L{"message||\n"} << R{} << QByteArray() << 0;
    QTest::newRow("no data no dispatch") << QByteArray("event: x\n\ndata: a\n\n") << L{"message||a"} << R{} << QByteArray() << 0;
    QTest::newRow("event type") << QByteArray("event: tick\ndata: a\n\ndata: b\n\n") << L{"tick||a", "message||b"} << R{} << QByteArray() << 0;
    QTest::newRow("space before colon is another field") << QByteArray("data : x\ndata: a\n\n") << L{"message||a"} << R{} << QByteArray() << 0;
    QTest::newRow("field names case-sensitive") << QByteArray("Data: x\nDATA: y\ndata: a\n\n") << L{"message||a"} << R{} << QByteArray() << 0;
    QTest::newRow("unknown field ignored") << QByteArray("foo: bar\ndata: a\n\n") << L{"message||a"} << R{} << QByteArray() << 0;
    QTest::newRow("id") << QByteArray("id: 7\ndata: a\n\ndata: b\n\n") << L{"message|7|a", "message|7|b"} << R{} << QByteArray("7") << 0;
    QTest::newRow("id without data sets last id") << QByteArray("id: 9\n\n") << L{} << R{} << QByteArray("9") << 0;
    QTest::newRow("empty id resets") << QByteArray("id: 7\ndata: a\n\nid\ndata: b\n\n") << L{"message|7|a", "message||b"} << R{} << QByteArray() << 0;
    QTest::newRow("id with colon and no space") << QByteArray("id:\ndata: a\n\n") << L{"message||a"} << R{} << QByteArray() << 0;
    QTest::newRow("id with null ignored") << kIdWithNull
                                          << L{"message|3|a", "message|3|b"} << R{} << QByteArray("3") << 0;
    QTest::newRow("id set only at dispatch") << QByteArray("id: 1\ndata: a\n\nid: 2\ndata: b") << L{"message|1|a"} << R{} << QByteArray("1") << 0;
    QTest::newRow("retry digits") << QByteArray("retry: 1500\ndata: a\n\n") << L{"message||a"} << R{1500} << QByteArray() << 0;
    QTest::newRow("retry non-digits ignored") << QByteArray("retry: 15x\nretry: -1\nretry: 1.5\nretry:  5\nretry\nretry: \n")
                                              << L{} << R{} << QByteArray() << 0;
    QTest::newRow("retry zero") << QByteArray("retry:0\n") << L{} << R{0} << QByteArray() << 0;
    QTest::newRow("retry without dispatch applies") << QByteArray("retry: 10\n") << L{} << R{10} << QByteArray() << 0;
    QTest::newRow("retry huge saturates") << QByteArray("retry: 99999999999999999999999\n") << L{} << R{9223372036854775} << QByteArray() << 0;
    QTest::newRow("incomplete event discarded") << QByteArray("data: a\n\ndata: b\n") << L{"message||a"} << R{} << QByteArray() << 0;
    QTest::newRow("unterminated line discarded") << QByteArray("data: a\n\ndata: b") << L{"message||a"} << R{} << QByteArray() << 0;
    QTest::newRow("utf8 bytes kept") << QByteArray("data: \xC3\xA9\xE2\x82\xAC\n\n") << L{"message||\xC3\xA9\xE2\x82\xAC"} << R{} << QByteArray() << 0;
    QTest::newRow("blank lines alone") << QByteArray("\n\r\n\r\n\n") << L{} << R{} << QByteArray() << 0;
}

void TestSseParser::rules()
{
    QFETCH(QByteArray, input);
    QFETCH(QByteArrayList, events);
    QFETCH(QList<qint64>, retries);
    QFETCH(QByteArray, lastEventId);
    QFETCH(int, comments);

    auto check = [&](const Outcome &got, const QByteArray &how) {
        if (got.events != events || got.retries != retries || got.lastEventId != lastEventId || got.comments != comments) {
            QFAIL(qPrintable(QStringLiteral("%1: events %2 retries %3 last id '%4' comments %5")
                                 .arg(QString::fromUtf8(how), QString::fromUtf8(got.events.join(" ; ")))
                                 .arg(got.retries.size())
                                 .arg(QString::fromUtf8(got.lastEventId))
                                 .arg(got.comments)));
        }
    };

    check(parseInChunks(input, {}), "whole");

    QList<qsizetype> everyByte;
    for (qsizetype i = 1; i < input.size(); ++i)
        everyByte << i;
    check(parseInChunks(input, everyByte), "byte by byte");

    for (qsizetype i = 1; i < input.size(); ++i) {
        for (qsizetype j = i + 1; j < input.size(); ++j)
            check(parseInChunks(input, {i, j}), "split at " + QByteArray::number(i) + "," + QByteArray::number(j));
    }
}

void TestSseParser::lastEventIdSurvivesReset()
{
    Recorder recorder;
    SseParser parser(recorder);
    parser.feed(QByteArray("id: 41\ndata: a\n\ndata: half"));
    parser.reset(); // reconnect: the half event is gone, the last event ID stays
    QCOMPARE(parser.lastEventId(), QByteArray("41"));
    parser.feed(QByteArray("\xEF\xBB\xBF" "data: b\n\n"));
    QCOMPARE(recorder.events, (QByteArrayList{"message|41|a", "message|41|b"}));
}

void TestSseParser::overlongLineIsDropped()
{
    Recorder recorder;
    SseParser parser(recorder);
    parser.setMaxLineBytes(16);
    parser.feed(QByteArray("data: 0123456789"));
    parser.feed(QByteArray("abcdefghij\ndata: ok\n\n"));
    QCOMPARE(parser.droppedLines(), std::size_t(1));
    QCOMPARE(recorder.events, (QByteArrayList{"message||ok"}));
}

void TestSseParser::manyEventsStayCheap()
{
    // 100,000 events of 256 B in 4 KB chunks: a regression here (quadratic buffering)
    // shows as a timeout rather than a number.
    QByteArray stream;
    const QByteArray payload(256, 'x');
    for (int i = 0; i < 100'000; ++i)
        stream += "id: " + QByteArray::number(i) + "\ndata: " + payload + "\n\n";
    struct Counter final : SseParser::Sink {
        int n = 0;
        void eventDispatched(const Event &) override { ++n; }
    };
    Counter counter;
    SseParser parser(counter);
    QElapsedTimer timer;
    timer.start();
    for (qsizetype i = 0; i < stream.size(); i += 4096)
        parser.feed(stream.constData() + i, static_cast<std::size_t>(std::min<qsizetype>(4096, stream.size() - i)));
    QCOMPARE(counter.n, 100'000);
    QCOMPARE(parser.lastEventId(), QByteArray("99999"));
    qInfo("parsed %lld MB in %lld ms", static_cast<long long>(stream.size() >> 20), static_cast<long long>(timer.elapsed()));

    // The same with CR line ends only, in one 26 MB chunk: still linear.
    stream.replace('\n', '\r');
    Counter crCounter;
    SseParser crParser(crCounter);
    timer.restart();
    crParser.feed(stream);
    QCOMPARE(crCounter.n, 100'000);
    qInfo("parsed %lld MB (CR line ends, one chunk) in %lld ms", static_cast<long long>(stream.size() >> 20),
          static_cast<long long>(timer.elapsed()));
}

QTEST_GUILESS_MAIN(TestSseParser)
#include "tst_sseparser.moc"
