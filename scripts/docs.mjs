// Writes the man pages (dist/man/) and the shell completions
// (dist/completion/) from the program's own option and command tables, as
// compiled by tsc into dist/ (src/docs/build.ts). Run by `npm run build`
// after tsc, so the published package ships them and needs no build.
import { writeGeneratedFiles } from '../dist/docs/build.js';

writeGeneratedFiles('dist');
