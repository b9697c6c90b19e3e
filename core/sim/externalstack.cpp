#include "core/sim/externalstack.h"

#include "core/sim/streamrecorder.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QSaveFile>
#include <QTemporaryDir>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <unordered_set>

namespace edgesse::sim {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct ExternalStack::Node {
    QString name;
    bool origin = false;
    scenario::ExternalServer config;
    scenario::NodeKind kind = scenario::NodeKind::Origin;
    QString dir;
    QUrl url;
    quint16 port = 0;
    std::unique_ptr<external::ExternalProcess> process;
    external::NodeObserver observer;
    std::mutex firstMutex;
    std::unordered_set<std::uint64_t> firstSeen; // events already seen leaving it (PoP)
};

namespace {

constexpr auto kPostTimeout = 2s;
constexpr auto kResumeWait = 2000ms;

// One connection's view of the responses of the server a link leads to.
class ConnectionSink final : public link::SseTapSink
{
public:
    ConnectionSink(ExternalStack &stack, ExternalStack::Node &node, bool stampHere, bool hook,
                   std::chrono::microseconds upstreamLatency, const external::EventIdentity &identity, const PublishLog &log)
        : m_stack(stack), m_node(node), m_stamp(stampHere), m_hook(hook), m_upstreamLatency(upstreamLatency)
        , m_identity(identity), m_log(log)
    {
    }

    void responseHead(const Head &head, TimePoint at) override
    {
        m_node.observer.head(head);
        m_last = at;
    }
    void eventSeen(const QByteArray &id, std::uint64_t ordinal, TimePoint at) override;
    void commentSeen(TimePoint) override { m_node.observer.comment(); }
    void retrySeen(std::chrono::milliseconds retry) override { m_node.observer.retry(retry); }
    void readSeen(std::size_t, int events, TimePoint at) override
    {
        m_node.observer.silence(std::chrono::duration_cast<std::chrono::microseconds>(at - m_last));
        m_node.observer.read(events);
        m_last = at;
    }
    void streamEnded(TimePoint at) override
    {
        m_node.observer.silence(std::chrono::duration_cast<std::chrono::microseconds>(at - m_last));
    }

private:
    ExternalStack &m_stack;
    ExternalStack::Node &m_node;
    bool m_stamp;
    bool m_hook;
    std::chrono::microseconds m_upstreamLatency;
    const external::EventIdentity &m_identity;
    const PublishLog &m_log;
    TimePoint m_last{};
};

void ConnectionSink::eventSeen(const QByteArray &id, std::uint64_t ordinal, TimePoint at)
{
    const QByteArray key = external::EventIdentity::keyOf(id, ordinal);
    m_node.observer.event(false);
    if (m_stamp)
        m_stack.stamp(key, at);
    // The first copy of each event out of this server: how long it held it.
    std::uint64_t seq = 0;
    if (m_node.origin) {
        if (const auto s = m_identity.find(key))
            seq = *s;
    } else if (const auto s = m_identity.find(key); s && m_stack.originIsExternal()) {
        seq = *s;
    } else if (!m_stack.originIsExternal()) {
        seq = key.toULongLong();
    }
    if (seq == 0)
        return;
    {
        std::lock_guard lock(m_node.firstMutex);
        if (!m_node.firstSeen.insert(seq).second)
            return;
    }
    if (m_node.origin) {
        if (const auto posted = m_stack.posted(key); m_hook && posted)
            m_node.observer.hold(std::chrono::duration_cast<std::chrono::microseconds>(at - *posted));
        return;
    }
    const auto left = m_stack.originIsExternal() ? m_stack.leftOrigin(key) : m_log.publishedAt(seq);
    if (left)
        m_node.observer.hold(std::chrono::duration_cast<std::chrono::microseconds>(at - (*left + m_upstreamLatency)));
}

QString shellQuote(const QString &text)
{
    QString quoted = text;
    quoted.replace(QLatin1Char('\''), QLatin1String("'\\''"));
    return QLatin1Char('\'') + quoted + QLatin1Char('\'');
}

} // namespace

ExternalStack::ExternalStack(const scenario::Variant &variant, RunShared &shared, const QString &folder,
                             const tls::Credentials *credentials)
    : m_variant(variant)
    , m_shared(shared)
    , m_folder(folder)
    , m_credentials(credentials)
{
    if (m_folder.isEmpty()) {
        QTemporaryDir temporary(QDir::temp().filePath(QStringLiteral("edgesse-external-XXXXXX")));
        temporary.setAutoRemove(false);
        m_folder = temporary.path();
    }
    for (const scenario::Node &n : variant.nodes) {
        if (!n.external)
            continue;
        auto node = std::make_unique<Node>();
        node->name = n.name;
        node->origin = &n == variant.origin();
        node->config = *n.external;
        node->kind = n.kind;
        node->dir = QDir(m_folder).filePath(n.name);
        m_nodes.push_back(std::move(node));
    }
    if (originIsExternal())
        shared.identity = &m_identity;
}

ExternalStack::~ExternalStack()
{
    stopPublishing();
    stop();
}

ExternalStack::Node *ExternalStack::node(const QString &name) const
{
    for (const auto &n : m_nodes) {
        if (n->name == name)
            return n.get();
    }
    return nullptr;
}

bool ExternalStack::isExternal(const QString &name) const
{
    return node(name) != nullptr;
}

bool ExternalStack::originIsExternal() const
{
    const scenario::Node *origin = m_variant.origin();
    return origin && isExternal(origin->name);
}

QUrl ExternalStack::url(const QString &name) const
{
    const Node *n = node(name);
    return n ? n->url : QUrl();
}

QByteArray ExternalStack::path(const QString &name) const
{
    const Node *n = node(name);
    if (!n || n->url.isEmpty())
        return QByteArrayLiteral("/events");
    QByteArray p = n->url.path(QUrl::FullyEncoded).toUtf8();
    if (p.isEmpty())
        p = "/";
    if (n->url.hasQuery())
        p += '?' + n->url.query(QUrl::FullyEncoded).toUtf8();
    return p;
}

QHash<QString, QString> ExternalStack::placeholders(const Node &n, quint16 upstreamLinkPort) const
{
    const scenario::SseSettings &sse = m_variant.sse;
    QHash<QString, QString> values{
        {QStringLiteral("port"), QString::number(n.port)},
        {QStringLiteral("dir"), n.dir},
        {QStringLiteral("cert"), m_cert},
        {QStringLiteral("key"), m_key},
        {QStringLiteral("heartbeat_ms"), QString::number(sse.heartbeat ? std::chrono::duration_cast<std::chrono::milliseconds>(*sse.heartbeat).count() : 0)},
        {QStringLiteral("retry_ms"), QString::number(std::chrono::duration_cast<std::chrono::milliseconds>(sse.retry).count())},
        {QStringLiteral("replay"), QString::number(sse.replay)},
    };
    if (const scenario::Node *config = m_variant.node(n.name))
        values.insert(QStringLiteral("max_connections"), QString::number(config->maxConnections));
    if (upstreamLinkPort != 0) {
        const scenario::Node *origin = m_variant.origin();
        const QString upstreamPath = QString::fromUtf8(origin ? path(origin->name) : QByteArrayLiteral("/events"));
        values.insert(QStringLiteral("upstream_port"), QString::number(upstreamLinkPort));
        values.insert(QStringLiteral("upstream_address"), QStringLiteral("127.0.0.1:%1").arg(upstreamLinkPort));
        values.insert(QStringLiteral("upstream_path"), upstreamPath);
        values.insert(QStringLiteral("upstream"), QStringLiteral("http://127.0.0.1:%1%2").arg(upstreamLinkPort).arg(upstreamPath));
    }
    for (const auto &[name, value] : n.config.vars)
        values.insert(name, value);
    return values;
}

bool ExternalStack::ensureCertificate(QString *error)
{
    if (!m_cert.isEmpty())
        return true;
    if (m_credentials)
        return writeRunCertificate(error);
    const QString cert = QDir(m_folder).filePath(QStringLiteral("cert.pem"));
    const QString key = QDir(m_folder).filePath(QStringLiteral("key.pem"));
    QProcess openssl;
    openssl.start(QStringLiteral("openssl"), {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
                                              QStringLiteral("ec"), QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:prime256v1"),
                                              QStringLiteral("-nodes"), QStringLiteral("-days"), QStringLiteral("2"),
                                              QStringLiteral("-subj"), QStringLiteral("/CN=127.0.0.1"),
                                              QStringLiteral("-addext"), QStringLiteral("subjectAltName=IP:127.0.0.1,DNS:localhost"),
                                              QStringLiteral("-keyout"), key, QStringLiteral("-out"), cert});
    if (!openssl.waitForFinished(20000) || openssl.exitCode() != 0) {
        *error = QStringLiteral("could not make a certificate for {cert}/{key} with openssl: %1 %2")
                     .arg(openssl.errorString(), QString::fromLocal8Bit(openssl.readAllStandardError()).trimmed());
        return false;
    }
    m_cert = cert;
    m_key = key;
    return true;
}

// The certificate the run's clients trust (signed by the run's CA, or the user's own), and
// its key readable by its owner alone.
bool ExternalStack::writeRunCertificate(QString *error)
{
    const QString cert = QDir(m_folder).filePath(QStringLiteral("cert.pem"));
    const QString key = QDir(m_folder).filePath(QStringLiteral("key.pem"));
    const std::pair<QString, const QByteArray *> files[] = {{cert, &m_credentials->certificatePem}, {key, &m_credentials->privateKeyPem}};
    for (const auto &[path, pem] : files) {
        QSaveFile file(path);
        if (!file.open(QIODevice::WriteOnly) || !file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner)
            || file.write(*pem) != pem->size() || !file.commit()) {
            *error = QStringLiteral("cannot write the run's certificate for {cert}/{key} to %1: %2").arg(path, file.errorString());
            return false;
        }
    }
    m_cert = cert;
    m_key = key;
    return true;
}

bool ExternalStack::writeFiles(Node &n, const QHash<QString, QString> &values, QString *error)
{
    for (const auto &[name, text] : n.config.files) {
        QSaveFile file(QDir(n.dir).filePath(name));
        if (!file.open(QIODevice::WriteOnly) || file.write(scenario::fillPlaceholders(text, values).toUtf8()) < 0 || !file.commit()) {
            *error = QStringLiteral("%1: cannot write %2: %3").arg(n.name, file.fileName(), file.errorString());
            return false;
        }
    }
    return true;
}

quint16 ExternalStack::start(const QString &name, quint16 upstreamLinkPort, QString *error, const std::function<bool()> &cancelled)
{
    Node *n = node(name);
    if (!n)
        return 0;
    if (n->config.command.isEmpty()) { // already running
        n->url = QUrl(n->config.url);
        const QString host = n->url.host();
        if (host != QLatin1String("127.0.0.1") && host != QLatin1String("localhost")) {
            *error = QStringLiteral("%1: url %2 is not on this machine; EdgeSSE's links reach 127.0.0.1 only").arg(name, n->config.url);
            return 0;
        }
        n->port = quint16(n->url.port());
        if (!external::acceptsConnections(n->port)) {
            *error = QStringLiteral("%1: nothing accepts connections at %2; start the server first, or give a command: for EdgeSSE to start")
                         .arg(name, n->config.url);
            return 0;
        }
        return n->port;
    }
    QDir().mkpath(n->dir);
    n->port = external::freeLoopbackPort(error);
    if (n->port == 0)
        return 0;
    QStringList used = scenario::placeholderNames(n->config.command);
    for (const auto &file : n->config.files)
        used << scenario::placeholderNames(file.second);
    if ((used.contains(QStringLiteral("cert")) || used.contains(QStringLiteral("key"))) && !ensureCertificate(error))
        return 0;
    const QHash<QString, QString> values = placeholders(*n, upstreamLinkPort);
    n->url = QUrl(scenario::fillPlaceholders(n->config.url.isEmpty() ? QStringLiteral("http://127.0.0.1:{port}/events") : n->config.url, values));
    if (!writeFiles(*n, values, error))
        return 0;
    QHash<QString, QString> quoted = values; // in the command line, values are single words
    for (auto it = quoted.begin(); it != quoted.end(); ++it) {
        if (it.value().contains(QRegularExpression(QStringLiteral("[^A-Za-z0-9_./:=@%+,-]"))))
            it.value() = shellQuote(it.value());
    }
    external::ProcessSpec spec;
    spec.name = QStringLiteral("%1 \"%2\"").arg(n->origin ? QStringLiteral("origin") : QStringLiteral("PoP"), name);
    spec.command = scenario::fillPlaceholders(n->config.command, quoted);
    spec.workingDirectory = n->config.workingDirectory.isEmpty() ? n->dir : n->config.workingDirectory;
    spec.stdoutPath = QDir(n->dir).filePath(QStringLiteral("stdout.log"));
    spec.stderrPath = QDir(n->dir).filePath(QStringLiteral("stderr.log"));
    spec.port = n->port;
    spec.readyTimeout = std::chrono::duration_cast<std::chrono::milliseconds>(n->config.readyTimeout);
    spec.stopGrace = std::chrono::duration_cast<std::chrono::milliseconds>(n->config.stopGrace);
    n->process = std::make_unique<external::ExternalProcess>(spec);
    if (!n->process->start(error, cancelled)) {
        n->process.reset();
        return 0;
    }
    const int urlPort = n->url.port();
    if (urlPort > 0 && urlPort != n->port)
        n->port = quint16(urlPort);
    return n->port;
}

link::SseTap::Factory ExternalStack::tapFor(const QString &to, std::chrono::microseconds upstreamLatency)
{
    Node *n = node(to);
    if (!n)
        return {};
    const bool stampHere = n->origin;
    const bool hook = !m_variant.publisher.post.isEmpty();
    return [this, n, stampHere, hook, upstreamLatency] {
        return std::make_unique<link::SseTap>(
            std::make_unique<ConnectionSink>(*this, *n, stampHere, hook, upstreamLatency, m_identity, m_shared.log));
    };
}

void ExternalStack::stamp(const QByteArray &key, Clock::time_point at)
{
    std::lock_guard lock(m_stampMutex);
    bool isNew = false;
    const std::uint64_t seq = m_identity.assign(key, &isNew);
    if (!isNew)
        return;
    m_leftOrigin.record(seq, at);
    const auto postedAt = m_variant.publisher.post.isEmpty() ? std::nullopt : posted(key);
    m_shared.log.record(seq, postedAt.value_or(at));
}

std::optional<Clock::time_point> ExternalStack::leftOrigin(const QByteArray &key) const
{
    const auto seq = m_identity.find(key);
    return seq ? m_leftOrigin.publishedAt(*seq) : std::nullopt;
}

// A decimal id is the number of the POST that published it (the origin numbers its events
// as they come); other ids are matched to POSTs in the order the first link saw them.
std::optional<Clock::time_point> ExternalStack::posted(const QByteArray &key) const
{
    bool decimal = false;
    const std::uint64_t number = key.toULongLong(&decimal);
    if (decimal)
        return m_posted.publishedAt(number);
    const auto seq = m_identity.find(key);
    return seq ? m_posted.publishedAt(*seq) : std::nullopt;
}

namespace {

// One keep-alive HTTP/1.1 connection for the publish hook; blocking, bounded by timeouts.
class PostConnection
{
public:
    explicit PostConnection(const QUrl &url) : m_url(url) {}
    ~PostConnection() { drop(); }
    PostConnection(const PostConnection &) = delete;
    PostConnection &operator=(const PostConnection &) = delete;

    // Empty on a 2xx answer; otherwise what went wrong.
    QString post(const QByteArray &body)
    {
        if (m_fd < 0 && !connectNow())
            return m_error;
        QByteArray target = m_url.path(QUrl::FullyEncoded).toUtf8();
        if (target.isEmpty())
            target = "/";
        if (m_url.hasQuery())
            target += '?' + m_url.query(QUrl::FullyEncoded).toUtf8();
        const QByteArray request = "POST " + target + " HTTP/1.1\r\nHost: " + m_url.authority().toUtf8()
            + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
        if (::send(m_fd, request.constData(), std::size_t(request.size()), MSG_NOSIGNAL) != request.size()) {
            drop();
            return QStringLiteral("the connection to %1 broke while sending").arg(m_url.toString());
        }
        return readAnswer();
    }

private:
    bool connectNow()
    {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port = htons(quint16(m_url.port(80)));
        if (m_fd < 0 || ::connect(m_fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) {
            m_error = QStringLiteral("cannot connect to %1: %2").arg(m_url.toString(), QString::fromLocal8Bit(std::strerror(errno)));
            drop();
            return false;
        }
        return true;
    }

    QString readAnswer()
    {
        QByteArray in;
        const auto until = Clock::now() + kPostTimeout;
        qsizetype headEnd = -1;
        qint64 length = 0;
        for (;;) {
            if (headEnd < 0 && (headEnd = in.indexOf("\r\n\r\n")) >= 0) {
                const qsizetype at = in.toLower().indexOf("content-length:");
                length = at >= 0 && at < headEnd ? in.mid(at + 15, in.indexOf('\r', at) - at - 15).trimmed().toLongLong() : 0;
            }
            if (headEnd >= 0 && in.size() >= headEnd + 4 + length)
                break;
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
            pollfd p{m_fd, POLLIN, 0};
            char buffer[4096];
            if (left <= 0ms || ::poll(&p, 1, int(left.count())) <= 0) {
                drop();
                return QStringLiteral("%1 did not answer within %2 s").arg(m_url.toString()).arg(kPostTimeout.count());
            }
            const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
            if (n <= 0) {
                drop();
                return QStringLiteral("%1 closed the connection without an answer").arg(m_url.toString());
            }
            in.append(buffer, n);
        }
        const QByteArray status = in.left(in.indexOf("\r\n"));
        if (in.left(headEnd).toLower().contains("connection: close"))
            drop();
        const int code = status.split(' ').value(1).toInt();
        return code >= 200 && code < 300 ? QString() : QStringLiteral("%1 answered %2").arg(m_url.toString(), QString::fromLatin1(status));
    }

    void drop()
    {
        if (m_fd >= 0)
            ::close(m_fd);
        m_fd = -1;
    }

    QUrl m_url;
    int m_fd = -1;
    QString m_error;
};

} // namespace

void ExternalStack::startPublishing(const PublishSettings &schedule)
{
    if (m_variant.publisher.post.isEmpty() || m_poster.joinable())
        return;
    m_poster = std::thread([this, schedule] { postLoop(schedule); });
}

void ExternalStack::stopPublishing()
{
    {
        std::lock_guard lock(m_postMutex);
        m_postStop = true;
    }
    m_postWake.notify_all();
    if (m_poster.joinable())
        m_poster.join();
}

void ExternalStack::postLoop(PublishSettings settings)
{
    const scenario::Node *origin = m_variant.origin();
    const Node *n = origin ? node(origin->name) : nullptr;
    const QHash<QString, QString> fixed{{QStringLiteral("port"), QString::number(n ? n->port : 0)},
                                        {QStringLiteral("payload"), QString::fromLatin1(payloadOfSize(m_variant.publisher.payloadBytes))}};
    PostConnection connection(QUrl(scenario::fillPlaceholders(m_variant.publisher.post, fixed)));
    PublishSchedule schedule(settings);
    auto next = Clock::now();
    for (std::uint64_t seq = 1;; ++seq) {
        next += schedule.nextGap();
        {
            std::unique_lock lock(m_postMutex);
            if (m_postWake.wait_until(lock, next, [this] { return m_postStop; }))
                return;
        }
        QHash<QString, QString> values = fixed;
        values.insert(QStringLiteral("seq"), QString::number(seq));
        const QByteArray body = scenario::fillPlaceholders(m_variant.publisher.body, values).toUtf8();
        m_posted.record(seq, Clock::now());
        m_posts.fetch_add(1, std::memory_order_relaxed);
        const QString error = connection.post(body);
        if (error.isEmpty())
            continue;
        m_postFailures.fetch_add(1, std::memory_order_relaxed);
        std::lock_guard lock(m_postMutex);
        if (m_postError.isEmpty())
            m_postError = error;
    }
}

// Every link in front of it (from its clients, or from the PoPs for an origin) is `tls`:
// what the taps and the cleartext reconnect probe would see is encrypted.
bool ExternalStack::servesTlsOnly(const Node &n) const
{
    const scenario::Node *origin = m_variant.origin();
    bool any = false;
    for (const scenario::Link &l : m_variant.links) {
        if (l.a != n.name && l.b != n.name)
            continue;
        const QString &other = l.a == n.name ? l.b : l.a;
        if (!n.origin && origin && other == origin->name)
            continue; // a PoP's upstream link
        if (!l.tls)
            return false;
        any = true;
    }
    return any;
}

QList<external::Finding> ExternalStack::check()
{
    // The last events the first link saw: reconnect after the second-to-last, expect the last.
    QByteArray sent, expected;
    if (originIsExternal()) {
        const std::uint64_t count = m_identity.count();
        if (count >= 3 && !m_identity.key(count - 1).startsWith('#')) {
            sent = m_identity.key(count - 2);
            expected = m_identity.key(count - 1);
        }
    } else if (const std::uint64_t published = m_shared.log.published(); published >= 3) {
        sent = QByteArray::number(published - 2);
        expected = QByteArray::number(published - 1);
    }
    QList<external::Finding> findings;
    for (const auto &n : m_nodes) {
        if (n->port == 0)
            continue;
        if (servesTlsOnly(*n)) {
            findings << external::Finding{n->name, QStringLiteral("tls"), true,
                                          QStringLiteral("serves TLS on every link in front of it; EdgeSSE reads only cleartext "
                                                         "responses, so its headers, buffering and replay were not checked")};
            continue;
        }
        external::ResumeProbe probe;
        if (!sent.isEmpty())
            probe = external::probeResume(n->port, path(n->name), sent, expected, kResumeWait);
        findings << external::conformance(n->name, n->origin ? external::ServerRole::Origin : external::ServerRole::Pop,
                                          n->observer.snapshot(), probe, n->origin && !m_variant.publisher.post.isEmpty());
    }
    return findings;
}

QStringList ExternalStack::problems()
{
    QStringList out;
    for (const auto &n : m_nodes) {
        if (n->process && !n->process->running())
            out << QStringLiteral("%1 %2 during the run; its last output:\n%3")
                       .arg(n->process->spec().name, n->process->exitDescription(), n->process->lastOutput());
    }
    if (const std::uint64_t failed = m_postFailures.load(); failed > 0) {
        std::lock_guard lock(m_postMutex);
        out << QStringLiteral("publisher: %1 of %2 POSTs failed (first: %3)").arg(failed).arg(m_posts.load()).arg(m_postError);
    }
    return out;
}

QStringList ExternalStack::stop()
{
    QStringList notes;
    for (const auto &n : m_nodes) {
        if (!n->process)
            continue;
        const QString note = n->process->stop();
        if (!note.isEmpty())
            notes << QStringLiteral("%1: %2").arg(n->process->spec().name, note);
        n->process.reset();
    }
    return notes;
}

} // namespace edgesse::sim
