// Scenario loader: YAML text → a tree that remembers where each value was written →
// variants merged and swept → resolved Variant structs, every problem reported once.

#include "core/net/fdlimit.h"
#include "core/scenario/scenario.h"
#include "core/scenario/units.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QRegularExpression>
#include <QSet>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

namespace edgesse::scenario {

using namespace std::chrono_literals;

namespace {

constexpr int kMaxDepth = 64;
constexpr int kMaxValues = 200'000; // bounds alias expansion ("billion laughs")
constexpr int kMaxVariants = 256;
constexpr qint64 kMaxSeed = (qint64(1) << 53) - 1; // exact in JSON

// ---------------------------------------------------------------------------------------
// The tree

struct Entry;

struct Value {
    enum class Kind { Null, Scalar, Sequence, Map };
    Kind kind = Kind::Null;
    QString scalar;
    std::vector<Value> items;
    std::vector<Entry> entries;
    int line = 0;
    int column = 0;
    QString path; // where it was written: links[2].latency

    bool isNull() const { return kind == Kind::Null; }
    bool isScalar() const { return kind == Kind::Scalar; }
    bool isMap() const { return kind == Kind::Map; }
    bool isSequence() const { return kind == Kind::Sequence; }
    const Value *find(QStringView key) const;
    Value *find(QStringView key);
    QString describe() const;
};

struct Entry {
    QString key;
    int line = 0;
    int column = 0;
    Value value;
};

const Value *Value::find(QStringView key) const
{
    for (const Entry &e : entries)
        if (e.key == key)
            return &e.value;
    return nullptr;
}

Value *Value::find(QStringView key)
{
    for (Entry &e : entries)
        if (e.key == key)
            return &e.value;
    return nullptr;
}

QString Value::describe() const
{
    switch (kind) {
    case Kind::Null:
        return QStringLiteral("nothing");
    case Kind::Scalar:
        return u'"' + scalar + u'"';
    case Kind::Sequence:
        return QStringLiteral("a list");
    case Kind::Map:
        return QStringLiteral("a mapping");
    }
    return {};
}

QString childPath(const QString &parent, const QString &key)
{
    static const QRegularExpression plain(QStringLiteral("^[A-Za-z0-9_-]+$"));
    const QString part = plain.match(key).hasMatch() ? key : u'"' + key + u'"';
    return parent.isEmpty() ? part : parent + u'.' + part;
}

QString indexPath(const QString &parent, qsizetype index)
{
    return parent + u'[' + QString::number(index) + u']';
}

// ---------------------------------------------------------------------------------------
// Diagnostics

class Report
{
public:
    explicit Report(QString file) : m_file(std::move(file)) {}
    const QString &file() const { return m_file; }

    void add(int line, int column, const QString &message)
    {
        ++m_attempts;
        const Diagnostic d{m_file, line, column, message};
        if (!m_seen.contains(d.toString())) {
            m_seen.insert(d.toString());
            m_list << d;
        }
    }
    void at(const Value &v, const QString &message)
    {
        add(v.line, v.column, v.path.isEmpty() ? message : v.path + QStringLiteral(": ") + message);
    }
    int count() const { return int(m_list.size()); }
    // Problems reported so far, repeats included: a variant that repeats a problem
    // another variant already reported is just as broken.
    int attempts() const { return m_attempts; }
    QList<Diagnostic> take()
    {
        std::stable_sort(m_list.begin(), m_list.end(), [](const Diagnostic &a, const Diagnostic &b) {
            return std::tie(a.line, a.column) < std::tie(b.line, b.column);
        });
        return m_list;
    }

private:
    QString m_file;
    QList<Diagnostic> m_list;
    QSet<QString> m_seen;
    int m_attempts = 0;
};

QString suggestion(const QString &word, const QStringList &candidates)
{
    QString best;
    int bestDistance = std::max(2, int(word.size()) / 3) + 1;
    for (const QString &c : candidates) {
        const int d = units::editDistance(word.toLower(), c);
        if (d < bestDistance) {
            bestDistance = d;
            best = c;
        }
    }
    return best;
}

QString oneOf(const QStringList &words)
{
    QStringList quotedWords;
    for (const QString &w : words)
        quotedWords << w;
    if (quotedWords.size() <= 1)
        return quotedWords.join(QString());
    const QString last = quotedWords.takeLast();
    return quotedWords.join(QStringLiteral(", ")) + QStringLiteral(" or ") + last;
}

// ---------------------------------------------------------------------------------------
// YAML → Value

class Converter
{
public:
    explicit Converter(Report &report) : m_report(report) {}

    Value convert(const YAML::Node &node, const QString &path, int depth, int line, int column)
    {
        Value v;
        v.path = path;
        const YAML::Mark mark = node.Mark();
        v.line = mark.line >= 0 ? mark.line + 1 : line;
        v.column = mark.column >= 0 ? mark.column + 1 : column;
        if (++m_values > kMaxValues) {
            if (!m_tooMany)
                m_report.at(v, QStringLiteral("the document expands to more than %1 values (aliases repeated too often?)")
                                   .arg(kMaxValues));
            m_tooMany = true;
            return v;
        }
        if (depth > kMaxDepth) {
            if (!m_tooDeep)
                m_report.at(v, QStringLiteral("nesting deeper than %1 levels").arg(kMaxDepth));
            m_tooDeep = true;
            return v;
        }
        switch (node.Type()) {
        case YAML::NodeType::Undefined:
        case YAML::NodeType::Null:
            break;
        case YAML::NodeType::Scalar:
            v.kind = Value::Kind::Scalar;
            v.scalar = QString::fromStdString(node.Scalar());
            break;
        case YAML::NodeType::Sequence: {
            v.kind = Value::Kind::Sequence;
            qsizetype i = 0;
            for (const YAML::Node &item : node) {
                v.items.push_back(convert(item, indexPath(path, i), depth + 1, v.line, v.column));
                ++i;
                if (m_tooMany)
                    break;
            }
            break;
        }
        case YAML::NodeType::Map: {
            v.kind = Value::Kind::Map;
            QHash<QString, int> firstLine;
            for (auto it = node.begin(); it != node.end(); ++it) {
                const YAML::Node key = it->first;
                const YAML::Mark keyMark = key.Mark();
                Entry e;
                e.line = keyMark.line >= 0 ? keyMark.line + 1 : v.line;
                e.column = keyMark.column >= 0 ? keyMark.column + 1 : v.column;
                if (!key.IsScalar()) {
                    m_report.add(e.line, e.column,
                                 (path.isEmpty() ? QString() : path + QStringLiteral(": "))
                                     + QStringLiteral("a key must be a plain word, not a list or mapping"));
                    continue;
                }
                e.key = QString::fromStdString(key.Scalar());
                const QString entryPath = childPath(path, e.key);
                if (firstLine.contains(e.key)) {
                    m_report.add(e.line, e.column,
                                 QStringLiteral("%1: duplicate key (first given on line %2)").arg(entryPath).arg(firstLine[e.key]));
                    continue;
                }
                firstLine.insert(e.key, e.line);
                e.value = convert(it->second, entryPath, depth + 1, e.line, e.column);
                v.entries.push_back(std::move(e));
                if (m_tooMany)
                    break;
            }
            break;
        }
        }
        return v;
    }

private:
    Report &m_report;
    int m_values = 0;
    bool m_tooMany = false;
    bool m_tooDeep = false;
};

// ---------------------------------------------------------------------------------------
// Reading typed values; each reports its own problem and returns nullopt.

class Reader
{
public:
    explicit Reader(Report &report) : m_report(report) {}

    Report &report() { return m_report; }

    void checkKeys(const Value &map, const QStringList &allowed, const QString &context = {})
    {
        for (const Entry &e : map.entries) {
            if (allowed.contains(e.key))
                continue;
            QString message = (map.path.isEmpty() ? QStringLiteral("unknown top-level key \"%1\"")
                                                  : map.path + QStringLiteral(": unknown key \"%1\""))
                                  .arg(e.key);
            if (!context.isEmpty())
                message += u' ' + context;
            const QString best = suggestion(e.key, allowed);
            if (!best.isEmpty())
                message += QStringLiteral("; did you mean \"%1\"?").arg(best);
            else
                message += QStringLiteral("; expected one of: %1").arg(allowed.join(QStringLiteral(", ")));
            m_report.add(e.line, e.column, message);
        }
    }

    bool expectMap(const Value &v, const QString &what)
    {
        if (v.isMap())
            return true;
        m_report.at(v, QStringLiteral("expected %1 (a mapping of keys), got %2").arg(what, v.describe()));
        return false;
    }

    bool expectSequence(const Value &v, const QString &what)
    {
        if (v.isSequence())
            return true;
        m_report.at(v, QStringLiteral("expected %1 (a list), got %2").arg(what, v.describe()));
        return false;
    }

    const Value *require(const Value &map, const QString &key, const QString &hint)
    {
        const Value *v = map.find(key);
        if (!v)
            m_report.at(map, QStringLiteral("missing required key \"%1\" (%2)").arg(key, hint));
        return v;
    }

    std::optional<QString> scalar(const Value &v, const QString &what)
    {
        if (v.isScalar())
            return v.scalar;
        m_report.at(v, QStringLiteral("expected %1, got %2").arg(what, v.describe()));
        return std::nullopt;
    }

    std::optional<QString> name(const Value &v, const QString &what)
    {
        static const QRegularExpression valid(QStringLiteral("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"));
        const auto text = scalar(v, what);
        if (!text)
            return std::nullopt;
        if (!valid.match(*text).hasMatch()) {
            m_report.at(v, QStringLiteral("%1 \"%2\" must start with a letter or digit and contain only letters, digits, "
                                          "'-', '_' and '.' (at most 64)")
                               .arg(what, *text));
            return std::nullopt;
        }
        return text;
    }

    std::optional<qint64> integer(const Value &v, qint64 min, qint64 max, const QString &what)
    {
        if (!v.isScalar()) {
            m_report.at(v, QStringLiteral("expected %1 (a whole number), got %2").arg(what, v.describe()));
            return std::nullopt;
        }
        bool ok = false;
        const qint64 n = v.scalar.trimmed().toLongLong(&ok);
        if (!ok) {
            m_report.at(v, QStringLiteral("expected %1 (a whole number), got %2").arg(what, v.describe()));
            return std::nullopt;
        }
        if (n < min || n > max) {
            m_report.at(v, QStringLiteral("must be between %1 and %2, got %3").arg(min).arg(max).arg(n));
            return std::nullopt;
        }
        return n;
    }

    std::optional<double> number(const Value &v, double min, double max, const QString &what)
    {
        bool ok = false;
        const double n = v.isScalar() ? v.scalar.trimmed().toDouble(&ok) : 0.0;
        if (!ok || !std::isfinite(n)) {
            m_report.at(v, QStringLiteral("expected %1 (a number), got %2").arg(what, v.describe()));
            return std::nullopt;
        }
        if (n < min || n > max) {
            m_report.at(v, QStringLiteral("must be between %1 and %2, got %3").arg(min).arg(max).arg(v.scalar));
            return std::nullopt;
        }
        return n;
    }

    std::optional<bool> boolean(const Value &v)
    {
        if (v.isScalar()) {
            // YAML 1.2: only true and false are booleans ("yes" and "on" are words).
            const QString s = v.scalar.trimmed();
            if (s == QLatin1String("true"))
                return true;
            if (s == QLatin1String("false"))
                return false;
        }
        m_report.at(v, QStringLiteral("expected true or false, got %1").arg(v.describe()));
        return std::nullopt;
    }

    // A duration in [min, max]; `absentWords` ("none", "off") give std::nullopt inside the result.
    std::optional<std::optional<microseconds>> duration(const Value &v, microseconds min, const QStringList &absentWords = {})
    {
        if (v.isScalar() && absentWords.contains(v.scalar.trimmed()))
            return std::optional<microseconds>();
        if (!v.isScalar()) {
            QString alt = absentWords.isEmpty() ? QString() : QStringLiteral(" or ") + absentWords.first();
            m_report.at(v, QStringLiteral("expected a duration like 40ms%1, got %2").arg(alt, v.describe()));
            return std::nullopt;
        }
        QString error;
        const auto d = units::parseDuration(v.scalar, &error);
        if (!d) {
            if (!absentWords.isEmpty() && error.startsWith(QLatin1String("expected a duration like 40ms")))
                error.insert(int(qstrlen("expected a duration like 40ms")), QStringLiteral(" or ") + absentWords.first());
            m_report.at(v, error);
            return std::nullopt;
        }
        if (*d < min) {
            m_report.at(v, min == 0us ? QStringLiteral("must not be negative")
                                      : QStringLiteral("must be at least %1, got %2").arg(units::formatDuration(min), v.scalar));
            return std::nullopt;
        }
        return std::optional<microseconds>(*d);
    }

    std::optional<microseconds> requiredDuration(const Value &v, microseconds min)
    {
        const auto d = duration(v, min);
        if (!d)
            return std::nullopt;
        return *d;
    }

    template<typename Parse>
    auto unit(const Value &v, const QString &what, Parse parse) -> decltype(parse(QStringView(), nullptr))
    {
        if (!v.isScalar()) {
            m_report.at(v, QStringLiteral("expected %1, got %2").arg(what, v.describe()));
            return std::nullopt;
        }
        QString error;
        auto result = parse(v.scalar, &error);
        if (!result)
            m_report.at(v, error);
        return result;
    }

    template<typename E>
    std::optional<E> choice(const Value &v, const QList<QPair<QString, E>> &options, const QString &what)
    {
        QStringList words;
        for (const auto &o : options)
            words << o.first;
        if (v.isScalar()) {
            for (const auto &o : options)
                if (v.scalar.trimmed() == o.first)
                    return o.second;
            const QString best = suggestion(v.scalar.trimmed(), words);
            m_report.at(v, QStringLiteral("unknown %1 %2; expected %3%4")
                               .arg(what, v.describe(), oneOf(words),
                                    best.isEmpty() ? QString() : QStringLiteral(" (did you mean \"%1\"?)").arg(best)));
            return std::nullopt;
        }
        m_report.at(v, QStringLiteral("expected %1 (%2), got %3").arg(what, oneOf(words), v.describe()));
        return std::nullopt;
    }

private:
    Report &m_report;
};

const QList<QPair<QString, Placement>> kPlacements{{QStringLiteral("central"), Placement::Central},
                                                   {QStringLiteral("edge"), Placement::Edge}};
const QList<QPair<QString, Protocol>> kProtocols{{QStringLiteral("http1"), Protocol::Http1},
                                                 {QStringLiteral("http2"), Protocol::Http2}};
const QList<QPair<QString, NodeKind>> kKinds{{QStringLiteral("origin"), NodeKind::Origin},
                                             {QStringLiteral("pop"), NodeKind::Pop}};
const QList<QPair<QString, UpstreamMode>> kUpstreams{{QStringLiteral("shared"), UpstreamMode::Shared},
                                                     {QStringLiteral("per-client"), UpstreamMode::PerClient}};
const QList<QPair<QString, Delivery>> kDeliveries{{QStringLiteral("sse"), Delivery::Sse},
                                                  {QStringLiteral("poll"), Delivery::Poll},
                                                  {QStringLiteral("long-poll"), Delivery::LongPoll}};
const QList<QPair<QString, JitterDistribution>> kDistributions{{QStringLiteral("uniform"), JitterDistribution::Uniform},
                                                               {QStringLiteral("normal"), JitterDistribution::Normal},
                                                               {QStringLiteral("pareto"), JitterDistribution::Pareto}};
const QList<QPair<QString, LossRecovery>> kRecoveries{{QStringLiteral("fast-retransmit"), LossRecovery::FastRetransmit},
                                                      {QStringLiteral("timeout"), LossRecovery::Timeout}};
const QList<QPair<QString, PublishPattern>> kPatterns{{QStringLiteral("constant"), PublishPattern::Constant},
                                                      {QStringLiteral("poisson"), PublishPattern::Poisson},
                                                      {QStringLiteral("bursty"), PublishPattern::Bursty}};

const QStringList kVariantKeys{QStringLiteral("seed"),    QStringLiteral("duration"), QStringLiteral("warmup"),
                               QStringLiteral("placement"), QStringLiteral("protocol"), QStringLiteral("nodes"),
                               QStringLiteral("clients"), QStringLiteral("links"),    QStringLiteral("publisher"),
                               QStringLiteral("sse"),     QStringLiteral("pricing")};
const QStringList kTopLevelKeys = QStringList{QStringLiteral("name"), QStringLiteral("description"),
                                              QStringLiteral("variants"), QStringLiteral("sweep")}
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
                              QStringLiteral("connections_per_origin")};
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
                               QStringLiteral("per_gb_second"),     QStringLiteral("memory")};

// ---------------------------------------------------------------------------------------
// Variants: deep merge and sweeps

std::optional<QPair<QString, QString>> betweenPair(const Value &item)
{
    if (!item.isMap())
        return std::nullopt;
    const Value *between = item.find(u"between");
    if (!between || !between->isSequence() || between->items.size() != 2 || !between->items[0].isScalar()
        || !between->items[1].isScalar())
        return std::nullopt;
    QString a = between->items[0].scalar;
    QString b = between->items[1].scalar;
    if (b < a)
        std::swap(a, b);
    return QPair<QString, QString>(a, b);
}

std::optional<QString> itemName(const Value &item)
{
    if (!item.isMap())
        return std::nullopt;
    const Value *n = item.find(u"name");
    if (!n || !n->isScalar())
        return std::nullopt;
    return n->scalar;
}

void deepMerge(Value &base, const Value &overlay);

// Lists of named items (clients) merge by name, links by their two endpoints; an overlay
// item that matches nothing is appended.
void mergeList(Value &base, const Value &overlay, bool byEndpoints)
{
    for (const Value &item : overlay.items) {
        Value *match = nullptr;
        for (Value &existing : base.items) {
            if (byEndpoints) {
                const auto a = betweenPair(existing);
                if (a && a == betweenPair(item))
                    match = &existing;
            } else {
                const auto a = itemName(existing);
                if (a && a == itemName(item))
                    match = &existing;
            }
        }
        if (match)
            deepMerge(*match, item);
        else
            base.items.push_back(item);
    }
}

void deepMerge(Value &base, const Value &overlay)
{
    if (!base.isMap() || !overlay.isMap()) {
        base = overlay;
        return;
    }
    for (const Entry &e : overlay.entries) {
        Value *existing = base.find(e.key);
        if (!existing) {
            base.entries.push_back(e);
        } else if (existing->isMap() && e.value.isMap()) {
            deepMerge(*existing, e.value);
        } else if (existing->isSequence() && e.value.isSequence()
                   && (e.key == QLatin1String("clients") || e.key == QLatin1String("links"))) {
            mergeList(*existing, e.value, e.key == QLatin1String("links"));
        } else {
            *existing = e.value;
        }
    }
}

struct SweepDimension {
    QString path;  // as written: sse.heartbeat, clients[berlin].count
    QString label; // short form for generated names
    int line = 0;
    int column = 0;
    std::vector<Value> values;
};

struct Segment {
    QString key;
    std::optional<QString> selector; // [0] or [name]
};

std::optional<QList<Segment>> parseSweepPath(const QString &path)
{
    static const QRegularExpression segment(QStringLiteral("^([A-Za-z0-9_-]+)(?:\\[([^\\]]+)\\])?$"));
    QList<Segment> result;
    for (const QString &part : path.split(u'.')) {
        const auto m = segment.match(part);
        if (!m.hasMatch())
            return std::nullopt;
        Segment s{m.captured(1), std::nullopt};
        if (m.hasCaptured(2))
            s.selector = m.captured(2);
        result << s;
    }
    return result;
}

// Sets the value at a sweep path inside a merged variant tree. Returns an error or empty.
QString setAtPath(Value &root, const QList<Segment> &segments, const Value &value, const SweepDimension &dim)
{
    Value *current = &root;
    for (qsizetype i = 0; i < segments.size(); ++i) {
        const Segment &s = segments[i];
        if (!current->isMap())
            return QStringLiteral("\"%1\" is not a mapping in this variant").arg(s.key);
        Value *next = current->find(s.key);
        if (!next) {
            if (s.selector)
                return QStringLiteral("this variant has no \"%1\"").arg(s.key);
            Entry e;
            e.key = s.key;
            e.line = dim.line;
            e.column = dim.column;
            e.value.kind = Value::Kind::Map;
            e.value.line = dim.line;
            e.value.column = dim.column;
            e.value.path = childPath(current->path, s.key);
            current->entries.push_back(e);
            next = &current->entries.back().value;
        }
        if (s.selector) {
            if (!next->isSequence())
                return QStringLiteral("\"%1\" is not a list").arg(s.key);
            bool isIndex = false;
            const int index = s.selector->toInt(&isIndex);
            Value *item = nullptr;
            if (isIndex) {
                if (index >= 0 && size_t(index) < next->items.size())
                    item = &next->items[size_t(index)];
            } else {
                for (Value &candidate : next->items)
                    if (itemName(candidate) == *s.selector)
                        item = &candidate;
            }
            if (!item)
                return QStringLiteral("\"%1\" has no item %2").arg(s.key, *s.selector);
            next = item;
        }
        if (i + 1 == segments.size()) {
            *next = value;
            return {};
        }
        current = next;
    }
    return {};
}

// ---------------------------------------------------------------------------------------
// Resolution of one merged variant tree

class Resolver
{
public:
    Resolver(Reader &reader, const Value &root) : m_read(reader), m_report(reader.report()), m_root(root) {}

    // `label` names the variant as written (before a sweep), for problems every swept
    // combination shares.
    std::optional<Variant> resolve(const QString &name, const QString &label, const Value *variantItem)
    {
        m_label = label;
        const int before = m_report.attempts();
        Variant v;
        v.name = name;
        m_variantItem = variantItem;
        readTop(v);
        readNodes(v);
        readClients(v);
        readLinks(v);
        readPublisher(v);
        readSse(v);
        readPricing(v);
        if (m_report.attempts() == before)
            checkSemantics(v);
        if (m_report.attempts() != before)
            return std::nullopt;
        return v;
    }

private:
    void readTop(Variant &v)
    {
        if (const Value *x = m_root.find(u"seed"))
            if (auto n = m_read.integer(*x, 0, kMaxSeed, QStringLiteral("seed")))
                v.seed = quint64(*n);
        if (const Value *x = m_root.find(u"duration"))
            if (auto d = m_read.requiredDuration(*x, 1ms))
                v.duration = *d;
        if (const Value *x = m_root.find(u"warmup"))
            if (auto d = m_read.requiredDuration(*x, 0us))
                v.warmup = *d;
        m_placementValue = m_root.find(u"placement");
        if (m_placementValue)
            if (auto p = m_read.choice(*m_placementValue, kPlacements, QStringLiteral("placement")))
                v.placement = *p;
        if (const Value *x = m_root.find(u"protocol"))
            if (auto p = m_read.choice(*x, kProtocols, QStringLiteral("protocol")))
                v.protocol = *p;
    }

    void readNodes(Variant &v)
    {
        const Value *nodes = m_read.require(m_root, QStringLiteral("nodes"), QStringLiteral("the origin and any edge PoPs"));
        if (!nodes || !m_read.expectMap(*nodes, QStringLiteral("nodes by name"))) {
            m_nodesUnreadable = true;
            return;
        }
        if (nodes->entries.empty()) {
            m_report.at(*nodes, QStringLiteral("no nodes; define at least one node of kind origin"));
            return;
        }
        for (const Entry &e : nodes->entries) {
            Value keyValue;
            keyValue.kind = Value::Kind::Scalar;
            keyValue.scalar = e.key;
            keyValue.line = e.line;
            keyValue.column = e.column;
            keyValue.path = nodes->path;
            const auto name = m_read.name(keyValue, QStringLiteral("node name"));
            const Value &spec = e.value;
            if (!m_read.expectMap(spec, QStringLiteral("a node like { kind: origin, region: us-east }")))
                continue;
            m_read.checkKeys(spec, kNodeKeys);
            Node n;
            n.name = name.value_or(e.key);
            if (const Value *kind = m_read.require(spec, QStringLiteral("kind"), QStringLiteral("origin or pop")))
                if (auto k = m_read.choice(*kind, kKinds, QStringLiteral("node kind")))
                    n.kind = *k;
            if (const Value *x = spec.find(u"region"))
                if (auto s = m_read.scalar(*x, QStringLiteral("a region name")))
                    n.region = *s;
            if (const Value *x = spec.find(u"max_connections"))
                if (auto c = m_read.integer(*x, 0, 10'000'000, QStringLiteral("max_connections")))
                    n.maxConnections = *c;
            if (const Value *x = spec.find(u"max_stream_duration"))
                if (auto d = m_read.duration(*x, 1ms, {QStringLiteral("none")}))
                    n.maxStreamDuration = *d;
            if (const Value *x = spec.find(u"upstream")) {
                if (auto u = m_read.choice(*x, kUpstreams, QStringLiteral("upstream mode")))
                    n.upstream = *u;
                if (n.kind == NodeKind::Origin)
                    m_report.at(*x, QStringLiteral("upstream applies to a pop only; an origin has no upstream"));
            }
            readExternal(spec, n);
            m_nodeValues.insert(n.name, &spec);
            v.nodes << n;
        }
        if (std::none_of(v.nodes.begin(), v.nodes.end(), [](const Node &n) { return n.kind == NodeKind::Origin; }))
            m_report.at(*nodes, QStringLiteral("no node of kind origin; the publisher needs one"));
    }

    // command / url / files / vars: the user's own server standing as this node.
    void readExternal(const Value &spec, Node &n)
    {
        const Value *command = spec.find(u"command");
        const Value *url = spec.find(u"url");
        if (!command && !url) {
            for (const char16_t *key : {u"files", u"vars", u"ready_timeout", u"stop_grace", u"working_directory"})
                if (const Value *x = spec.find(key))
                    m_report.at(*x, QStringLiteral("%1 applies to an external node; add command: or url:").arg(QString::fromUtf16(key)));
            return;
        }
        ExternalServer x;
        if (command)
            if (auto s = m_read.scalar(*command, QStringLiteral("a command line like \"node server.js --port {port}\"")))
                x.command = s->trimmed();
        if (url)
            if (auto s = m_read.scalar(*url, QStringLiteral("a URL like http://127.0.0.1:8080/events")))
                x.url = s->trimmed();
        readTexts(spec, u"files", x.files, QStringLiteral("file name"));
        readTexts(spec, u"vars", x.vars, QStringLiteral("placeholder name"));
        if (const Value *t = spec.find(u"ready_timeout"))
            if (auto d = m_read.requiredDuration(*t, 100ms))
                x.readyTimeout = *d;
        if (const Value *t = spec.find(u"stop_grace"))
            if (auto d = m_read.requiredDuration(*t, 0us))
                x.stopGrace = *d;
        // Commands run where the scenario file is, so they can name files beside it.
        const QDir base = QFileInfo(m_report.file()).absoluteDir();
        x.workingDirectory = base.absolutePath();
        if (const Value *w = spec.find(u"working_directory"))
            if (auto s = m_read.scalar(*w, QStringLiteral("a folder")))
                x.workingDirectory = QDir::cleanPath(base.absoluteFilePath(*s));
        if (command && x.command.isEmpty())
            m_report.at(*command, QStringLiteral("command is empty; give the command line that starts the server"));
        if (n.kind == NodeKind::Pop && !command) {
            m_report.at(*url, QStringLiteral("a PoP EdgeSSE does not start cannot be put behind its upstream link; "
                                             "start it with command: and point it at {upstream}"));
            return;
        }
        if (n.kind == NodeKind::Pop && !usesUpstream(spec, x))
            m_report.at(*command, QStringLiteral("a PoP's command or files must use {upstream} (or {upstream_address}, "
                                                 "{upstream_port}) so its traffic crosses the link to the origin"));
        if (url && !checkUrl(*url, x))
            return;
        for (const auto &var : x.vars)
            if (externalPlaceholders().contains(var.first))
                m_report.at(spec.find(u"vars") ? *spec.find(u"vars") : spec,
                            QStringLiteral("vars: \"%1\" is a placeholder EdgeSSE fills in itself; choose another name").arg(var.first));
        checkPlaceholders(command, x.command, n, x);
        checkPlaceholders(url, x.url, n, x);
        if (const Value *files = spec.find(u"files"); files && files->isMap())
            for (const Entry &e : files->entries)
                checkPlaceholders(&e.value, e.value.scalar, n, x);
        n.external = x;
    }

    static bool usesUpstream(const Value &spec, const ExternalServer &x)
    {
        QStringList names = placeholderNames(x.command);
        for (const auto &file : x.files)
            names << placeholderNames(file.second);
        (void)spec;
        return names.contains(QStringLiteral("upstream")) || names.contains(QStringLiteral("upstream_address"))
            || names.contains(QStringLiteral("upstream_port"));
    }

    bool checkUrl(const Value &at, const ExternalServer &x)
    {
        const QString probe = QString(x.url).replace(QStringLiteral("{port}"), QStringLiteral("1"));
        const QUrl u(probe, QUrl::StrictMode);
        if (!u.isValid() || u.scheme() != QLatin1String("http") || u.host().isEmpty()) {
            m_report.at(at, QStringLiteral("url must be an http:// URL of the event stream, like http://127.0.0.1:8080/events; got \"%1\"").arg(x.url));
            return false;
        }
        if (x.command.isEmpty() && x.url.contains(QStringLiteral("{port}"))) {
            m_report.at(at, QStringLiteral("{port} in url needs a command: EdgeSSE only chooses the port of a server it starts"));
            return false;
        }
        if (x.command.isEmpty() && u.port() <= 0) {
            m_report.at(at, QStringLiteral("url needs an explicit port, like http://127.0.0.1:8080/events"));
            return false;
        }
        return true;
    }

    void readTexts(const Value &spec, QStringView key, QList<QPair<QString, QString>> &out, const QString &what)
    {
        const Value *map = spec.find(key);
        if (!map || !m_read.expectMap(*map, what + QStringLiteral("s with their text")))
            return;
        static const QRegularExpression fileName(QStringLiteral("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$"));
        static const QRegularExpression varName(QStringLiteral("^[a-z_][a-z0-9_]{0,63}$"));
        const QRegularExpression &valid = key == u"files" ? fileName : varName;
        for (const Entry &e : map->entries) {
            if (!valid.match(e.key).hasMatch()) {
                m_report.add(e.line, e.column, QStringLiteral("%1: %2 \"%3\" must be %4").arg(map->path, what, e.key,
                             key == u"files" ? QStringLiteral("a plain file name (letters, digits, '_', '-', '.'), no folders")
                                             : QStringLiteral("lower-case letters, digits and '_'")));
                continue;
            }
            if (auto text = m_read.scalar(e.value, QStringLiteral("text")))
                out.push_back({e.key, *text});
        }
    }

    void checkPlaceholders(const Value *at, const QString &text, const Node &n, const ExternalServer &x)
    {
        if (!at)
            return;
        static const QStringList upstreamNames{QStringLiteral("upstream"), QStringLiteral("upstream_address"),
                                               QStringLiteral("upstream_port"), QStringLiteral("upstream_path")};
        for (const QString &name : placeholderNames(text)) {
            const bool var = std::any_of(x.vars.begin(), x.vars.end(), [&](const auto &p) { return p.first == name; });
            if (var)
                continue;
            if (!externalPlaceholders().contains(name)) {
                QStringList known = externalPlaceholders();
                for (const auto &p : x.vars)
                    known << p.first;
                m_report.at(*at, QStringLiteral("unknown placeholder {%1}; known: %2 (vars: adds your own; {{ is a literal brace)")
                                     .arg(name, known.join(QStringLiteral(", "))));
            } else if (n.kind == NodeKind::Origin && upstreamNames.contains(name)) {
                m_report.at(*at, QStringLiteral("{%1} is the URL of a PoP's upstream link; an origin has none").arg(name));
            } else if (name == QLatin1String("port") && x.command.isEmpty()) {
                m_report.at(*at, QStringLiteral("{port} needs a command: EdgeSSE only chooses the port of a server it starts"));
            }
        }
    }

    void readClients(Variant &v)
    {
        const Value *clients = m_read.require(m_root, QStringLiteral("clients"), QStringLiteral("the client populations"));
        if (!clients || !m_read.expectSequence(*clients, QStringLiteral("client groups"))) {
            m_clientsUnreadable = true;
            return;
        }
        if (clients->items.empty()) {
            m_report.at(*clients, QStringLiteral("no client groups; add one like { name: berlin, count: 100, near: origin }"));
            return;
        }
        for (const Value &item : clients->items) {
            if (!m_read.expectMap(item, QStringLiteral("a client group like { name: berlin, count: 100, near: pop-fra }")))
                continue;
            m_read.checkKeys(item, kClientKeys);
            ClientGroup g;
            if (const Value *x = m_read.require(item, QStringLiteral("name"), QStringLiteral("a name for the group"))) {
                // An invalid name is reported but still used, so links to it do not fail again.
                const bool valid = m_read.name(*x, QStringLiteral("client group name")).has_value();
                if (x->isScalar() && !x->scalar.isEmpty()) {
                    g.name = x->scalar;
                    if (valid && m_groupValues.contains(g.name))
                        m_report.at(*x, QStringLiteral("duplicate client group name \"%1\"").arg(g.name));
                    else if (valid && v.node(g.name))
                        m_report.at(*x, QStringLiteral("client group name \"%1\" is already a node name").arg(g.name));
                }
            }
            if (const Value *x = m_read.require(item, QStringLiteral("count"), QStringLiteral("how many browsers")))
                if (auto n = m_read.integer(*x, 1, 1'000'000, QStringLiteral("count")))
                    g.count = *n;
            if (const Value *x = m_read.require(item, QStringLiteral("near"), QStringLiteral("the node the browsers are closest to"))) {
                if (auto s = m_read.scalar(*x, QStringLiteral("a node name"))) {
                    g.near = *s;
                    if (!m_nodesUnreadable && !v.nodes.isEmpty() && !v.node(g.near))
                        unknownReference(*x, g.near, QStringLiteral("node"), nodeNames(v));
                }
            }
            if (const Value *x = item.find(u"streams"))
                if (auto n = m_read.integer(*x, 1, 1000, QStringLiteral("streams")))
                    g.streams = int(*n);
            if (const Value *x = item.find(u"delivery"))
                if (auto d = m_read.choice(*x, kDeliveries, QStringLiteral("delivery")))
                    g.delivery = *d;
            if (const Value *x = item.find(u"poll_interval"))
                if (auto d = m_read.requiredDuration(*x, 1ms))
                    g.pollInterval = *d;
            if (const Value *x = item.find(u"long_poll_timeout"))
                if (auto d = m_read.requiredDuration(*x, 1ms))
                    g.longPollTimeout = *d;
            if (const Value *x = item.find(u"protocol"))
                if (auto p = m_read.choice(*x, kProtocols, QStringLiteral("protocol")))
                    g.protocol = *p;
            if (const Value *x = item.find(u"connections_per_origin"))
                if (auto n = m_read.integer(*x, 1, 256, QStringLiteral("connections_per_origin")))
                    g.connectionsPerOrigin = int(*n);
            if (!g.name.isEmpty() && !m_groupValues.contains(g.name)) {
                m_groupValues.insert(g.name, &item);
                v.clients << g;
            }
        }
    }

    void readLinks(Variant &v)
    {
        const Value *links = m_read.require(m_root, QStringLiteral("links"), QStringLiteral("the network paths between clients and nodes"));
        if (!links || !m_read.expectSequence(*links, QStringLiteral("links")))
            return;
        const QStringList endpoints = nodeNames(v) + groupNames(v);
        for (const Value &item : links->items) {
            if (!m_read.expectMap(item, QStringLiteral("a link like { between: [berlin, pop-fra], latency: 8ms }")))
                continue;
            m_read.checkKeys(item, kLinkKeys);
            Link l;
            bool endpointsOk = false;
            if (const Value *x = m_read.require(item, QStringLiteral("between"), QStringLiteral("the two ends, like [berlin, pop-fra]")))
                endpointsOk = readBetween(v, *x, endpoints, l);
            bool latencyOk = false; // a bad latency is reported once, not again through the jitter check
            if (const Value *x = m_read.require(item, QStringLiteral("latency"), QStringLiteral("one-way delay, like 40ms")))
                if (auto d = m_read.requiredDuration(*x, 0us)) {
                    l.latency = *d;
                    latencyOk = true;
                }
            if (const Value *x = item.find(u"jitter"))
                if (auto d = m_read.requiredDuration(*x, 0us))
                    l.jitter = *d;
            if (const Value *x = item.find(u"jitter_distribution"))
                if (auto d = m_read.choice(*x, kDistributions, QStringLiteral("jitter distribution")))
                    l.jitterDistribution = *d;
            if (latencyOk && l.jitter > l.latency && l.jitterDistribution != JitterDistribution::Pareto)
                if (const Value *x = item.find(u"jitter"))
                    m_report.at(*x, QStringLiteral("jitter %1 exceeds latency %2; a delay cannot go below zero")
                                        .arg(units::formatDuration(l.jitter), units::formatDuration(l.latency)));
            if (const Value *x = item.find(u"bandwidth"))
                if (auto b = m_read.unit(*x, QStringLiteral("a bandwidth like 100Mbps"),
                                         [](QStringView t, QString *e) { return units::parseBandwidth(t, e); }))
                    l.bandwidthBitsPerSecond = *b;
            if (const Value *x = item.find(u"loss")) {
                if (auto p = m_read.unit(*x, QStringLiteral("a probability like 0.01 or 1%"),
                                         [](QStringView t, QString *e) { return units::parseProbability(t, e); })) {
                    if (*p >= 1.0)
                        m_report.at(*x, QStringLiteral("loss %1 would drop every segment; use a value below 1 (100%)").arg(x->scalar));
                    else
                        l.loss = *p;
                }
            }
            if (const Value *x = item.find(u"loss_recovery"))
                if (auto r = m_read.choice(*x, kRecoveries, QStringLiteral("loss recovery")))
                    l.lossRecovery = *r;
            if (const Value *x = item.find(u"rto"))
                if (auto d = m_read.requiredDuration(*x, 200ms))
                    l.rto = *d;
            if (const Value *x = item.find(u"tls"))
                if (auto b = m_read.boolean(*x))
                    l.tls = *b;
            if (const Value *x = item.find(u"gateway"))
                l.gateway = readGateway(*x);
            if (const Value *x = item.find(u"faults"))
                l.faults = readFaults(*x);
            if (endpointsOk) {
                if (const Link *previous = v.linkBetween(l.a, l.b)) {
                    m_report.at(*item.find(u"between"),
                                QStringLiteral("a second link between \"%1\" and \"%2\"; each pair is linked once")
                                    .arg(previous->a, previous->b));
                    continue;
                }
                m_linkValues.insert(v.links.size(), &item);
                v.links << l;
            }
        }
    }

    bool readBetween(const Variant &v, const Value &x, const QStringList &endpoints, Link &l)
    {
        if (!x.isSequence() || x.items.size() != 2 || !x.items[0].isScalar() || !x.items[1].isScalar()) {
            m_report.at(x, QStringLiteral("expected two names like [berlin, pop-fra], got %1").arg(x.describe()));
            return false;
        }
        bool ok = true;
        for (const Value &end : x.items) {
            if (!v.node(end.scalar) && !v.clientGroup(end.scalar)) {
                if (!m_nodesUnreadable && !m_clientsUnreadable)
                    unknownReference(end, end.scalar, QStringLiteral("node or client group"), endpoints);
                ok = false;
            }
        }
        l.a = x.items[0].scalar;
        l.b = x.items[1].scalar;
        if (!ok)
            return false;
        if (l.a == l.b) {
            m_report.at(x, QStringLiteral("a link joins two different ends, got \"%1\" twice").arg(l.a));
            return false;
        }
        if (v.clientGroup(l.a) && v.clientGroup(l.b)) {
            m_report.at(x, QStringLiteral("a link joins clients to a node; \"%1\" and \"%2\" are both client groups").arg(l.a, l.b));
            return false;
        }
        return true;
    }

    std::optional<Gateway> readGateway(const Value &x)
    {
        QStringList presetNames;
        for (const GatewayPreset &p : gatewayPresets())
            presetNames << p.name;
        const auto fromPreset = [&](const Value &nameValue) -> std::optional<Gateway> {
            const auto text = m_read.scalar(nameValue, QStringLiteral("a gateway preset name"));
            if (!text)
                return std::nullopt;
            const GatewayPreset *preset = findGatewayPreset(*text);
            if (!preset) {
                unknownReference(nameValue, *text, QStringLiteral("gateway preset"), presetNames);
                return std::nullopt;
            }
            return Gateway{preset->name, preset->idleTimeout, preset->maxDuration};
        };
        if (x.isScalar() && x.scalar == QLatin1String("none"))
            return std::nullopt;
        if (x.isScalar())
            return fromPreset(x);
        if (!x.isMap()) {
            m_report.at(x, QStringLiteral("expected a gateway preset (%1) or { preset: NAME, idle_timeout: D, max_duration: D }, got %2")
                               .arg(presetNames.join(QStringLiteral(", ")), x.describe()));
            return std::nullopt;
        }
        m_read.checkKeys(x, kGatewayKeys);
        Gateway g{QStringLiteral("custom"), std::nullopt, std::nullopt};
        if (const Value *p = x.find(u"preset")) {
            auto preset = fromPreset(*p);
            if (!preset)
                return std::nullopt;
            g = *preset;
        } else if (!x.find(u"idle_timeout") && !x.find(u"max_duration")) {
            m_report.at(x, QStringLiteral("a gateway needs a preset, an idle_timeout or a max_duration"));
            return std::nullopt;
        }
        if (const Value *d = x.find(u"idle_timeout"))
            if (auto t = m_read.duration(*d, 1ms, {QStringLiteral("none")}))
                g.idleTimeout = *t;
        if (const Value *d = x.find(u"max_duration"))
            if (auto t = m_read.duration(*d, 1ms, {QStringLiteral("none")}))
                g.maxDuration = *t;
        return g;
    }

    QList<LinkFault> readFaults(const Value &x)
    {
        QList<LinkFault> faults;
        if (!m_read.expectSequence(x, QStringLiteral("faults like [{ at: 10s, down_for: 2s }]")))
            return faults;
        for (const Value &item : x.items) {
            if (!m_read.expectMap(item, QStringLiteral("a fault like { at: 10s, down_for: 2s }")))
                continue;
            m_read.checkKeys(item, kFaultKeys);
            LinkFault f;
            if (const Value *at = m_read.require(item, QStringLiteral("at"), QStringLiteral("when the link goes down, like 10s")))
                if (auto d = m_read.requiredDuration(*at, 0us))
                    f.at = *d;
            if (const Value *down = m_read.require(item, QStringLiteral("down_for"), QStringLiteral("how long it stays down, like 2s")))
                if (auto d = m_read.requiredDuration(*down, 1ms))
                    f.downFor = *d;
            if (!faults.isEmpty() && f.at < faults.back().at + faults.back().downFor)
                m_report.at(item, QStringLiteral("faults must be in time order without overlap; this one starts at %1, "
                                                 "before the previous one ends at %2")
                                      .arg(units::formatDuration(f.at), units::formatDuration(faults.back().at + faults.back().downFor)));
            faults << f;
        }
        return faults;
    }

    void readPublisher(Variant &v)
    {
        const Value *p = m_read.require(m_root, QStringLiteral("publisher"), QStringLiteral("where events come from and how often, like { at: origin, rate: 20/s }"));
        if (!p || !m_read.expectMap(*p, QStringLiteral("a publisher like { at: origin, rate: 20/s, payload: 256B }")))
            return;
        m_read.checkKeys(*p, kPublisherKeys);
        QStringList origins;
        for (const Node &n : v.nodes)
            if (n.kind == NodeKind::Origin)
                origins << n.name;
        if (const Value *at = p->find(u"at")) {
            if (auto s = m_read.scalar(*at, QStringLiteral("an origin node name"))) {
                v.publisher.at = *s;
                const Node *n = v.node(*s);
                if (!n && !v.nodes.isEmpty())
                    unknownReference(*at, *s, QStringLiteral("node"), origins);
                else if (n && n->kind != NodeKind::Origin && !origins.isEmpty())
                    m_report.at(*at, QStringLiteral("\"%1\" is a pop; the publisher is attached to an origin (%2)")
                                         .arg(*s, origins.join(QStringLiteral(", "))));
            }
        } else if (origins.size() == 1) {
            v.publisher.at = origins.first();
        } else if (origins.size() > 1) {
            m_report.at(*p, QStringLiteral("missing required key \"at\": the scenario has %1 origins (%2); say which one publishes")
                                .arg(origins.size())
                                .arg(origins.join(QStringLiteral(", "))));
        }
        if (const Value *r = m_read.require(*p, QStringLiteral("rate"), QStringLiteral("events per second, like 20/s"))) {
            if (auto rate = m_read.unit(*r, QStringLiteral("a rate like 20/s"), [](QStringView t, QString *e) { return units::parseRate(t, e); })) {
                if (*rate <= 0 || *rate > 100'000)
                    m_report.at(*r, QStringLiteral("rate must be above 0/s and at most 100000/s, got %1").arg(r->scalar));
                else
                    v.publisher.rate = *rate;
            }
        }
        if (const Value *x = p->find(u"pattern"))
            if (auto pattern = m_read.choice(*x, kPatterns, QStringLiteral("publish pattern")))
                v.publisher.pattern = *pattern;
        if (const Value *x = p->find(u"burst_size"))
            if (auto n = m_read.integer(*x, 1, 100'000, QStringLiteral("burst_size")))
                v.publisher.burstSize = int(*n);
        if (const Value *x = p->find(u"payload")) {
            if (auto b = m_read.unit(*x, QStringLiteral("a size like 256B"), [](QStringView t, QString *e) { return units::parseBytes(t, e); })) {
                if (*b > 1024 * 1024)
                    m_report.at(*x, QStringLiteral("payload must be at most 1MB, got %1").arg(x->scalar));
                else
                    v.publisher.payloadBytes = *b;
            }
        }
        readPublishHook(*p, v);
    }

    // post / body: EdgeSSE drives an external origin's publish endpoint.
    void readPublishHook(const Value &p, Variant &v)
    {
        const Value *post = p.find(u"post");
        const Value *body = p.find(u"body");
        if (body && !post)
            m_report.at(*body, QStringLiteral("body is what the publisher POSTs; add post: with the origin's publish URL"));
        if (!post)
            return;
        const auto url = m_read.scalar(*post, QStringLiteral("a URL like http://127.0.0.1:{port}/publish"));
        if (!url)
            return;
        const Node *origin = v.node(v.publisher.at);
        if (origin && !origin->external) {
            m_report.at(*post, QStringLiteral("post drives an external origin's publish endpoint; \"%1\" is EdgeSSE's own "
                                              "(add command: or url: to it, or remove post:)").arg(origin->name));
            return;
        }
        const QUrl u(QString(*url).replace(QStringLiteral("{port}"), QStringLiteral("1")), QUrl::StrictMode);
        if (!u.isValid() || u.scheme() != QLatin1String("http") || u.host().isEmpty()) {
            m_report.at(*post, QStringLiteral("post must be an http:// URL, like http://127.0.0.1:{port}/publish; got \"%1\"").arg(*url));
            return;
        }
        static const QStringList allowed{QStringLiteral("port"), QStringLiteral("seq"), QStringLiteral("payload")};
        for (const Value *x : {post, body}) {
            if (!x)
                continue;
            for (const QString &name : placeholderNames(x->scalar))
                if (!allowed.contains(name))
                    m_report.at(*x, QStringLiteral("unknown placeholder {%1}; the publisher knows {port}, {seq} and {payload}").arg(name));
        }
        v.publisher.post = *url;
        if (body)
            if (auto b = m_read.scalar(*body, QStringLiteral("the text to POST")))
                v.publisher.body = *b;
    }

    void readSse(Variant &v)
    {
        const Value *s = m_root.find(u"sse");
        if (!s || !m_read.expectMap(*s, QStringLiteral("SSE settings like { heartbeat: 15s, retry: 3s, replay: 1000 }")))
            return;
        m_read.checkKeys(*s, kSseKeys);
        if (const Value *x = s->find(u"heartbeat"))
            if (auto d = m_read.duration(*x, 1ms, {QStringLiteral("off"), QStringLiteral("none"), QStringLiteral("false")}))
                v.sse.heartbeat = *d;
        if (const Value *x = s->find(u"retry"))
            if (auto d = m_read.requiredDuration(*x, 0us))
                v.sse.retry = *d;
        if (const Value *x = s->find(u"replay"))
            if (auto n = m_read.integer(*x, 0, 1'000'000, QStringLiteral("replay")))
                v.sse.replay = int(*n);
        if (const Value *x = s->find(u"max_concurrent_streams"))
            if (auto n = m_read.integer(*x, 1, 100'000, QStringLiteral("max_concurrent_streams")))
                v.sse.maxConcurrentStreams = int(*n);
    }

    void readPricing(Variant &v)
    {
        const Value *p = m_root.find(u"pricing");
        if (!p || (p->isScalar() && p->scalar == QLatin1String("none")))
            return;
        if (!m_read.expectMap(*p, QStringLiteral("prices like { per_million_requests: 0.60, per_gb_egress: 0.09 }")))
            return;
        m_read.checkKeys(*p, kPricingKeys);
        Pricing pricing;
        if (const Value *x = p->find(u"currency"))
            if (auto s = m_read.scalar(*x, QStringLiteral("a currency code like USD")))
                pricing.currency = *s;
        const auto price = [&](const char16_t *key, double &field) {
            if (const Value *x = p->find(key))
                if (auto n = m_read.number(*x, 0, 1e9, QStringLiteral("a price")))
                    field = *n;
        };
        price(u"per_million_requests", pricing.perMillionRequests);
        price(u"per_gb_egress", pricing.perGbEgress);
        price(u"per_connection_hour", pricing.perConnectionHour);
        price(u"per_gb_second", pricing.perGbSecond);
        if (const Value *x = p->find(u"memory")) {
            if (auto b = m_read.unit(*x, QStringLiteral("a size like 128MB"), [](QStringView t, QString *e) { return units::parseBytes(t, e); })) {
                if (*b <= 0)
                    m_report.at(*x, QStringLiteral("memory must be above 0B"));
                else
                    pricing.memoryBytes = *b;
            }
        }
        v.pricing = pricing;
    }

    // Only on a variant that read cleanly: references exist, so placement and budget can be judged.
    void checkSemantics(const Variant &v)
    {
        const QString variantLabel = QStringLiteral("variant \"%1\" (placement %2)").arg(m_label, keyword(v.placement));
        for (const ClientGroup &g : v.clients) {
            const QStringList hops = v.path(g);
            for (qsizetype i = 1; i < hops.size(); ++i) {
                if (v.linkBetween(hops[i - 1], hops[i]))
                    continue;
                const Value *where = m_placementValue ? m_placementValue : m_groupValues.value(g.name);
                const QString why = i == 1 && hops.size() == 3 ? QStringLiteral("client group \"%1\" reaches its PoP over it").arg(g.name)
                    : i == 1                                  ? QStringLiteral("client group \"%1\" reaches the origin over it").arg(g.name)
                                                              : QStringLiteral("PoP \"%1\" subscribes to the origin over it").arg(hops[i - 1]);
                m_report.at(*where, QStringLiteral("%1 needs a link between \"%2\" and \"%3\" (%4); add { between: [%2, %3], latency: ... } to links")
                                        .arg(variantLabel, hops[i - 1], hops[i], why));
            }
        }
        checkExternalOrigin(v, variantLabel);
        const QString budget = net::checkDescriptorBudget(v.descriptorsNeeded());
        if (!budget.isEmpty()) {
            const ClientGroup *largest = nullptr;
            for (const ClientGroup &g : v.clients)
                if (!largest || v.clientConnections(g) > v.clientConnections(*largest))
                    largest = &g;
            const Value *group = largest ? m_groupValues.value(largest->name) : nullptr;
            const Value *where = group && group->find(u"count") ? group->find(u"count") : (m_variantItem ? m_variantItem : &m_root);
            m_report.at(*where, QStringLiteral("variant \"%1\" opens %2 connections: %3")
                                    .arg(v.name)
                                    .arg(v.connectionsNeeded())
                                    .arg(budget));
        }
    }

    // The first link reads an external origin's events from HTTP/1.1 responses.
    void checkExternalOrigin(const Variant &v, const QString &variantLabel)
    {
        const Node *origin = v.origin();
        if (!origin || !origin->external)
            return;
        for (const ClientGroup &g : v.clients) {
            const QStringList hops = v.path(g);
            const QString before = hops.size() >= 2 ? hops[hops.size() - 2] : QString();
            const Node *pop = v.node(before);
            const bool http2 = pop ? (!pop->external && v.protocol == Protocol::Http2) : v.protocolFor(g) == Protocol::Http2;
            if (!http2)
                continue;
            const Value *where = m_placementValue ? m_placementValue : m_groupValues.value(g.name);
            m_report.at(*where, QStringLiteral("%1 speaks HTTP/2 to the external origin \"%2\" (from \"%3\"); EdgeSSE reads "
                                               "the events of a server it did not publish from HTTP/1.1: use protocol: http1 there")
                                    .arg(variantLabel, origin->name, before));
            return;
        }
    }

    void unknownReference(const Value &at, const QString &name, const QString &what, const QStringList &candidates)
    {
        const QString best = suggestion(name, candidates);
        QString message = QStringLiteral("no %1 named \"%2\"").arg(what, name);
        if (!best.isEmpty())
            message += QStringLiteral("; did you mean \"%1\"?").arg(best);
        else if (!candidates.isEmpty())
            message += QStringLiteral("; known: %1").arg(candidates.join(QStringLiteral(", ")));
        m_report.at(at, message);
    }

    static QStringList nodeNames(const Variant &v)
    {
        QStringList names;
        for (const Node &n : v.nodes)
            names << n.name;
        return names;
    }

    static QStringList groupNames(const Variant &v)
    {
        QStringList names;
        for (const ClientGroup &g : v.clients)
            names << g.name;
        return names;
    }

    Reader &m_read;
    Report &m_report;
    const Value &m_root;
    const Value *m_variantItem = nullptr;
    QString m_label;
    const Value *m_placementValue = nullptr;
    bool m_nodesUnreadable = false; // then references to nodes are not judged
    bool m_clientsUnreadable = false;
    QHash<QString, const Value *> m_nodeValues;
    QHash<QString, const Value *> m_groupValues;
    QHash<qsizetype, const Value *> m_linkValues;
};

// ---------------------------------------------------------------------------------------
// The whole document

struct Candidate {
    QString name;
    QString baseName; // the variant's own name, or "default"; name adds the sweep's choices
    const Value *nameValue = nullptr; // for duplicate-name errors
    const Value *item = nullptr;      // the variants[i] entry, if any
    Value tree;
    QList<QPair<QString, QString>> sweepValues;
};

std::vector<SweepDimension> readSweep(Reader &read, const Value &sweep)
{
    std::vector<SweepDimension> dims;
    if (!read.expectMap(sweep, QStringLiteral("a sweep like { sse.heartbeat: [off, 5s, 15s] }")))
        return dims;
    for (const Entry &e : sweep.entries) {
        SweepDimension d;
        d.path = e.key;
        d.line = e.line;
        d.column = e.column;
        const auto segments = parseSweepPath(e.key);
        if (!segments) {
            read.report().add(e.line, e.column,
                              QStringLiteral("%1: \"%2\" is not a key path like sse.heartbeat or clients[berlin].count")
                                  .arg(sweep.path, e.key));
            continue;
        }
        if (!kVariantKeys.contains(segments->first().key)) {
            const QString best = suggestion(segments->first().key, kVariantKeys);
            read.report().add(e.line, e.column,
                              QStringLiteral("%1: cannot sweep \"%2\"; a sweep varies one of %3%4")
                                  .arg(sweep.path, e.key, kVariantKeys.join(QStringLiteral(", ")),
                                       best.isEmpty() ? QString() : QStringLiteral(" (did you mean \"%1\"?)").arg(best)));
            continue;
        }
        if (!e.value.isSequence() || e.value.items.empty()) {
            read.report().at(e.value, QStringLiteral("expected a non-empty list of values to sweep, got %1").arg(e.value.describe()));
            continue;
        }
        d.label = segments->back().key;
        d.values = e.value.items;
        dims.push_back(std::move(d));
    }
    // Short labels must not collide; fall back to the full path where they do.
    for (SweepDimension &d : dims) {
        const auto same = std::count_if(dims.begin(), dims.end(), [&](const SweepDimension &o) { return o.label == d.label; });
        if (same > 1)
            d.label = d.path;
    }
    for (SweepDimension &d : dims)
        if (std::count_if(dims.begin(), dims.end(), [&](const SweepDimension &o) { return o.label == d.label; }) > 1)
            d.label = d.path;
    return dims;
}

QString valueText(const Value &v, size_t index)
{
    if (v.isScalar())
        return v.scalar;
    if (v.isNull())
        return QStringLiteral("none");
    return u'#' + QString::number(index + 1);
}

// Expands `base` over the sweep dimensions: the cartesian product, first dimension slowest.
bool expandSweep(Report &report, const Candidate &base, const std::vector<SweepDimension> &dims, QList<Candidate> &out)
{
    if (dims.empty()) {
        out << base;
        return true;
    }
    qint64 combinations = 1;
    for (const SweepDimension &d : dims) {
        combinations *= qint64(d.values.size());
        if (combinations > kMaxVariants)
            break;
    }
    if (combinations + out.size() > kMaxVariants) {
        report.add(dims.front().line, dims.front().column,
                   QStringLiteral("the sweep expands to more than %1 variants; sweep fewer values").arg(kMaxVariants));
        return false;
    }
    std::vector<size_t> index(dims.size(), 0);
    for (qint64 c = 0; c < combinations; ++c) {
        Candidate cand = base;
        QStringList parts;
        bool ok = true;
        for (size_t i = 0; i < dims.size(); ++i) {
            const SweepDimension &d = dims[i];
            const Value &value = d.values[index[i]];
            const QString error = setAtPath(cand.tree, *parseSweepPath(d.path), value, d);
            if (!error.isEmpty()) {
                report.add(d.line, d.column, QStringLiteral("sweep \"%1\": %2").arg(d.path, error));
                ok = false;
            }
            const QString text = valueText(value, index[i]);
            parts << d.label + u'=' + text;
            cand.sweepValues << qMakePair(d.path, text);
        }
        if (!ok)
            return false;
        const QString generated = parts.join(u',');
        cand.name = base.name.isEmpty() ? generated : base.name + u':' + generated;
        out << cand;
        for (size_t i = dims.size(); i-- > 0;) {
            if (++index[i] < dims[i].values.size())
                break;
            index[i] = 0;
        }
    }
    return true;
}

QList<Candidate> candidates(Reader &read, const Value &root)
{
    Report &report = read.report();
    Value base = root;
    base.entries.erase(std::remove_if(base.entries.begin(), base.entries.end(),
                                      [](const Entry &e) { return !kVariantKeys.contains(e.key); }),
                       base.entries.end());
    std::vector<SweepDimension> topSweep;
    if (const Value *s = root.find(u"sweep"))
        topSweep = readSweep(read, *s);

    QList<Candidate> result;
    const Value *variants = root.find(u"variants");
    if (!variants) {
        Candidate c;
        c.name = topSweep.empty() ? QStringLiteral("default") : QString();
        c.baseName = QStringLiteral("default");
        c.tree = base;
        expandSweep(report, c, topSweep, result);
        return result;
    }
    if (!read.expectSequence(*variants, QStringLiteral("variants like [{ name: edge, placement: edge }]")))
        return result;
    if (variants->items.empty()) {
        report.at(*variants, QStringLiteral("the list is empty; add a variant like { name: edge, placement: edge } or remove the key"));
        return result;
    }
    for (const Value &item : variants->items) {
        if (!read.expectMap(item, QStringLiteral("a variant like { name: edge, placement: edge }")))
            continue;
        read.checkKeys(item, kVariantItemKeys, QStringLiteral("in a variant"));
        Candidate c;
        c.item = &item;
        if (const Value *n = read.require(item, QStringLiteral("name"), QStringLiteral("how results and charts call this variant"))) {
            c.nameValue = n;
            if (auto s = read.scalar(*n, QStringLiteral("a variant name"))) {
                if (s->trimmed().isEmpty())
                    report.at(*n, QStringLiteral("a variant name must not be empty"));
                c.name = *s;
                c.baseName = *s;
            }
        }
        Value overlay = item;
        overlay.entries.erase(std::remove_if(overlay.entries.begin(), overlay.entries.end(),
                                             [](const Entry &e) { return !kVariantKeys.contains(e.key); }),
                              overlay.entries.end());
        c.tree = base;
        deepMerge(c.tree, overlay);
        std::vector<SweepDimension> dims = topSweep;
        if (const Value *s = item.find(u"sweep")) {
            std::vector<SweepDimension> own = readSweep(read, *s);
            dims.insert(dims.end(), own.begin(), own.end());
        }
        expandSweep(report, c, dims, result);
    }
    return result;
}

LoadResult loadDocument(const QByteArray &text, const QString &fileName)
{
    Report report(fileName);
    YAML::Node document;
    try {
        document = YAML::Load(text.toStdString());
    } catch (const YAML::Exception &e) {
        report.add(e.mark.line >= 0 ? e.mark.line + 1 : 1, e.mark.column >= 0 ? e.mark.column + 1 : 1,
                   QStringLiteral("YAML syntax: %1").arg(QString::fromStdString(e.msg)));
        return {std::nullopt, report.take()};
    }

    Converter converter(report);
    const Value root = converter.convert(document, QString(), 0, 1, 1);
    Reader read(report);
    if (root.isNull()) {
        report.add(1, 1, QStringLiteral("the file is empty; a scenario needs name, nodes, clients, links and publisher"));
        return {std::nullopt, report.take()};
    }
    if (!root.isMap()) {
        report.at(root, QStringLiteral("expected a scenario (a mapping with name, nodes, clients, links, publisher), got %1")
                            .arg(root.describe()));
        return {std::nullopt, report.take()};
    }
    read.checkKeys(root, kTopLevelKeys);

    Scenario scenario;
    scenario.file = fileName;
    if (const Value *n = read.require(root, QStringLiteral("name"), QStringLiteral("a title for the scenario")))
        if (auto s = read.scalar(*n, QStringLiteral("a scenario name")))
            scenario.name = *s;
    if (const Value *d = root.find(u"description"))
        if (auto s = read.scalar(*d, QStringLiteral("a description")))
            scenario.description = *s;
    if (const Value *s = root.find(u"seed"))
        if (auto n = read.integer(*s, 0, kMaxSeed, QStringLiteral("seed")))
            scenario.seed = quint64(*n);

    const QList<Candidate> list = candidates(read, root);
    QHash<QString, const Candidate *> seen;
    for (const Candidate &c : list) {
        Resolver resolver(read, c.tree);
        std::optional<Variant> v = resolver.resolve(c.name, c.baseName, c.item);
        if (!c.name.isEmpty() && seen.contains(c.name)) {
            const Value *where = c.nameValue ? c.nameValue : (c.item ? c.item : &root);
            report.at(*where, QStringLiteral("duplicate variant name \"%1\"").arg(c.name));
        }
        seen.insert(c.name, &c);
        if (v) {
            v->sweepValues = c.sweepValues;
            scenario.variants << *v;
        }
    }
    if (report.count() > 0)
        return {std::nullopt, report.take()};
    return {scenario, {}};
}

} // namespace

LoadResult loadFromText(const QByteArray &text, const QString &fileName)
{
    try {
        return loadDocument(text, fileName);
    } catch (const std::exception &e) {
        // yaml-cpp may throw while walking an odd document; report it rather than crash.
        return {std::nullopt, {Diagnostic{fileName, 1, 1, QStringLiteral("cannot read the document: %1").arg(QString::fromLocal8Bit(e.what()))}}};
    }
}

LoadResult load(const QString &path)
{
    QFile file(path);
    if (!QFileInfo(path).isFile()) {
        return {std::nullopt,
                {Diagnostic{path, 0, 0, QFileInfo::exists(path) ? QStringLiteral("not a regular file") : QStringLiteral("no such file")}}};
    }
    if (!file.open(QIODevice::ReadOnly))
        return {std::nullopt, {Diagnostic{path, 0, 0, QStringLiteral("cannot read the file: %1").arg(file.errorString())}}};
    constexpr qint64 kMaxFileBytes = 4 * 1024 * 1024;
    if (file.size() > kMaxFileBytes)
        return {std::nullopt, {Diagnostic{path, 0, 0, QStringLiteral("the file is larger than 4MB; a scenario is a short text file")}}};
    return loadFromText(file.readAll(), path);
}

} // namespace edgesse::scenario
