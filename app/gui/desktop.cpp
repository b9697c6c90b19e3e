#include "app/gui/desktop.h"

#include "app/gui/mainwindow.h"
#include "app/gui/theme.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QIcon>
#include <QSettings>

// Resources compiled into the static library are registered by name, from the global namespace.
static void initResources()
{
    Q_INIT_RESOURCE(edgesse);
}

namespace edgesse::gui {

int runDesktop(int argc, char *argv[])
{
    QApplication app(argc, argv);
    initResources();
    QApplication::setApplicationName(QStringLiteral("edgesse"));
    QApplication::setOrganizationName(QStringLiteral("EdgeSSE"));
    QApplication::setApplicationVersion(QStringLiteral(EDGESSE_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("edgesse"));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/edgesse/icons/edgesse.svg")));
    applyColorScheme(app, ColorScheme(QSettings().value(QStringLiteral("colorScheme"), int(ColorScheme::System)).toInt()));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("EdgeSSE: a desktop lab for real-time delivery over Server-Sent Events"));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("file"), QStringLiteral("A scenario (.yaml) to open"), QStringLiteral("[FILE.yaml]"));
    parser.process(app);

    MainWindow window;
    const QStringList files = parser.positionalArguments();
    if (!files.isEmpty())
        window.openFile(files.first());
    else
        window.restoreLastScenario();
    window.show();
    return app.exec();
}

} // namespace edgesse::gui
