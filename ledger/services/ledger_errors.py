"""The refusals of the ledger, membership and invitation services: a code and a message the API
renders in its one error format, with the HTTP status that fits."""


class LedgerRuleError(Exception):
    status = 400

    def __init__(self, code: str, message: str, *, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status


PERSONAL_NOT_DELETABLE = "A personal ledger cannot be deleted."
PERSONAL_NOT_SHARED = (
    "A personal ledger cannot be shared: create a shared ledger and invite members to it."
)
LAST_OWNER = "A ledger must keep at least one owner: make another member owner first."
