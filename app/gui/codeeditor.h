#pragma once

#include <QPlainTextEdit>

class QCompleter;

namespace edgesse::gui {

// A place in the text a diagnostic points at; line and column count from 1.
struct TextMark
{
    int line = 1;
    int column = 1;
    QString message;
};

// The scenario editor: a plain-text editor with line numbers, the current line shaded and
// diagnostics drawn as wavy underlines (and a marker in the gutter) at their lines.
class CodeEditor final : public QPlainTextEdit
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CodeEditor)

public:
    explicit CodeEditor(QWidget *parent = nullptr);

    void setMarks(const QList<TextMark> &marks);
    const QList<TextMark> &marks() const { return m_marks; }

    // Moves the cursor to line:column (from 1), scrolls it into view and focuses the editor.
    void goTo(int line, int column);
    // Replaces the first `wrong` at or after line:column on that line (one undo step);
    // false when the line no longer holds it.
    bool replaceAt(int line, int column, const QString &wrong, const QString &replacement);
    int cursorLine() const;
    int cursorColumn() const;

    void applyTheme();
    // Words offered as completions (keys and enum values of the schema): after two letters
    // of a word, or at once with Ctrl+Space.
    void setCompletions(const QStringList &words);
    QCompleter *completer() const { return m_completer; }

signals:
    // A .yaml file was dropped on the editor: it means "open this", not "insert its path".
    void fileDropped(const QString &path);

protected:
    bool canInsertFromMimeData(const QMimeData *source) const override;
    void insertFromMimeData(const QMimeData *source) override;
    void resizeEvent(QResizeEvent *event) override;
    bool event(QEvent *event) override;
    void changeEvent(QEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;

private:
    QString wordBeforeCursor() const;
    void insertCompletion(const QString &word);
    friend class LineNumberArea;
    int gutterWidth() const;
    void paintGutter(QPaintEvent *event);
    void updateGutterWidth();
    void updateGutter(const QRect &rect, int dy);
    void updateSelections();

    QWidget *m_gutter = nullptr;
    QCompleter *m_completer = nullptr;
    QList<TextMark> m_marks;
    QColor m_currentLine;
    QColor m_errorColor;
    QColor m_gutterText;
    QColor m_gutterBackground;
};

} // namespace edgesse::gui
