#include "app/gui/theme.h"

#include <QApplication>
#include <QPainter>
#include <QProxyStyle>
#include <QStyleFactory>
#include <QStyleOption>

namespace edgesse::gui {

namespace {

// The colours a scheme picks; makePalette() assigns them to the palette's roles.
struct SchemeColors {
    QColor window;
    QColor text; // WindowText, ToolTipText, Text and ButtonText
    QColor base;
    QColor alternateBase;
    QColor toolTipBase;
    QColor placeholderText;
    QColor button;
    QColor brightText;
    QColor light;
    QColor midlight;
    QColor mid;
    QColor dark;
    QColor shadow;
    QColor highlight;
    QColor link;
    QColor linkVisited;
    QColor disabledText; // Text, WindowText and ButtonText when disabled
};

QPalette makePalette(const SchemeColors &c)
{
    QPalette p;
    p.setColor(QPalette::Window, c.window);
    p.setColor(QPalette::WindowText, c.text);
    p.setColor(QPalette::Base, c.base);
    p.setColor(QPalette::AlternateBase, c.alternateBase);
    p.setColor(QPalette::ToolTipBase, c.toolTipBase);
    p.setColor(QPalette::ToolTipText, c.text);
    p.setColor(QPalette::PlaceholderText, c.placeholderText);
    p.setColor(QPalette::Text, c.text);
    p.setColor(QPalette::Button, c.button);
    p.setColor(QPalette::ButtonText, c.text);
    p.setColor(QPalette::BrightText, c.brightText);
    p.setColor(QPalette::Light, c.light);
    p.setColor(QPalette::Midlight, c.midlight);
    p.setColor(QPalette::Mid, c.mid);
    p.setColor(QPalette::Dark, c.dark);
    p.setColor(QPalette::Shadow, c.shadow);
    p.setColor(QPalette::Highlight, c.highlight);
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, c.link);
    p.setColor(QPalette::LinkVisited, c.linkVisited);
    p.setColor(QPalette::Disabled, QPalette::Text, c.disabledText);
    p.setColor(QPalette::Disabled, QPalette::WindowText, c.disabledText);
    p.setColor(QPalette::Disabled, QPalette::ButtonText, c.disabledText);
    return p;
}

QPalette lightPalette()
{
    return makePalette({
        .window = QColor(0xf3, 0xf4, 0xf6),
        .text = QColor(0x1f, 0x23, 0x28),
        .base = QColor(0xff, 0xff, 0xff),
        .alternateBase = QColor(0xf6, 0xf8, 0xfa),
        .toolTipBase = QColor(0xff, 0xff, 0xff),
        .placeholderText = QColor(0x8c, 0x95, 0x9f),
        .button = QColor(0xf6, 0xf8, 0xfa),
        .brightText = Qt::white,
        .light = Qt::white,
        .midlight = QColor(0xea, 0xee, 0xf2),
        .mid = QColor(0xd0, 0xd7, 0xde),
        .dark = QColor(0xaf, 0xb8, 0xc1),
        .shadow = QColor(0x8c, 0x95, 0x9f),
        .highlight = QColor(0x21, 0x6e, 0xdf),
        .link = QColor(0x09, 0x69, 0xda),
        .linkVisited = QColor(0x82, 0x50, 0xdf),
        .disabledText = QColor(0x8c, 0x95, 0x9f),
    });
}

QPalette darkPalette()
{
    return makePalette({
        .window = QColor(0x1e, 0x22, 0x28),
        .text = QColor(0xe6, 0xed, 0xf3),
        .base = QColor(0x16, 0x1a, 0x1f),
        .alternateBase = QColor(0x21, 0x26, 0x2d),
        .toolTipBase = QColor(0x2d, 0x33, 0x3b),
        .placeholderText = QColor(0x7d, 0x85, 0x90),
        .button = QColor(0x2a, 0x30, 0x37),
        .brightText = QColor(0xff, 0x7b, 0x72),
        .light = QColor(0x3d, 0x44, 0x4d),
        .midlight = QColor(0x33, 0x39, 0x41),
        .mid = QColor(0x2a, 0x30, 0x37),
        .dark = QColor(0x10, 0x13, 0x17),
        .shadow = QColor(0x05, 0x06, 0x08),
        .highlight = QColor(0x2f, 0x81, 0xf7),
        .link = QColor(0x58, 0xa6, 0xff),
        .linkVisited = QColor(0xbc, 0x8c, 0xff),
        .disabledText = QColor(0x6e, 0x76, 0x81),
    });
}

// Fusion outlines a check box in the window colour darkened, which on a dark palette is the
// colour of the list behind it: an unchecked box disappears. This draws Fusion's box and then
// its outline again in the muted text colour, readable on either palette.
class ReadableFusionStyle final : public QProxyStyle
{
public:
    ReadableFusionStyle()
        : QProxyStyle(QStyleFactory::create(QStringLiteral("Fusion")))
    {
    }

    void drawPrimitive(PrimitiveElement element, const QStyleOption *option, QPainter *painter, const QWidget *widget) const override
    {
        QProxyStyle::drawPrimitive(element, option, painter, widget);
        if (element != PE_IndicatorCheckBox || (option->state & State_HasFocus && option->state & State_KeyboardFocusChange))
            return;
        painter->save();
        painter->setRenderHint(QPainter::Antialiasing, true);
        painter->translate(0.5, 0.5);
        painter->setPen(themeColors(option->palette).mutedText);
        painter->setBrush(Qt::NoBrush);
        painter->drawRect(QRectF(option->rect).adjusted(0, 0, -1, -1));
        painter->restore();
    }
};

} // namespace

bool isDarkPalette(const QPalette &palette)
{
    return palette.color(QPalette::Window).lightnessF() < palette.color(QPalette::WindowText).lightnessF();
}

ColorScheme applyColorScheme(QApplication &app, ColorScheme requested)
{
    // The platform's own palette, remembered before the first override replaces it.
    static const bool platformDark = isDarkPalette(QApplication::palette());
    ColorScheme scheme = requested;
    if (scheme == ColorScheme::System)
        scheme = platformDark ? ColorScheme::Dark : ColorScheme::Light;
    if (!dynamic_cast<ReadableFusionStyle *>(QApplication::style()))
        app.setStyle(new ReadableFusionStyle);
    app.setPalette(scheme == ColorScheme::Dark ? darkPalette() : lightPalette());
    return scheme;
}

ThemeColors themeColors(const QPalette &palette)
{
    ThemeColors c;
    c.dark = isDarkPalette(palette);
    c.text = palette.color(QPalette::Text);
    c.mutedText = c.dark ? QColor(0x8b, 0x94, 0x9e) : QColor(0x65, 0x6d, 0x76);
    c.canvas = palette.color(QPalette::Base);
    c.grid = c.dark ? QColor(0x2b, 0x31, 0x38) : QColor(0xea, 0xee, 0xf2);
    c.origin = c.dark ? QColor(0x58, 0xa6, 0xff) : QColor(0x21, 0x6e, 0xdf);
    c.pop = c.dark ? QColor(0xf0, 0xb7, 0x2f) : QColor(0xd0, 0x8a, 0x00);
    c.client = c.dark ? QColor(0x56, 0xd3, 0x64) : QColor(0x1a, 0x7f, 0x37);
    c.link = c.dark ? QColor(0x6e, 0x76, 0x81) : QColor(0x8c, 0x95, 0x9f);
    c.linkActive = c.dark ? QColor(0x79, 0xc0, 0xff) : QColor(0x09, 0x69, 0xda);
    c.reap = c.dark ? QColor(0xff, 0x7b, 0x72) : QColor(0xcf, 0x22, 0x2e);
    c.error = c.reap;
    c.warning = c.dark ? QColor(0xd2, 0x99, 0x22) : QColor(0x9a, 0x67, 0x00);
    c.ok = c.client;
    return c;
}

} // namespace edgesse::gui
