"""The product: onboarding, reminders, Autotask, storage, i18n. No chat platform in here."""
