"""Security-header grading exactly as the MDN HTTP Observatory grades (v1.6.3, algorithm 5).

Pure: ``grade_headers(header_lines, ScanContext)`` makes no request, so a scan we ran and a scan
recorded from the Observatory are graded by the same code and must agree. Where we know better than
the Observatory we say so in ``Grading.warnings`` and never in the score, so the grade stays
comparable with the one people look up on the Observatory's site.
"""

from aikinklab_ops.verify.observatory.grader import grade_headers, score_of
from aikinklab_ops.verify.observatory.model import (
    GRADES,
    OBSERVATORY_ORIGIN,
    SCORE_TABLE,
    TEST_NAMES,
    Finding,
    Grading,
    Hop,
    ScanContext,
    TestResult,
    case_headers,
    grade_at_least,
    grade_for_score,
)

__all__ = [
    "GRADES",
    "OBSERVATORY_ORIGIN",
    "SCORE_TABLE",
    "TEST_NAMES",
    "Finding",
    "Grading",
    "Hop",
    "ScanContext",
    "TestResult",
    "case_headers",
    "grade_at_least",
    "grade_for_score",
    "grade_headers",
    "score_of",
]
