"""The loaded application: pages wired to the training service for the chosen trainee.

Created once the content and the database are open (after the window's first paint).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from app.core.records import Profile, TraineeProgress
from app.ui.dashboard import DashboardPage
from app.ui.home import HomePage
from app.ui.lesson_page import LessonPage
from app.ui.main_window import (
    DASHBOARD,
    HOME,
    LESSONS,
    MANAGER,
    PLAYER,
    PROBLEMS,
    ROOM,
    MainWindow,
)
from app.ui.manager_page import ManagerPage
from app.ui.markdown_view import UrlOpener, open_in_browser
from app.ui.notices import call_service, show_message
from app.ui.outbox_status import OutboxIndicator
from app.ui.player import Phase, PlayerPage
from app.ui.problems_page import ProblemsPage
from app.ui.profile_dialog import ProfileDialog, SwitchProfileDialog
from app.ui.progress_data import ProgressData, progress_data
from app.ui.room_page import RoomPage

if TYPE_CHECKING:
    from app.services.bootstrap import AppContext


class Workspace(QObject):
    """Adds the pages to the window and moves the trainee between them.

    Signals:
        profile_changed(object): a trainee profile (``Profile``) was selected.
        quit_requested(): the trainee declined to create a first profile.
    """

    profile_changed = Signal(object)
    quit_requested = Signal()

    def __init__(
        self,
        window: MainWindow,
        context: AppContext,
        *,
        open_url: UrlOpener = open_in_browser,
        rng: random.Random | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        """``now`` tells the time for the review schedule (tests move it forward)."""
        super().__init__(window)
        self.window = window
        self.context = context
        self.library = context.library
        self.training = context.training
        self.profile: Profile | None = None
        self.profile_dialog: ProfileDialog | SwitchProfileDialog | None = None
        self._pending_scenario: tuple[str, str] | None = None
        self._now = now or (lambda: datetime.now(UTC))

        self.home = HomePage(self.library)
        self.lessons = LessonPage(self.library, open_url=open_url)
        self.problems = ProblemsPage(self.library.problems)
        self.player = PlayerPage(
            self.library, self.training, open_url=open_url, rng=rng, recorder=context.recorder
        )
        self.dashboard = DashboardPage(self.library)
        self.manager_page = ManagerPage(context.manager, self.training, self.library)
        window.add_page(HOME, self.home)
        window.add_page(LESSONS, self.lessons)
        window.add_page(PROBLEMS, self.problems)
        window.add_page(PLAYER, self.player)
        window.add_page(DASHBOARD, self.dashboard)
        window.add_page(MANAGER, self.manager_page)
        from app.services.room import RoomService

        room = RoomService(context.database, self.library, context.settings)
        self.room_page = RoomPage(room, self.training, open_url=open_url)
        window.add_page(ROOM, self.room_page)
        window.set_problem_count(len(self.library.problems))
        window.set_database_location(context.database.location)
        window.set_navigation_enabled(True)
        # With a team database: answers that waited for the server are sent from here on.
        sender = context.outbox_sender
        self.outbox_indicator = OutboxIndicator(window, sender) if sender is not None else None
        if self.outbox_indicator is not None:
            indicator = self.outbox_indicator
            indicator.answers_sent.connect(lambda _count: self.refresh())
            self.player.answer_recorded.connect(lambda *_ids: indicator.refresh())

        window.page_requested.connect(self.show_page)
        window.switch_profile_requested.connect(self.switch_profile)
        self.home.scenario_requested.connect(self.open_scenario)
        self.home.lesson_requested.connect(self.open_lesson)
        self.lessons.lesson_opened.connect(self._mark_read)
        self.player.home_requested.connect(self.go_home)
        self.player.scenario_requested.connect(self.open_scenario)
        # Switching the trainee ends any manager session (leaving the page does too).
        self.profile_changed.connect(lambda _profile: self.manager_page.lock())
        self.manager_page.profiles_archived.connect(self._profiles_archived)
        self.profile_changed.connect(self.room_page.set_profile)
        self.go_home()

    # Pages

    def show_page(self, key: str) -> None:
        """Bring a page to the front (refreshing the home page's marks first)."""
        if key == HOME:
            self.go_home()
            return
        if key == DASHBOARD:
            self.show_dashboard()
            return
        if key == MANAGER:
            self.player.leave()
        self.window.show_page(key)

    def show_dashboard(self) -> None:
        """Show "My progress" for the trainee, with fresh numbers."""
        self.player.leave()
        self.refresh_dashboard()
        self.window.show_page(DASHBOARD)
        self.dashboard.focus_first_chart()

    def go_home(self) -> None:
        """Show the home page with fresh progress."""
        self.player.leave()
        self.refresh()
        self.window.show_page(HOME)
        self.home.tree.setFocus()

    def refresh(self) -> None:
        """Re-read the trainee's progress and mark it on the home and lesson pages."""
        profile = self.profile
        if profile is None:
            self.home.show_progress(TraineeProgress(), [])
            self.home.show_review([])
            self.home.assignments.show_assignments([])
            self.lessons.set_read(())
            return
        progress = call_service(
            self.window, "read your progress", lambda: self.training.progress(profile)
        )
        tracks = call_service(
            self.window, "read your progress", lambda: self.training.track_progress(profile)
        )
        if progress is None or tracks is None:
            return
        self.home.show_progress(progress, tracks)
        self.lessons.set_read(progress.lessons_read)
        review = call_service(
            self.window,
            "read your review schedule",
            lambda: self.training.review_queue(profile, self._now()),
        )
        self.home.show_review(review or [])
        assignments = call_service(
            self.window,
            "read your assignments",
            lambda: self.training.assignments(profile, self._now()),
        )
        self.home.assignments.show_assignments(assignments or [])
        if self.window.current_page_key() == DASHBOARD:
            self.refresh_dashboard()

    def progress_data(self) -> ProgressData | None:
        """The dashboard's numbers for the trainee (``None`` without one, or on error)."""
        profile = self.profile
        if profile is None:
            return None
        training, library = self.training, self.library

        def load() -> ProgressData:
            return progress_data(
                profile.display_name,
                training.history(profile).counted_answers(),
                training.metrics(profile),
                training.baseline_followup(profile),
                library,
            )

        return call_service(self.window, "read your progress", load)

    def refresh_dashboard(self) -> None:
        """Re-read the trainee's answers into the dashboard's charts."""
        data = self.progress_data()
        if data is not None:
            self.dashboard.show_data(data)

    def open_scenario(self, scenario_id: str, track_id: str = "") -> bool:
        """Open the player on a scenario; tell the trainee when there is no such one."""
        scenario = self.library.scenarios.get(scenario_id)
        if scenario is None:
            show_message(
                self.window,
                f"There is no scenario with the id “{scenario_id}”.",
                "Pick a scenario from the catalogue on the home page. If it should be there, "
                "check the Content problems page: its file may have been skipped.",
            )
            return False
        if self.profile is None:
            self._pending_scenario = (scenario_id, track_id)
            self.ask_for_profile()
            return True
        self.player.start(scenario, self.profile, track_id or None)
        self.window.show_page(PLAYER)
        return True

    def open_lesson(self, lesson_id: str) -> bool:
        """Show a lesson in the reader (which marks it read)."""
        self.window.show_page(LESSONS)
        opened = self.lessons.show_lesson(lesson_id)
        if opened:
            self.lessons.reader.setFocus()
        return opened

    def _mark_read(self, lesson_id: str) -> None:
        profile = self.profile
        if profile is None:
            return
        call_service(
            self.window,
            "mark the lesson read",
            lambda: self.training.mark_lesson_read(profile, lesson_id),
        )
        self.refresh()

    # Profiles

    def set_profile(self, profile: Profile) -> None:
        """Make ``profile`` the trainee, remembered for the next start."""
        if self.player.phase is not Phase.IDLE and self.profile != profile:
            self.go_home()
        self.profile = profile
        call_service(
            self.window, "remember the profile", lambda: self.training.select_profile(profile)
        )
        self.window.set_trainee(profile.display_name)
        self.refresh()
        self.profile_changed.emit(profile)
        pending, self._pending_scenario = self._pending_scenario, None
        if pending is not None:
            self.open_scenario(*pending)

    def _profiles_archived(self, profiles: tuple[Profile, ...]) -> None:
        """After "Start the next group": an archived trainee is no longer selected."""
        if self.profile is not None and self.profile.id in {p.id for p in profiles}:
            self.profile = None
            self.window.set_trainee(None)
            self.refresh()

    def select_profile_named(self, name: str) -> Profile | None:
        """Select the trainee with this name, creating the profile when it is missing."""
        profile = call_service(
            self.window, "open the profile", lambda: self.training.get_or_create_profile(name)
        )
        if profile is not None:
            self.set_profile(profile)
        return profile

    def restore_last_profile(self) -> Profile | None:
        """Select the trainee used last time, if there is one."""
        profile = call_service(self.window, "read the profiles", self.training.last_profile)
        if profile is not None:
            self.set_profile(profile)
        return profile

    def ask_for_profile(self) -> ProfileDialog:
        """Ask for a first profile; declining quits, since answers need a trainee."""
        dialog = ProfileDialog(self.training, first_start=True, parent=self.window)
        dialog.accepted.connect(lambda: self._dialog_done(dialog.profile))
        dialog.rejected.connect(self.quit_requested)
        dialog.finished.connect(dialog.deleteLater)
        self.profile_dialog = dialog
        dialog.open()
        return dialog

    def switch_profile(self) -> SwitchProfileDialog | None:
        """Let the trainee pick another profile or create one."""
        dialog = call_service(
            self.window,
            "read the profiles",
            lambda: SwitchProfileDialog(self.training, self.profile, parent=self.window),
        )
        if dialog is None:
            return None
        dialog.accepted.connect(lambda: self._dialog_done(dialog.profile))
        dialog.finished.connect(dialog.deleteLater)
        self.profile_dialog = dialog
        dialog.open()
        return dialog

    def _dialog_done(self, profile: Profile | None) -> None:
        self.profile_dialog = None
        if profile is not None:
            self.set_profile(profile)
