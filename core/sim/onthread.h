#pragma once

#include "core/net/netthreads.h"

#include <memory>
#include <utility>

namespace edgesse::sim {

// Sole owner of an object that lives on one worker thread: made there, deleted there (with
// that thread's deadline queue still alive). The threads must outlive every OnThread, so a
// class that holds both declares the NetThreads first; its members' reverse order is then
// the order of tear-down.
template<class T>
class OnThread
{
public:
    OnThread() = default;
    OnThread(OnThread &&other) noexcept { swap(other); }
    OnThread &operator=(OnThread &&other) noexcept
    {
        OnThread(std::move(other)).swap(*this);
        return *this;
    }
    OnThread(const OnThread &) = delete;
    OnThread &operator=(const OnThread &) = delete;
    ~OnThread() { reset(); }

    // Runs `factory` (returning std::unique_ptr<T>, possibly empty) on thread `i` and waits.
    template<class F>
    static OnThread make(net::NetThreads &threads, int i, F &&factory)
    {
        OnThread owned;
        owned.m_threads = &threads;
        owned.m_thread = i;
        threads.runOn(i, [&] { owned.m_object = std::forward<F>(factory)(); });
        return owned;
    }

    void reset()
    {
        if (m_object)
            m_threads->runOn(m_thread, [this] { m_object.reset(); });
    }

    T *get() const { return m_object.get(); }
    T *operator->() const { return m_object.get(); }
    explicit operator bool() const { return bool(m_object); }
    int thread() const { return m_thread; }

private:
    void swap(OnThread &other) noexcept
    {
        std::swap(m_threads, other.m_threads);
        std::swap(m_thread, other.m_thread);
        std::swap(m_object, other.m_object);
    }

    net::NetThreads *m_threads = nullptr;
    int m_thread = 0;
    std::unique_ptr<T> m_object;
};

} // namespace edgesse::sim
