#include "core/http/altsvc.h"

#include <QList>

#include <algorithm>

namespace edgesse::http {

namespace {

// `"host:port"` or `":port"` (quotes optional, as some servers send them bare).
std::optional<AltService> authorityOf(QByteArray value)
{
    value = value.trimmed();
    if (value.size() >= 2 && value.startsWith('"') && value.endsWith('"'))
        value = value.mid(1, value.size() - 2);
    const qsizetype colon = value.lastIndexOf(':');
    if (colon < 0)
        return std::nullopt;
    bool ok = false;
    const uint port = value.mid(colon + 1).toUInt(&ok);
    if (!ok || port == 0 || port > 65535)
        return std::nullopt;
    AltService s;
    s.host = value.left(colon);
    s.port = static_cast<quint16>(port);
    return s;
}

void readParameters(const QList<QByteArray> &parameters, AltService &service)
{
    for (qsizetype i = 1; i < parameters.size(); ++i) {
        const QByteArray p = parameters[i].trimmed();
        if (!p.startsWith("ma="))
            continue;
        bool ok = false;
        const qulonglong seconds = p.mid(3).toULongLong(&ok);
        if (ok)
            service.maxAge = std::chrono::seconds(static_cast<std::chrono::seconds::rep>(std::min<qulonglong>(seconds, 1u << 30)));
    }
}

} // namespace

AltSvcField parseAltSvc(const QByteArray &value)
{
    AltSvcField field;
    if (value.trimmed() == "clear") {
        field.clear = true;
        return field;
    }
    for (const QByteArray &alternative : value.split(',')) {
        const QList<QByteArray> parameters = alternative.split(';');
        const QByteArray first = parameters.front().trimmed();
        const qsizetype eq = first.indexOf('=');
        if (eq < 0 || first.left(eq).trimmed() != "h3")
            continue;
        std::optional<AltService> service = authorityOf(first.mid(eq + 1));
        if (!service)
            continue;
        readParameters(parameters, *service);
        field.h3 = std::move(service);
        return field;
    }
    return field;
}

} // namespace edgesse::http
