#include "core/net/netthreads.h"

#include "core/net/deadlinequeue.h"
#include "core/net/epolleventdispatcher.h"

#include <QAbstractEventDispatcher>
#include <QMetaObject>
#include <QPointer>

#include <sys/prctl.h>

namespace edgesse::net {

NetThreads::NetThreads(int threadCount)
{
    if (threadCount <= 0)
        threadCount = std::max(1, QThread::idealThreadCount());
    m_workers.resize(static_cast<std::size_t>(threadCount));
    for (int i = 0; i < threadCount; ++i) {
        Worker &worker = m_workers[static_cast<std::size_t>(i)];
        worker.thread = std::make_unique<QThread>();
        worker.thread->setObjectName(QStringLiteral("net-%1").arg(i));
        worker.thread->setEventDispatcher(new EpollEventDispatcher);
        worker.thread->start();
        runOn(i, [&worker] {
            // Timers on this thread (timerfd, epoll timeouts) may otherwise fire up to 50 µs late.
            ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
            worker.root = new QObject;
            worker.root->setObjectName(QStringLiteral("net-root"));
            worker.deadlines = new DeadlineQueue(worker.root);
        });
    }
}

NetThreads::~NetThreads()
{
    stop();
}

QThread *NetThreads::thread(int i) const
{
    return m_workers.at(static_cast<std::size_t>(i)).thread.get();
}

DeadlineQueue *NetThreads::deadlines(int i) const
{
    return m_workers.at(static_cast<std::size_t>(i)).deadlines;
}

QObject *NetThreads::root(int i) const
{
    return m_workers.at(static_cast<std::size_t>(i)).root;
}

int NetThreads::currentIndex() const
{
    QThread *current = QThread::currentThread();
    for (std::size_t i = 0; i < m_workers.size(); ++i) {
        if (m_workers[i].thread.get() == current)
            return static_cast<int>(i);
    }
    return -1;
}

// The dispatcher lives on its thread until the thread ends, so it can carry queued calls
// even while the root and its children are being deleted.
QObject *NetThreads::context(int i) const
{
    if (i < 0 || i >= count())
        return nullptr;
    QThread *worker = thread(i);
    return worker->isRunning() ? QAbstractEventDispatcher::instance(worker) : nullptr;
}

void NetThreads::post(int i, std::function<void()> fn)
{
    QObject *target = context(i);
    if (!target) {
        qWarning("NetThreads::post: thread %d is not running; the call is dropped", i);
        return;
    }
    QMetaObject::invokeMethod(target, std::move(fn), Qt::QueuedConnection);
}

void NetThreads::runOn(int i, const std::function<void()> &fn)
{
    if (i >= 0 && i < count() && QThread::currentThread() == thread(i)) {
        fn();
        return;
    }
    QObject *target = context(i);
    if (!target) {
        qWarning("NetThreads::runOn: thread %d is not running; the call is dropped", i);
        return;
    }
    QMetaObject::invokeMethod(target, fn, Qt::BlockingQueuedConnection);
}

void NetThreads::stop()
{
    for (int i = 0; i < count(); ++i) {
        Worker &worker = m_workers[static_cast<std::size_t>(i)];
        if (!worker.thread)
            continue;
        if (worker.thread->isRunning()) {
            runOn(i, [&worker] {
                // Objects placed on the thread may use its deadline queue until they are gone:
                // delete them, newest first, before the queue and the root.
                const QObjectList children = worker.root->children();
                QList<QPointer<QObject>> placed;
                for (auto it = children.crbegin(); it != children.crend(); ++it)
                    if (*it != worker.deadlines)
                        placed.append(*it);
                for (const QPointer<QObject> &object : placed)
                    delete object.data();
                delete worker.root;
                worker.root = nullptr;
                worker.deadlines = nullptr;
            });
            worker.thread->quit();
            worker.thread->wait();
        }
    }
    m_workers.clear();
}

} // namespace edgesse::net
