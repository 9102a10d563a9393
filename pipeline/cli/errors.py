"""The code of every failure the CLI reports (pipeline/codes.py), and the exit status it implies."""

from pipeline import codes
from pipeline.brief import BriefError
from pipeline.ids import InvalidProjectId
from pipeline.launch.client import ClientError
from pipeline.launch.guard import ProjectBusy
from pipeline.objects.s3 import StoreUnavailable
from pipeline.workers.settings import SettingsError

REPORTED = (BriefError, ProjectBusy, InvalidProjectId, ClientError, SettingsError, StoreUnavailable)


def error_code(error: BaseException) -> str:
    if isinstance(error, ProjectBusy):
        return "PROJECT_BUSY"
    if isinstance(error, InvalidProjectId):
        return "PROJECT_ID_INVALID"
    if isinstance(error, SettingsError):
        return "SETTINGS_INVALID"
    if isinstance(error, StoreUnavailable):
        return "STORAGE_UNAVAILABLE"
    if isinstance(error, (BriefError, ClientError)):
        return error.code
    return "STEP_FAILED"


def exit_status(code: str) -> int:
    return codes.describe(code).exit_status
