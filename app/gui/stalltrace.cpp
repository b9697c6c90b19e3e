#include "app/gui/stalltrace.h"

#include <QtGlobal>

#include <cstdio>
#include <ctime>

namespace edgesse::gui {

bool StallTrace::enabled()
{
    static const bool on = qEnvironmentVariableIsSet("EDGESSE_GUI_TRACE");
    return on;
}

double StallTrace::monotonicSeconds()
{
    QElapsedTimer now;
    now.start();
    return double(now.msecsSinceReference()) / 1e3;
}

qint64 StallTrace::threadCpuNs()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return qint64(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

StallTrace::StallTrace(const char *section, int detail)
    : m_section(section)
    , m_detail(detail)
{
    if (!enabled())
        return;
    m_timer.start();
    m_cpuStart = threadCpuNs();
}

StallTrace::~StallTrace()
{
    if (!m_timer.isValid())
        return;
    const double ms = double(m_timer.nsecsElapsed()) / 1e6;
    if (ms < 1.0)
        return;
    const double cpu = double(threadCpuNs() - m_cpuStart) / 1e6;
    if (m_detail >= 0)
        std::fprintf(stderr, "gui %.3f s %6.1f ms cpu %5.1f  %s #%d\n", monotonicSeconds(), ms, cpu, m_section, m_detail);
    else
        std::fprintf(stderr, "gui %.3f s %6.1f ms cpu %5.1f  %s\n", monotonicSeconds(), ms, cpu, m_section);
}

} // namespace edgesse::gui
