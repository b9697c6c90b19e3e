#pragma once

#include <QWidget>

class QListWidget;

namespace edgesse::gui {

struct VariantEntry
{
    QString name;
    QString summary; // e.g. "edge · http2 · heartbeat 15s"
};

// The scenario's variants with a check box each: which of them Run runs. Checks survive
// re-validation for the names that still exist; new variants arrive checked.
class VariantList final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(VariantList)

public:
    explicit VariantList(QWidget *parent = nullptr);

    void setVariants(const QList<VariantEntry> &variants);
    // Forgets the variants (and their checks): another document was opened.
    void reset();
    QStringList checkedVariants() const;
    QStringList allVariants() const;
    void setChecked(const QString &name, bool checked);
    QListWidget *list() const { return m_list; }

signals:
    void selectionChanged();

private:
    QListWidget *m_list = nullptr;
};

} // namespace edgesse::gui
