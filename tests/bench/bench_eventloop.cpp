// Loopback ping-pong round trip between two QTcpSockets while N idle sockets are open in the
// same thread, on Qt's stock dispatchers and on EpollEventDispatcher, in one invocation.
// Each (dispatcher, idle count) cell is its own thread; cells are measured in interleaved
// slices so that load from elsewhere on the machine hits them alike.
// Usage: bench_eventloop [--budget-ms MS] [--max-idle N]
#include "core/net/epolleventdispatcher.h"
#include "core/net/fdlimit.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>

#include <algorithm>
#include <cstdio>
#include <map>
#include <utility>
#include <memory>
#include <vector>

using edgesse::net::EpollEventDispatcher;

namespace {

enum class Kind { Glib, Unix, Epoll };
constexpr Kind kKinds[] = {Kind::Glib, Kind::Unix, Kind::Epoll};
constexpr int kSlices = 7;

const char *kindName(Kind kind)
{
    switch (kind) {
    case Kind::Glib:
        return "stock (glib)";
    case Kind::Unix:
        return "stock (unix)";
    case Kind::Epoll:
        return "epoll (ours)";
    }
    return "";
}

// A listening server, `idle` idle sockets (idle/2 loopback connections, both ends here) and
// one ping-pong pair, all on one thread. Methods run on that thread.
class Cell final : public QObject
{
public:
    QString error;

    bool setUp(int idle)
    {
        m_server.setListenBacklogSize(4096);
        if (!m_server.listen(QHostAddress::LocalHost, 0)) {
            error = m_server.errorString();
            return false;
        }
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection())
                m_accepted.emplace_back(socket);
        });
        QEventLoop loop;
        constexpr int kBatch = 100;
        int opened = 0;
        while (opened + 1 < idle) {
            const int batch = std::min(kBatch, (idle - opened) / 2);
            const std::size_t acceptedTarget = m_accepted.size() + static_cast<std::size_t>(batch);
            int connected = 0;
            for (int i = 0; i < batch; ++i) {
                auto *client = new QTcpSocket;
                connect(client, &QTcpSocket::connected, this, [&connected] { ++connected; });
                connect(client, &QTcpSocket::errorOccurred, this, [this, client] {
                    error = QStringLiteral("an idle connection failed: %1").arg(client->errorString());
                });
                client->connectToHost(QHostAddress::LocalHost, m_server.serverPort());
                m_clients.emplace_back(client);
            }
            if (!waitFor(loop, [&] { return m_accepted.size() >= acceptedTarget && connected >= batch; }))
                return false;
            opened += 2 * batch;
        }

        const std::size_t before = m_accepted.size();
        m_client.connectToHost(QHostAddress::LocalHost, m_server.serverPort());
        if (!waitFor(loop, [&] { return m_accepted.size() > before && m_client.state() == QAbstractSocket::ConnectedState; }))
            return false;
        QTcpSocket *echo = m_accepted.back().get();
        connect(echo, &QTcpSocket::readyRead, echo, [echo] { echo->write(echo->readAll()); });
        connect(&m_client, &QTcpSocket::readyRead, this, [this] {
            m_client.readAll();
            if (--m_remaining > 0)
                m_client.write("p", 1);
            else
                m_loop.quit();
        });
        roundTrips(500); // warm-up
        return true;
    }

    // Microseconds per round trip over about `ms` milliseconds.
    double slice(qint64 ms)
    {
        QElapsedTimer clock;
        clock.start();
        long long trips = 0;
        long long batch = 10;
        while (clock.elapsed() < ms) {
            roundTrips(batch);
            trips += batch;
            batch = std::min<long long>(batch * 2, 1000);
        }
        return static_cast<double>(clock.nsecsElapsed()) / 1000.0 / static_cast<double>(trips);
    }

    void tearDown()
    {
        m_client.abort();
        m_accepted.clear();
        m_clients.clear();
        m_server.close();
    }

private:
    template<class Done>
    bool waitFor(QEventLoop &loop, Done done)
    {
        QElapsedTimer waited;
        waited.start();
        while (!done() && error.isEmpty() && waited.elapsed() < 30000)
            loop.processEvents(QEventLoop::WaitForMoreEvents);
        if (error.isEmpty() && !done())
            error = QStringLiteral("timed out opening connections");
        return error.isEmpty();
    }

    void roundTrips(long long n)
    {
        m_remaining = n;
        m_client.write("p", 1);
        m_loop.exec();
    }

    // Children, so that moveToThread() takes them along.
    QTcpServer m_server{this};
    std::vector<std::unique_ptr<QTcpSocket>> m_clients;
    std::vector<std::unique_ptr<QTcpSocket>> m_accepted;
    QTcpSocket m_client{this};
    QEventLoop m_loop{this};
    long long m_remaining = 0;
};

struct Running {
    std::unique_ptr<QThread> thread;
    std::unique_ptr<Cell> cell;
};

Running startCell(Kind kind, int idle)
{
    Running running;
    running.thread = std::make_unique<QThread>();
    if (kind == Kind::Epoll)
        running.thread->setEventDispatcher(new EpollEventDispatcher);
    if (kind == Kind::Unix)
        qputenv("QT_NO_GLIB", "1"); // read when the thread creates its stock dispatcher
    running.thread->start();
    running.cell = std::make_unique<Cell>();
    running.cell->moveToThread(running.thread.get());
    bool ok = false;
    Cell *cell = running.cell.get();
    QMetaObject::invokeMethod(cell, [&] { ok = cell->setUp(idle); }, Qt::BlockingQueuedConnection);
    qunsetenv("QT_NO_GLIB");
    if (!ok)
        std::fprintf(stderr, "%s, %d idle: %s\n", kindName(kind), idle, qPrintable(cell->error));
    return running;
}

void stopCell(Running &running)
{
    Cell *cell = running.cell.get();
    QMetaObject::invokeMethod(cell, [cell] { cell->tearDown(); }, Qt::BlockingQueuedConnection);
    running.thread->quit();
    running.thread->wait();
    running.cell.reset();
    running.thread.reset();
}

using CellKey = std::pair<Kind, int>;

// Median round trip per (dispatcher, idle count), all cells measured in interleaved slices.
std::map<CellKey, double> measure(const std::vector<CellKey> &keys, qint64 budgetMs)
{
    std::map<CellKey, Running> cells;
    for (const CellKey &key : keys) {
        cells[key] = startCell(key.first, key.second);
        if (!cells[key].cell->error.isEmpty())
            std::exit(1);
    }
    std::map<CellKey, std::vector<double>> slices;
    for (int round = 0; round < kSlices; ++round) {
        for (auto &[key, running] : cells) {
            Cell *cell = running.cell.get();
            double us = 0;
            QMetaObject::invokeMethod(cell, [&] { us = cell->slice(budgetMs / kSlices); }, Qt::BlockingQueuedConnection);
            slices[key].push_back(us);
        }
    }
    std::map<CellKey, double> medians;
    for (auto &[key, values] : slices) {
        std::sort(values.begin(), values.end());
        medians[key] = values[values.size() / 2];
    }
    for (auto &[key, running] : cells)
        stopCell(running);
    return medians;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    qint64 budgetMs = 2000;
    int maxIdle = 20000;
    const QStringList args = app.arguments();
    for (qsizetype i = 1; i + 1 < args.size(); i += 2) {
        if (args[i] == QLatin1String("--budget-ms"))
            budgetMs = args[i + 1].toLongLong();
        else if (args[i] == QLatin1String("--max-idle"))
            maxIdle = args[i + 1].toInt();
    }

    const auto limit = edgesse::net::raiseFdLimitToHard();
    // One descriptor per idle socket; the rest of the process keeps 1,000.
    const int fitting = static_cast<int>(std::min<std::uint64_t>(
        static_cast<std::uint64_t>(std::max(maxIdle, 0)),
        limit.soft > 1000 ? (limit.soft - 1000) / 1000 * 1000 : 0));
    const std::vector<int> counts{0, 1000, 4000};
    std::printf("descriptor limit %llu; idle sockets 0, 1000, 4000%s; %lld ms per cell in %d interleaved slices\n",
                static_cast<unsigned long long>(limit.soft),
                fitting > 4000 ? qPrintable(QStringLiteral(" and %1").arg(fitting)) : "",
                static_cast<long long>(budgetMs), kSlices);
    std::fflush(stdout);

    // 0, 1,000 and 4,000 on every dispatcher at once (15,000 descriptors), interleaved.
    std::vector<CellKey> keys;
    for (const Kind kind : kKinds) {
        for (const int count : counts)
            keys.emplace_back(kind, count);
    }
    std::map<Kind, std::map<int, double>> table;
    for (const auto &[key, value] : measure(keys, budgetMs))
        table[key.first][key.second] = value;
    std::fprintf(stderr, "0, 1000, 4000 measured\n");
    if (fitting > 4000) {
        for (const Kind kind : kKinds) {
            // The largest count gets the descriptors alone, against a fresh empty cell.
            const auto large = measure({{kind, 0}, {kind, fitting}}, budgetMs);
            table[kind][fitting] = large.at({kind, fitting}) * table[kind][0] / large.at({kind, 0});
            std::fprintf(stderr, "%s, %d measured\n", kindName(kind), fitting);
        }
    }

    std::printf("\nround trip, µs (median of %d slices)\n%-14s", kSlices, "idle sockets");
    for (const Kind kind : kKinds)
        std::printf(" %14s", kindName(kind));
    std::printf("\n");
    for (const auto &[count, value] : table[Kind::Epoll]) {
        std::printf("%-14d", count);
        for (const Kind kind : kKinds)
            std::printf(" %14.1f", table[kind][count]);
        std::printf("\n");
    }
    if (fitting > 4000)
        std::printf("(the %d row is scaled by its own interleaved 0-idle cell)\n", fitting);

    const double ours0 = table[Kind::Epoll][0];
    const double scaling = table[Kind::Epoll][4000] / ours0;
    const double vsStock = ours0 / table[Kind::Glib][0];
    std::printf("\nours@4000 / ours@0      = %.3f  (target <= 1.15) %s\n", scaling, scaling <= 1.15 ? "met" : "MISSED");
    std::printf("ours@0 / stock(glib)@0  = %.3f  (target <= 1.00) %s\n", vsStock, vsStock <= 1.0 ? "met" : "MISSED");
    std::printf("ours@0 / stock(unix)@0  = %.3f\n", ours0 / table[Kind::Unix][0]);
    if (fitting > 4000)
        std::printf("ours@%d / ours@0     = %.3f\n", fitting, table[Kind::Epoll][fitting] / ours0);
    return 0;
}
