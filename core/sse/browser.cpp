#include "core/sse/browser.h"

namespace edgesse::sse {

void Browser::Config::applyProfile(const BrowserProfile &profile)
{
    maxConnectionsPerOrigin = profile.connectionsPerHost;
    h2StreamsBeforeSettings = profile.h2StreamsBeforeSettings;
    h2StreamCap = profile.h2StreamCap;
    tlsEarlyData = profile.tlsEarlyData;
    stream.defaultRetry = profile.defaultRetry;
    stream.minRetry = profile.minRetry;
    stream.charsetMustBeUtf8 = profile.charsetMustBeUtf8;
}

Browser::Browser(Config config, net::DeadlineQueue &timers, StreamObserver *observer, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
{
    http::ConnectionPool::Config pc;
    pc.host = m_config.host;
    pc.port = m_config.port;
    pc.protocol = m_config.protocol;
    pc.maxConnections = m_config.maxConnectionsPerOrigin;
    pc.h2StreamsBeforeSettings = m_config.h2StreamsBeforeSettings;
    pc.h2StreamCap = m_config.h2StreamCap;
    pc.tlsEarlyData = m_config.tlsEarlyData;
    pc.altSvcDiscovery = m_config.altSvcDiscovery;
    m_pool = new http::ConnectionPool(pc, this);
    m_pool->setTls(m_config.tls);
    m_pool->setQuicTls(m_config.quic);
    m_pool->setLocalAddress(m_config.localAddress);
    m_streams.reserve(static_cast<std::size_t>(std::max(0, m_config.streams)));
    for (int i = 0; i < m_config.streams; ++i) {
        m_streams.push_back(std::make_unique<EventSource>(m_config.stream, *m_pool, timers, observer,
                                                          m_config.firstStreamTag + static_cast<std::uint64_t>(i)));
    }
}

Browser::~Browser()
{
    // Streams first: they cancel their requests in the pool, which must still exist.
    m_streams.clear();
}

void Browser::open()
{
    for (auto &s : m_streams)
        s->open();
}

void Browser::close()
{
    for (auto &s : m_streams)
        s->close();
}

int Browser::openCount() const
{
    int n = 0;
    for (const auto &s : m_streams)
        n += s->readyState() == EventSource::ReadyState::Open ? 1 : 0;
    return n;
}

int Browser::starvedCount() const
{
    int n = 0;
    for (const auto &s : m_streams)
        n += s->isStarved() ? 1 : 0;
    return n;
}

} // namespace edgesse::sse
