// Entry of the bundled CLI (scripts/gpu-bundle.mjs): the same main() that bin/moescope.mjs runs via tsx.
import { main } from '../cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
