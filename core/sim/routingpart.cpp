#include "core/sim/routingpart.h"

#include "core/sim/topologyparts.h"

namespace edgesse::sim {

namespace {

class NodeInstance final : public routing::Instance
{
public:
    NodeInstance(std::unique_ptr<ServerPart> server, const PoolSpec &spec, net::DeadlineQueue &deadlines)
        : m_server(std::move(server))
    {
        if (spec.upstreamPort != 0)
            m_relay = std::make_unique<RelayPart>(*spec.node, spec.protocol, m_server.get(), spec.upstreamPort, deadlines,
                                                  spec.upstreamTls, spec.upstreamPath, nullptr, spec.timeScale);
    }
    ~NodeInstance() override
    {
        m_relay.reset(); // the feed stops before its server
        m_server.reset();
    }
    NodeInstance(const NodeInstance &) = delete;
    NodeInstance &operator=(const NodeInstance &) = delete;

    quint16 port() const override { return m_server->port(); }
    sse::ServerStats stats() const override { return m_server->stats(); }
    void publish(const sse::PublishedEvent &event) override { m_server->publish(event); }
    bool upstreamOpen() const override { return !m_relay || m_relay->openUpstreams() > 0; }

private:
    std::unique_ptr<ServerPart> m_server;
    std::unique_ptr<RelayPart> m_relay;
};

} // namespace

std::unique_ptr<routing::InstancePool> makeInstancePool(const PoolSpec &spec, net::DeadlineQueue &deadlines)
{
    routing::InstanceFactory factory = [spec, &deadlines](int, QString *error) -> std::unique_ptr<routing::Instance> {
        auto server = std::make_unique<ServerPart>(serverSettings(*spec.node, *spec.sse, spec.timeScale), spec.serverTls);
        if (!server->listen(error))
            return nullptr;
        return std::make_unique<NodeInstance>(std::move(server), spec, deadlines);
    };
    routing::InstancePool::Settings settings;
    settings.node = spec.node;
    settings.seed = spec.seed;
    settings.retryAfter = rejectionRetryAfter(*spec.sse);
    return std::make_unique<routing::InstancePool>(settings, std::move(factory), deadlines);
}

} // namespace edgesse::sim
