"""JUnit XML: one test case per migration file, failed when it has a finding at the threshold.

Names and messages may hold characters XML 1.0 cannot (a control character in a quoted
identifier); `ElementTree` would write them raw and the file would not parse, so every string
goes through `xml_safe` first.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

from pgpreflight.linter.findings import Finding, at_least
from pgpreflight.linter.printable import xml_safe
from pgpreflight.linter.report import RenderOptions
from pgpreflight.linter.result import RunResult


def render(result: RunResult, options: RenderOptions) -> str:
    files = [s.display for m in result.reported_migrations() for s in m.sources]
    by_file: dict[str, list[Finding]] = {f: [] for f in dict.fromkeys(files)}
    for f in result.findings:
        by_file.setdefault(f.path, []).append(f)
    suites = ET.Element("testsuites", name="pgpreflight")
    suite = ET.SubElement(suites, "testsuite", name="pgpreflight")
    failures = 0
    for path, findings in by_file.items():
        shown = xml_safe(path)
        case = ET.SubElement(suite, "testcase", classname="pgpreflight", name=shown, file=shown)
        failing = [f for f in findings if at_least(f.severity, options.fail_on)]
        lines = [
            xml_safe(f"{f.path}:{f.line}:{f.column}: {f.severity} {f.rule} {f.message}")
            for f in findings
        ]
        if failing:
            failures += 1
            first = failing[0]
            failure = ET.SubElement(
                case,
                "failure",
                message=xml_safe(
                    f"{len(failing)} finding(s) at or above '{options.fail_on}': "
                    f"{first.rule} {first.message}"
                ),
                type=first.rule,
            )
            failure.text = "\n".join(lines)
        elif lines:
            ET.SubElement(case, "system-out").text = "\n".join(lines)
    suite.set("tests", str(len(by_file)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suites.set("tests", str(len(by_file)))
    suites.set("failures", str(failures))
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )
