#include "app/gui/yamlhighlighter.h"

namespace edgesse::gui {

namespace {

QTextCharFormat charFormat(const QColor &color, bool bold = false, bool italic = false)
{
    QTextCharFormat f;
    f.setForeground(color);
    if (bold)
        f.setFontWeight(QFont::DemiBold);
    f.setFontItalic(italic);
    return f;
}

} // namespace

YamlHighlighter::YamlHighlighter(QTextDocument *document, bool dark)
    : QSyntaxHighlighter(document)
{
    buildRules(dark);
}

void YamlHighlighter::setDark(bool dark)
{
    buildRules(dark);
    rehighlight();
}

void YamlHighlighter::buildRules(bool dark)
{
    const QColor key = dark ? QColor(0x79, 0xc0, 0xff) : QColor(0x05, 0x50, 0xae);
    const QColor string = dark ? QColor(0xa5, 0xd6, 0xff) : QColor(0x0a, 0x30, 0x69);
    const QColor number = dark ? QColor(0xff, 0xa6, 0x57) : QColor(0x95, 0x38, 0x00);
    const QColor keyword = dark ? QColor(0xff, 0x7b, 0x72) : QColor(0xcf, 0x22, 0x2e);
    const QColor punctuation = dark ? QColor(0x8b, 0x94, 0x9e) : QColor(0x65, 0x6d, 0x76);
    const QColor anchor = dark ? QColor(0xd2, 0xa8, 0xff) : QColor(0x82, 0x50, 0xdf);
    const QColor comment = dark ? QColor(0x8b, 0x94, 0x9e) : QColor(0x6e, 0x77, 0x81);

    m_rules.clear();
    // Later rules win where they overlap: punctuation, scalars, then keys and strings.
    m_rules.push_back({QRegularExpression(QStringLiteral(R"([\[\]{},]|^\s*-(?=\s))")), charFormat(punctuation)});
    m_rules.push_back({QRegularExpression(
                           QStringLiteral(R"((?<![\w.-])-?\d+(?:\.\d+)?(?:ms|us|µs|s|m|h|B|KB|MB|GB|KiB|MiB|bps|Kbps|Mbps|Gbps|/s|/m|%)?(?![\w.-]))")),
                       charFormat(number)});
    m_rules.push_back({QRegularExpression(QStringLiteral(R"((?<![\w.-])(?:true|false|yes|no|on|off|null|~)(?![\w.-]))")),
                       charFormat(keyword)});
    m_rules.push_back({QRegularExpression(QStringLiteral(R"([&*][\w-]+)")), charFormat(anchor, false, true)});
    m_rules.push_back({QRegularExpression(QStringLiteral(R"(^---|^\.\.\.)")), charFormat(punctuation, true)});
    // Block keys (`name:`, `- name:`) and flow keys (`{ name: ...`, `, count: ...`).
    m_rules.push_back({QRegularExpression(QStringLiteral(R"((?:^\s*(?:-\s+)?|[{,]\s*)([\w.-]+)\s*:(?=\s|$))")),
                       charFormat(key, true), 1});
    m_rules.push_back({QRegularExpression(QStringLiteral(R"("(?:[^"\\]|\\.)*"|'(?:[^']|'')*')")), charFormat(string)});
    m_commentFormat = charFormat(comment, false, true);
}

void YamlHighlighter::highlightBlock(const QString &text)
{
    // A comment starts at a '#' that begins the line or follows whitespace outside quotes.
    qsizetype commentAt = -1;
    QChar quote;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text.at(i);
        if (!quote.isNull()) {
            if (c == quote)
                quote = QChar();
            continue;
        }
        if (c == u'"' || c == u'\'') {
            quote = c;
        } else if (c == u'#' && (i == 0 || text.at(i - 1).isSpace())) {
            commentAt = i;
            break;
        }
    }
    const QString code = commentAt >= 0 ? text.left(commentAt) : text;
    for (const Rule &rule : m_rules) {
        auto it = rule.pattern.globalMatch(code);
        while (it.hasNext()) {
            const auto match = it.next();
            setFormat(int(match.capturedStart(rule.group)), int(match.capturedLength(rule.group)), rule.format);
        }
    }
    if (commentAt >= 0)
        setFormat(int(commentAt), int(text.size() - commentAt), m_commentFormat);
}

} // namespace edgesse::gui
