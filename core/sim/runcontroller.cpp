#include "core/sim/runcontroller.h"

#include <QMetaObject>
#include <QTimer>

namespace edgesse::sim {

struct RunController::State {
    mutable std::mutex mutex;
    LiveSnapshot live;
    bool running = false;
};

RunController::RunController(QObject *parent)
    : QObject(parent)
    , m_state(std::make_unique<State>())
{
}

RunController::~RunController() = default;

void RunController::start(const scenario::Scenario &, const QStringList &, const RunOptions &)
{
    if (m_state->running)
        return;
    m_state->running = true;
    QTimer::singleShot(0, this, [this] {
        m_state->running = false;
        emit failed(QStringLiteral("the simulation engine is not available in this build yet"));
    });
}

void RunController::cancel()
{
    if (!m_state->running)
        return;
    m_state->running = false;
    emit cancelled();
}

bool RunController::isRunning() const
{
    return m_state->running;
}

LiveSnapshot RunController::snapshot() const
{
    std::lock_guard lock(m_state->mutex);
    return m_state->live;
}

void RunController::startNextVariant() {}
void RunController::onVariantDone() {}
void RunController::onVariantFailed(const QString &) {}
void RunController::onTick() {}
void RunController::finish() {}

} // namespace edgesse::sim
