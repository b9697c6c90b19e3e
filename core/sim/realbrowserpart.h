#pragma once

#include "core/scenario/scenario.h"
#include "core/sse/chromiumprocess.h"
#include "core/sse/sseserver.h"

#include <QObject>
#include <QTimer>

#include <chrono>
#include <memory>
#include <vector>

namespace edgesse::sim {

class StreamRecorder;

// A real-browser population: one headless Chromium per browser, each with its own profile,
// on the test page through the population's access link, recording into the same metrics
// as simulated browsers. The page reports to a server of this part's own (another origin:
// the reports take none of the page's connections) every 200 ms: its streams' states, time
// to first event, and every event's id with its receipt time on the page's clock
// (performance.timeOrigin + performance.now()). That clock is mapped onto the run's steady
// clock by the page's clock pings: offset = min over pings of (arrival − page time), so a
// mapped receipt time is late by at most the fastest ping's one-way delay (loopback).
// Starvation is inferred: a stream still connecting 1 s after a sibling opened is starved.
// A browser starts up at normal priority and runs ahead of other work (as root) from its
// page's first report on, a second before its streams open; the page warms the browser up
// with one stream to another origin first (the first request of a fresh browser runs code
// nothing ran yet), so a time to first event is the network's and the open browser's.
// A stream's first reconnect is the page's timing: from the end of its stream, as the page
// heard of it, to the next response.
// Lives on the thread of the recorder it is given; destroying it stops every browser.
class RealBrowserPart final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RealBrowserPart)

public:
    struct Config {
        int group = 0;
        const scenario::ClientGroup *config = nullptr;
        QString node;
        quint16 port = 0;  // the population's link
        bool https = false; // a tls link: the page is served over HTTPS (h2 or http/1.1 by ALPN)
        QByteArray path = QByteArrayLiteral("/events");
        QByteArray spki; // the run's certificate, trusted by the browsers
    };

    RealBrowserPart(Config config, StreamRecorder &recorder, QObject *parent = nullptr);
    ~RealBrowserPart() override;

    // Launches the browsers; false with `error` when one cannot start.
    bool open(QString *error);

private:
    struct Stream {
        std::uint64_t tag = 0;
        int opens = 0;
        bool firstEvent = false;
        bool starved = false;
        bool reconnectTimed = false;
    };
    struct Browser {
        std::unique_ptr<sse::SseServer> reports;
        std::unique_ptr<sse::ChromiumProcess> chromium;
        std::vector<Stream> streams;
        std::size_t reportsTaken = 0;
        bool startedUp = false;
        std::chrono::steady_clock::time_point openedAt;
        std::optional<std::chrono::steady_clock::time_point> firstOpenAt; // of any of its streams
    };

    void poll();
    void takeSummary(Browser &b);
    void takeEvents(Browser &b);
    std::optional<std::chrono::nanoseconds> clockOffset(const Browser &b) const;

    Config m_config;
    StreamRecorder &m_recorder;
    std::vector<Browser> m_browsers;
    QTimer m_poll;
};

} // namespace edgesse::sim
