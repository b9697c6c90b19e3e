#pragma once

#include <QWidget>

class QLineEdit;
class QPlainTextEdit;

namespace edgesse::gui {

// Find and Replace over an editor, as a bar under it: Enter finds the next match,
// Shift+Enter the previous one, Esc closes the bar and returns to the text.
class FindBar final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FindBar)

public:
    explicit FindBar(QPlainTextEdit *editor, QWidget *parent = nullptr);

    // Shows the bar with the selection (or the last search) and focuses the search field.
    void showFind(bool withReplace);
    bool findNext(bool backwards = false);
    int replaceAll();
    QLineEdit *findField() const { return m_find; }
    QLineEdit *replaceField() const { return m_replace; }

protected:
    void keyPressEvent(QKeyEvent *event) override;

private:
    void replaceOne();

    QPlainTextEdit *m_editor = nullptr;
    QLineEdit *m_find = nullptr;
    QLineEdit *m_replace = nullptr;
    QWidget *m_replaceRow = nullptr;
};

} // namespace edgesse::gui
