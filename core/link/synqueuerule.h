#pragma once

#include <QHostAddress>
#include <QString>

#include <memory>

namespace edgesse::link {

// The packet-filter rule that sends SYNs for one listening address:port to an NFQUEUE queue,
// with `bypass` so that, with nobody reading the queue, the SYNs pass as if there were no rule.
// Scoped to this process and port: an nftables table `inet edgesse_PID_PORT` (the `queue`
// statement), or, where the kernel has no nft_queue, an iptables INPUT rule commented
// `edgesse:PID:PORT` (xt NFQUEUE). Removed by the destructor; rules of processes that no
// longer run (killed, crashed) are removed by removeStale().
//
// Runs nft / iptables: slow (milliseconds), so only when a link starts or stops.
class SynQueueRule
{
public:
    // Null with `error` set when neither way works.
    static std::unique_ptr<SynQueueRule> install(const QHostAddress &address, quint16 port, quint16 queue,
                                                 QString *error);
    // Every table and rule named for a process that is not running.
    static void removeStale();
    ~SynQueueRule();
    SynQueueRule(const SynQueueRule &) = delete;
    SynQueueRule &operator=(const SynQueueRule &) = delete;

    // "nft" or "iptables"/"ip6tables".
    QString tool() const { return m_tool; }

private:
    SynQueueRule(QString tool, QStringList removal)
        : m_tool(std::move(tool))
        , m_removal(std::move(removal))
    {
    }
    QString m_tool;
    QStringList m_removal; // the arguments that take the rule away
};

} // namespace edgesse::link
