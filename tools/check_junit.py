"""Fails a test run that skipped, xfailed or ran no test (pytest exits 0 for those).

Usage: python tools/check_junit.py build/junit.xml
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET


def main(path: str) -> int:
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    total = sum(int(s.get("tests", "0")) for s in suites)
    skipped = [
        f"{case.get('classname')}::{case.get('name')}: {skip.get('message', '')}"
        for case in root.iter("testcase")
        for skip in case.findall("skipped")
    ]
    if total == 0:
        print("check_junit: no test ran", file=sys.stderr)
        return 1
    if skipped:
        print(f"check_junit: {len(skipped)} test(s) skipped, which counts as failing:")
        for line in skipped:
            print(f"  {line}")
        return 1
    print(f"check_junit: {total} tests ran, none skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
