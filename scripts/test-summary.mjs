// Prints one closing line from vitest's JSON report: "tests: N passed, N failed, N skipped".
// Exits non-zero when any test failed or was skipped (a skipped test checks nothing), or none ran.
import { existsSync, readFileSync } from 'node:fs';

const REPORT = 'test-results/vitest.json';
if (!existsSync(REPORT)) {
  console.log('tests: 0 passed, 1 failed (no test report: the type check or test setup failed before any test ran)');
  process.exit(1);
}
const report = JSON.parse(readFileSync(REPORT, 'utf8'));
const passed = report.numPassedTests ?? 0;
// A file that fails before its tests run (import error, failing hook) counts as one failure.
const failedTests = report.numFailedTests ?? 0;
const failed = failedTests > 0 ? failedTests : (report.numFailedTestSuites ?? 0);
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || skipped > 0 || passed === 0 || report.success === false ? 1 : 0);
