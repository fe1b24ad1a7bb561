from tests.handlers.observations.test_observe_dialogs import org  # noqa: F401  # shared by the test files here
