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
    DEVICES_REVIEW = "devices_review"


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
    # a device offer's buttons; the value is the offer id (services/devices/cards.py)
    DEVICES_ATTACH = "devices_attach"
    DEVICES_REVIEW = "devices_review"
    DEVICES_NOT_MANAGED = "devices_not_managed"
    DEVICES_COMPLETE = "devices_complete"
    DEVICES_SNOOZE_DAY = "devices_snooze_day"
    DEVICES_SNOOZE_WEEK = "devices_snooze_week"
    DEVICES_CHOICE = "devices_choice"  # a device's service select in Review
