"""The API's JSON parser: DRF's, plus a 400 for JSON nested too deep to parse.

Python's `json` module recurses once per nesting level, so a body of 100,000 `[` raises
RecursionError (a 500 with DRF's parser). Such a body is not a ledger document: answer it like
any other malformed JSON.
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
