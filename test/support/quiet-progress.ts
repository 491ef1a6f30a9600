/**
 * Test setup (vitest.config.mts): provider progress lines reach the terminal only while a
 * test looks at them, i.e. while something has replaced `process.stderr.write` (the
 * `captureStderr` fixture, the reliability lanes). Others are kept here, so a skip or a
 * failure is not buried under hundreds of "creating… running" lines.
 * GPU_CLOUD_TEST_PROGRESS=1 prints them all.
 */
import { setProgressOutput } from "../../src/core/provider";

const pristine = process.stderr.write;
/** A capture that ended by putting back `write.bind(process.stderr)` has ended all the same. */
const isPristine = (w: typeof pristine): boolean => w === pristine || (w.name === `bound ${pristine.name}` && w.name !== "bound ");
/** Progress lines no test looked at, in order. */
export const unseenProgress: string[] = [];

setProgressOutput((text) => {
  if (!isPristine(process.stderr.write) || process.env.GPU_CLOUD_TEST_PROGRESS) process.stderr.write(text);
  else unseenProgress.push(text);
});
