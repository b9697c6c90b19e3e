#include "core/scenario/loader/keys.h"

namespace edgesse::scenario::loader {

const QStringList kVariantKeys{QStringLiteral("seed"),    QStringLiteral("duration"), QStringLiteral("warmup"),
                               QStringLiteral("arrival"),
                               QStringLiteral("placement"), QStringLiteral("protocol"), QStringLiteral("discovery"), QStringLiteral("nodes"),
                               QStringLiteral("clients"), QStringLiteral("links"),    QStringLiteral("publisher"),
                               QStringLiteral("sse"),     QStringLiteral("pricing")};
const QStringList kTopLevelKeys = QStringList{QStringLiteral("name"), QStringLiteral("description"),
                                              QStringLiteral("question"), QStringLiteral("variants"), QStringLiteral("sweep")}
    + kVariantKeys;
const QStringList kVariantItemKeys =
    QStringList{QStringLiteral("name"), QStringLiteral("description"), QStringLiteral("sweep")} + kVariantKeys;
const QStringList kNodeKeys{QStringLiteral("kind"), QStringLiteral("region"), QStringLiteral("max_connections"),
                            QStringLiteral("max_stream_duration"), QStringLiteral("upstream"),
                            QStringLiteral("command"), QStringLiteral("url"), QStringLiteral("files"),
                            QStringLiteral("vars"), QStringLiteral("ready_timeout"), QStringLiteral("stop_grace"),
                            QStringLiteral("working_directory")};
const QStringList kClientKeys{QStringLiteral("name"),          QStringLiteral("count"),
                              QStringLiteral("near"),          QStringLiteral("streams"),
                              QStringLiteral("delivery"),      QStringLiteral("poll_interval"),
                              QStringLiteral("long_poll_timeout"), QStringLiteral("protocol"),
                              QStringLiteral("connections_per_origin"), QStringLiteral("browser"),
                              QStringLiteral("client"),        QStringLiteral("reconnect"),
                              QStringLiteral("real_browser"),  QStringLiteral("early_data"),
                              QStringLiteral("discovery")};
const QStringList kReconnectKeys{QStringLiteral("backoff"), QStringLiteral("base"), QStringLiteral("max"),
                                 QStringLiteral("jitter")};
const QStringList kLinkKeys{QStringLiteral("between"),  QStringLiteral("latency"),       QStringLiteral("jitter"),
                            QStringLiteral("jitter_distribution"), QStringLiteral("bandwidth"), QStringLiteral("loss"),
                            QStringLiteral("loss_recovery"), QStringLiteral("rto"),     QStringLiteral("tls"),
                            QStringLiteral("gateway"),  QStringLiteral("faults")};
const QStringList kGatewayKeys{QStringLiteral("preset"), QStringLiteral("idle_timeout"), QStringLiteral("max_duration")};
const QStringList kFaultKeys{QStringLiteral("at"), QStringLiteral("down_for")};
const QStringList kPublisherKeys{QStringLiteral("at"), QStringLiteral("rate"), QStringLiteral("pattern"),
                                 QStringLiteral("burst_size"), QStringLiteral("payload"), QStringLiteral("post"),
                                 QStringLiteral("body")};
const QStringList kSseKeys{QStringLiteral("heartbeat"), QStringLiteral("retry"), QStringLiteral("replay"),
                           QStringLiteral("max_concurrent_streams")};
const QStringList kPricingKeys{QStringLiteral("currency"),          QStringLiteral("per_million_requests"),
                               QStringLiteral("per_gb_egress"),     QStringLiteral("per_connection_hour"),
                               QStringLiteral("per_gb_second"),     QStringLiteral("memory"),
                               QStringLiteral("per_instance_hour"), QStringLiteral("per_instance_gb_second")};

} // namespace edgesse::scenario::loader
