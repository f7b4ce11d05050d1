"""Anchor for the start-up benchmark: a bare PySide6 window that quits on its first paint.

It prints the same first-paint marker as ``thinktwice`` does when the environment
variable THINKTWICE_FIRST_PAINT_MARKER is set, so both are measured the same way.
"""

import resource
import sys

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow


class _QuitOnFirstPaint(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            print(f"first-paint rss_kb={rss_kb}", flush=True)
            QTimer.singleShot(0, QApplication.quit)
            watched.removeEventFilter(self)
        return False


def main() -> int:
    app = QApplication(sys.argv)
    window = QMainWindow()
    window.setWindowTitle("hello")
    window.setCentralWidget(QLabel("Hello"))
    watcher = _QuitOnFirstPaint()
    window.installEventFilter(watcher)
    window.resize(800, 600)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
