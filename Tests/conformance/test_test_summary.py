"""scripts/test-crash-summary: what a failed Swift run's log boils down to, at the end where CI's tail shows it."""
import os
import subprocess

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")

LOG = """\
◇ Test "a key is passed by the cursor and kept" started.
✔ Test "a key is passed by the cursor and kept" passed after 1.022 seconds.
◇ Test "statuses" started.
◇ Test case passing 1 argument status → 503 to "statuses" started.
✔ Test case passing 1 argument status → 503 to "statuses" passed after 0.1 seconds.
✔ Test "statuses" with 1 test case passed after 0.1 seconds.
◇ Test sharedKeyLite() started.
✔ Test sharedKeyLite() passed after 0.001 seconds.
◇ Test "quotas hold" started.
✘ Test "quotas hold" recorded an issue at QuotaTests.swift:42:9: Expectation failed: (held → 3) == 2
✘ Test "quotas hold" failed after 2.5 seconds with 1 issue.
◇ Test "never finishes" started.
💣 Program crashed: Bad pointer dereference at 0x0000000000000000
Thread 3 crashed:
0 CurlTransport.loop() in ipamPackageTests.xctest
error: Exited with unexpected signal code 11
"""


def _summary(tmp_path, text):
    log = tmp_path / "swift-test.log"
    log.write_text(text)
    script = os.path.join(ROOT, "scripts", "test-crash-summary")
    return subprocess.run([script, str(log)], capture_output=True, text=True, check=True).stdout.splitlines()


def test_a_passing_log_names_nothing(tmp_path):
    passing = "\n".join(line for line in LOG.splitlines()[:8])
    assert _summary(tmp_path, passing) == ["---- swift test failure summary ----"]


def test_only_the_unfinished_test_is_named_and_failures_come_last(tmp_path):
    out = _summary(tmp_path, LOG)
    unfinished = out[out.index("started but not finished:") + 1:]
    unfinished = [line.strip() for line in unfinished if line.startswith("  ")]
    # Not the test whose name says "passed", not the parameterized one, not the failed one (it is under "failed:").
    assert unfinished == ["never finishes"]
    assert any("Thread 3 crashed" in line for line in out)
    assert any("Exited with unexpected signal code 11" in line for line in out)
    assert out[-3] == "failed:"
    assert out[-2].startswith('✘ Test "quotas hold" recorded an issue at QuotaTests.swift:42:9')
    assert out[-1].startswith('✘ Test "quotas hold" failed after')
