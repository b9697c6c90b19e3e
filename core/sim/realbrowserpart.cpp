#include "core/sim/realbrowserpart.h"

#include "core/sim/streamrecorder.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QUrl>

#include <cmath>

namespace edgesse::sim {

using namespace std::chrono;

namespace {

std::optional<std::uint64_t> decimalId(const QByteArray &id)
{
    bool ok = false;
    const qulonglong v = id.toULongLong(&ok);
    return ok ? std::optional<std::uint64_t>(v) : std::nullopt;
}

// A stream still connecting this long after a sibling on the same origin opened is
// waiting for a connection: starved, as the simulated pool reports it at once.
constexpr auto kStarvedAfter = 1s;

} // namespace

RealBrowserPart::RealBrowserPart(Config config, StreamRecorder &recorder, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_recorder(recorder)
{
    m_poll.setInterval(100ms);
    connect(&m_poll, &QTimer::timeout, this, &RealBrowserPart::poll);
}

RealBrowserPart::~RealBrowserPart()
{
    m_poll.stop();
    poll(); // what the pages reported last
    for (Browser &b : m_browsers) {
        if (b.chromium)
            b.chromium->stop();
        if (b.reports)
            b.reports->stop();
    }
}

bool RealBrowserPart::open(QString *error)
{
    const scenario::ClientGroup &group = *m_config.config;
    for (qint64 i = 0; i < group.count; ++i) {
        Browser b;
        sse::ServerSettings reportSettings;
        reportSettings.replayCapacity = 0;
        reportSettings.http.maxHeaderBytes = 4 * 1024 * 1024; // a report's events ride in its URL
        b.reports = std::make_unique<sse::SseServer>(reportSettings);
        if (!b.reports->start()) {
            *error = QStringLiteral("real_browser %1: no report server: %2").arg(group.name, b.reports->errorString());
            return false;
        }
        for (int s = 0; s < group.streams; ++s)
            b.streams.push_back({m_recorder.addStream(m_config.group, int(i), s, m_config.node), 0, false});
        // The page comes from the report server, so no connection to the population's origin
        // is warm before its EventSources open (as for a simulated browser) and the streams
        // are cross-origin, as a page on a site using an SSE host sees them.
        const QString scheme = m_config.https ? QStringLiteral("https") : QStringLiteral("http");
        const QString target = QStringLiteral("%1://127.0.0.1:%2%3").arg(scheme).arg(m_config.port).arg(QString::fromLatin1(m_config.path));
        // The warm-up stream goes to the report server under another name (another origin, so
        // cross-origin as the streams are) and takes none of the population's connections.
        const QString page = QStringLiteral("http://127.0.0.1:%1/client.html?streams=%2&events=1&start=1000%3&url=%4"
                                            "&report=http://127.0.0.1:%1/report&warm=http://localhost:%1/events")
                                 .arg(b.reports->port()).arg(group.streams)
                                 .arg(group.client == scenario::ClientApi::Fetch ? QStringLiteral("&client=fetch") : QString())
                                 .arg(QString::fromLatin1(QUrl::toPercentEncoding(target)));
        b.chromium = std::make_unique<sse::ChromiumProcess>(page, m_config.spki);
        b.openedAt = steady_clock::now();
        if (!b.chromium->start(error))
            return false;
        m_browsers.push_back(std::move(b));
    }
    m_poll.start();
    return true;
}

void RealBrowserPart::poll()
{
    for (Browser &b : m_browsers) {
        if (!b.startedUp && !b.reports->lastReport().isEmpty()) {
            b.startedUp = true; // the page runs: the browser is up, its streams not yet open
            b.chromium->runAhead();
        }
        takeSummary(b);
        takeEvents(b);
    }
}

void RealBrowserPart::takeSummary(Browser &b)
{
    const QJsonArray all = QJsonDocument::fromJson(b.reports->lastReport()).array();
    for (const QJsonValue v : all) {
        const QJsonObject o = v.toObject();
        const int i = o.value(QStringLiteral("stream")).toInt(-1);
        if (i < 0 || std::size_t(i) >= b.streams.size())
            continue;
        Stream &s = b.streams[std::size_t(i)];
        const int opens = o.value(QStringLiteral("opens")).toInt();
        for (; s.opens < opens; ++s.opens) {
            if (s.opens > 0) {
                sse::Disconnect d;
                d.cause = sse::DisconnectCause::ServerClose;
                d.willReconnect = true;
                d.message = "the real browser reconnected";
                m_recorder.streamDisconnected(s.tag, d);
            }
            sse::ConnectInfo info;
            info.attempt = std::uint32_t(s.opens);
            info.protocol = m_config.config->protocol == scenario::Protocol::Http2 ? sse::Protocol::Http2 : sse::Protocol::Http1;
            m_recorder.streamConnected(s.tag, info);
            m_recorder.streamOpened(s.tag, microseconds(0));
        }
        if (opens > 0 && !b.firstOpenAt)
            b.firstOpenAt = steady_clock::now();
        if (opens == 0 && !s.starved && b.firstOpenAt && steady_clock::now() - *b.firstOpenAt > kStarvedAfter) {
            s.starved = true;
            m_recorder.streamStarved(s.tag, *b.firstOpenAt);
        }
        const QJsonValue reconnect = o.value(QStringLiteral("reconnectMs"));
        if (!s.reconnectTimed && reconnect.isDouble() && s.opens > 1) {
            s.reconnectTimed = true;
            m_recorder.reconnectTimed(s.tag, reconnect.toDouble());
        }
        const QJsonValue first = o.value(QStringLiteral("firstEventMs"));
        if (!s.firstEvent && first.isDouble()) {
            s.firstEvent = true;
            m_recorder.firstEventReceived(s.tag, microseconds(std::llround(first.toDouble() * 1000)));
        }
    }
}

void RealBrowserPart::takeEvents(Browser &b)
{
    const std::optional<nanoseconds> offset = clockOffset(b);
    if (!offset)
        return; // no ping yet: the events wait in the report server
    const std::vector<QByteArray> reports = b.reports->eventReports();
    for (; b.reportsTaken < reports.size(); ++b.reportsTaken) {
        for (const QJsonValue v : QJsonDocument::fromJson(reports[b.reportsTaken]).array()) {
            const QJsonArray e = v.toArray();
            const int i = e.at(0).toInt(-1);
            if (i < 0 || std::size_t(i) >= b.streams.size())
                continue;
            sse::Event event;
            event.id = e.at(1).toString().toUtf8();
            const auto at = steady_clock::time_point(
                duration_cast<steady_clock::duration>(nanoseconds(std::llround(e.at(2).toDouble() * 1e6)) + *offset));
            m_recorder.eventReceived(b.streams[std::size_t(i)].tag, sse::ReceivedEvent{event, decimalId(event.id), at});
        }
    }
}

std::optional<nanoseconds> RealBrowserPart::clockOffset(const Browser &b) const
{
    std::optional<nanoseconds> best;
    for (const sse::SseServer::ClockPing &p : b.reports->clockPings()) {
        const nanoseconds offset = duration_cast<nanoseconds>(p.arrivedAt.time_since_epoch()) -
                                   nanoseconds(std::llround(p.pageEpochMs * 1e6));
        if (!best || offset < *best)
            best = offset;
    }
    return best;
}

} // namespace edgesse::sim
