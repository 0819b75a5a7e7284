"""Stable Slack ids: callback ids and action ids. Input block ids are the form's question ids."""

from __future__ import annotations

from enum import StrEnum

COMMAND = "/onboard"


class Callback(StrEnum):
    PAGE = "onboard_page"
    REVIEW = "onboard_review"
    LOADING = "onboard_loading"
    RESUME = "onboard_resume"
    DONE = "onboard_done"
    HANDOVER = "reminder_handover"


class Action(StrEnum):
    BACK = "nav_back"
    RESUME_DRAFT = "draft_resume"
    NEW_DRAFT = "draft_new"
    RETRY = "run_retry"
    CANCEL = "run_cancel"
    OPEN_AUTOTASK = "open_autotask"
    HOME_RESUME = "home_resume"
    HOME_RETRY = "home_retry"
    REMINDER_CHECK = "reminder_check"
    REMINDER_SNOOZE_DAY = "reminder_snooze_day"
    REMINDER_SNOOZE_WEEK = "reminder_snooze_week"
    REMINDER_NOT_MINE = "reminder_not_mine"
