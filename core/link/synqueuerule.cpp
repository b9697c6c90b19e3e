#include "core/link/synqueuerule.h"

#include <QRegularExpression>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace edgesse::link {

namespace {

struct ToolRun {
    bool started = false;
    int status = -1;
    QString output; // stdout and stderr together
};

// Runs `program` (looked up in PATH) with `args` and waits for it. No shell, no Qt event loop:
// links start on data-plane threads.
ToolRun runTool(const QString &program, const QStringList &args)
{
    ToolRun run;
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0)
        return run;
    std::vector<QByteArray> storage;
    storage.push_back(program.toLocal8Bit());
    for (const QString &arg : args)
        storage.push_back(arg.toLocal8Bit());
    std::vector<char *> argv;
    argv.reserve(storage.size() + 1);
    for (QByteArray &s : storage)
        argv.push_back(s.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, out[1], 2);
    pid_t pid = -1;
    const int spawned = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (spawned != 0) {
        ::close(out[0]);
        run.output = QStringLiteral("cannot run %1: %2").arg(program, QString::fromLocal8Bit(std::strerror(spawned)));
        return run;
    }
    run.started = true;
    QByteArray text;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(out[0], buffer, sizeof buffer);
        if (n > 0)
            text.append(buffer, n);
        else if (n == 0 || errno != EINTR)
            break;
    }
    ::close(out[0]);
    while (::waitpid(pid, &run.status, 0) < 0 && errno == EINTR) {}
    run.output = QString::fromLocal8Bit(text).trimmed();
    return run;
}

bool succeeded(const ToolRun &run)
{
    return run.started && WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0;
}

bool processRuns(qint64 pid)
{
    return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

QString tableName(quint16 port)
{
    return QStringLiteral("edgesse_%1_%2").arg(::getpid()).arg(port);
}

QString ruleComment(qint64 pid, quint16 port)
{
    return QStringLiteral("edgesse:%1:%2").arg(pid).arg(port);
}

// One nft transaction: the table, its chains and the rule, all or nothing.
QString nftScript(const QHostAddress &address, quint16 port, quint16 queue)
{
    const QString table = QStringLiteral("inet ") + tableName(port);
    QString match;
    if (!address.isNull() && address != QHostAddress::Any && address != QHostAddress::AnyIPv4 && address != QHostAddress::AnyIPv6)
        match = (address.protocol() == QAbstractSocket::IPv6Protocol ? QStringLiteral("ip6 daddr ") : QStringLiteral("ip daddr "))
            + address.toString() + QLatin1Char(' ');
    // The queue rule goes into a regular chain before any hook is registered: where the kernel
    // has no nft_queue the batch fails there, without a base chain's hook coming and going on
    // input (which would drop the packets other links hold in their queues at that moment).
    return QStringLiteral("add table %1; add chain %1 held; "
                          "add rule %1 held %2tcp dport %3 tcp flags & (syn | ack) == syn queue num %4 bypass; "
                          "add chain %1 syn { type filter hook input priority -5; policy accept; }; "
                          "add rule %1 syn jump held")
        .arg(table, match)
        .arg(port)
        .arg(queue);
}

QStringList iptablesRule(const QHostAddress &address, quint16 port, quint16 queue, qint64 pid = ::getpid())
{
    QStringList rule{QStringLiteral("INPUT")};
    if (!address.isNull() && address != QHostAddress::Any && address != QHostAddress::AnyIPv4 && address != QHostAddress::AnyIPv6)
        rule << QStringLiteral("-d") << address.toString();
    rule << QStringLiteral("-p") << QStringLiteral("tcp") << QStringLiteral("--dport") << QString::number(port)
         << QStringLiteral("--tcp-flags") << QStringLiteral("SYN,ACK") << QStringLiteral("SYN") << QStringLiteral("-m")
         << QStringLiteral("comment") << QStringLiteral("--comment") << ruleComment(pid, port) << QStringLiteral("-j")
         << QStringLiteral("NFQUEUE") << QStringLiteral("--queue-num") << QString::number(queue) << QStringLiteral("--queue-bypass");
    return rule;
}

void removeStaleTables()
{
    const ToolRun listed = runTool(QStringLiteral("nft"), {QStringLiteral("list"), QStringLiteral("tables")});
    if (!succeeded(listed))
        return;
    static const QRegularExpression table(QStringLiteral("^table inet (edgesse_(\\d+)_\\d+)$"), QRegularExpression::MultilineOption);
    for (auto it = table.globalMatch(listed.output); it.hasNext();) {
        const QRegularExpressionMatch m = it.next();
        if (!processRuns(m.captured(2).toLongLong()))
            runTool(QStringLiteral("nft"), {QStringLiteral("delete"), QStringLiteral("table"), QStringLiteral("inet"), m.captured(1)});
    }
}

void removeStaleIptables(const QString &tool)
{
    const ToolRun listed = runTool(tool, {QStringLiteral("-w"), QStringLiteral("5"), QStringLiteral("-S"), QStringLiteral("INPUT")});
    if (!succeeded(listed))
        return;
    // A rule is deleted by the specification it was inserted with (the listing spells some
    // matches differently), rebuilt from the listing's address, port, queue and comment.
    static const QRegularExpression rule(QStringLiteral("^-A INPUT (?:-d (\\S+?)(?:/\\d+)? )?.*--dport (\\d+) .*"
                                                        "edgesse:(\\d+):\\d+.*--queue-num (\\d+)"));
    for (const QString &line : listed.output.split(QLatin1Char('\n'))) {
        const QRegularExpressionMatch m = rule.match(line);
        if (!m.hasMatch() || processRuns(m.captured(3).toLongLong()))
            continue;
        const QHostAddress address = m.captured(1).isEmpty() ? QHostAddress() : QHostAddress(m.captured(1));
        const QStringList args = iptablesRule(address, static_cast<quint16>(m.captured(2).toUInt()),
                                              static_cast<quint16>(m.captured(4).toUInt()), m.captured(3).toLongLong());
        runTool(tool, QStringList{QStringLiteral("-w"), QStringLiteral("5"), QStringLiteral("-D")} + args);
    }
}

} // namespace

// iptables first: its rule goes into the INPUT chain that stays registered, so adding and
// removing it never changes the input hooks; a table of nft's own registers and unregisters
// a hook, and the kernel drops the packets held in any queue at that moment.
std::unique_ptr<SynQueueRule> SynQueueRule::install(const QHostAddress &address, quint16 port, quint16 queue, QString *error)
{
    const QString tool = address.protocol() == QAbstractSocket::IPv6Protocol ? QStringLiteral("ip6tables") : QStringLiteral("iptables");
    const QStringList rule = iptablesRule(address, port, queue);
    const ToolRun ipt = runTool(tool, QStringList{QStringLiteral("-w"), QStringLiteral("5"), QStringLiteral("-I")} + rule);
    if (succeeded(ipt))
        return std::unique_ptr<SynQueueRule>(
            new SynQueueRule(tool, QStringList{QStringLiteral("-w"), QStringLiteral("5"), QStringLiteral("-D")} + rule));
    const ToolRun nft = runTool(QStringLiteral("nft"), {nftScript(address, port, queue)});
    if (succeeded(nft))
        return std::unique_ptr<SynQueueRule>(new SynQueueRule(
            QStringLiteral("nft"), {QStringLiteral("delete"), QStringLiteral("table"), QStringLiteral("inet"), tableName(port)}));
    if (error)
        *error = QStringLiteral("no packet-filter rule could send the link's SYNs to NFQUEUE (%1: %2; nft: %3)")
                     .arg(tool, ipt.output.section(QLatin1Char('\n'), 0, 0), nft.output.section(QLatin1Char('\n'), 0, 0));
    return nullptr;
}

void SynQueueRule::removeStale()
{
    removeStaleTables();
    removeStaleIptables(QStringLiteral("iptables"));
    removeStaleIptables(QStringLiteral("ip6tables"));
}

SynQueueRule::~SynQueueRule()
{
    runTool(m_tool, m_removal);
}

} // namespace edgesse::link
