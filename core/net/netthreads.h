#pragma once

#include <QObject>
#include <QThread>

#include <functional>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace edgesse::net {

class DeadlineQueue;

// Worker threads for the data plane, each running an EpollEventDispatcher (timer slack 1 ns)
// with its own DeadlineQueue. Objects made with create(i, ...) live and die on thread i.
// Contract: stop() (also run by the destructor) deletes every such object on its own thread
// (closing its sockets), then quits and joins every thread; after it the pool is empty.
// runOn()/create() block the caller: never call them between two workers in both directions.
class NetThreads final
{
    Q_DISABLE_COPY_MOVE(NetThreads)

public:
    // `threadCount` <= 0: one thread per core.
    explicit NetThreads(int threadCount = 0);
    ~NetThreads();

    int count() const { return static_cast<int>(m_workers.size()); }
    QThread *thread(int i) const;
    DeadlineQueue *deadlines(int i) const;
    // Parent of everything create() places on thread i; lives on thread i.
    QObject *root(int i) const;
    // The worker whose thread is the calling thread, or -1.
    int currentIndex() const;

    // Queues `fn` on thread i and returns at once (dropped with a warning after stop()).
    void post(int i, std::function<void()> fn);
    // Runs `fn` on thread i and waits for it (inline when called from thread i).
    void runOn(int i, const std::function<void()> &fn);

    // Runs `factory` on thread i and waits; the object it returns is owned there (by root(i)
    // unless the factory gave it another parent on that thread).
    template<class T, class F>
    T *create(int i, F &&factory)
    {
        static_assert(std::is_base_of_v<QObject, T>, "NetThreads::create makes QObjects");
        T *object = nullptr;
        QObject *owner = root(i);
        runOn(i, [&] {
            object = std::forward<F>(factory)();
            if (object && !object->parent())
                object->setParent(owner);
        });
        return object;
    }

    void stop();

private:
    struct Worker {
        std::unique_ptr<QThread> thread;
        QObject *root = nullptr;
        DeadlineQueue *deadlines = nullptr;
    };

    QObject *context(int i) const;

    std::vector<Worker> m_workers;
};

} // namespace edgesse::net
